//! A writer into a caller buffer that keeps counting past the end, so the error can name the
//! exact size the whole output needs.

use crate::error::Error;

#[derive(Debug)]
pub(crate) struct CountingWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> CountingWriter<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        CountingWriter { buf, len: 0 }
    }

    /// Appends `bytes` if they fit; counts them either way.
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self
            .buf
            .get_mut(self.len..self.len.saturating_add(bytes.len()))
        {
            dst.copy_from_slice(bytes);
        }
        self.len = self.len.saturating_add(bytes.len());
    }

    /// Appends the base64 of `bytes` (written in place, no intermediate copy) if it fits;
    /// counts it either way.
    pub(crate) fn put_base64(&mut self, bytes: &[u8]) {
        let len = crate::base64::encoded_len(bytes.len());
        if let Some(dst) = self.buf.get_mut(self.len..self.len.saturating_add(len)) {
            crate::base64::encode_bytes(bytes, dst);
        }
        self.len = self.len.saturating_add(len);
    }

    /// The written text, or `BufferTooSmall { needed }` with the total length.
    pub(crate) fn finish_str(self) -> Result<&'b str, Error> {
        let CountingWriter { buf, len } = self;
        if len > buf.len() {
            return Err(Error::BufferTooSmall { needed: len });
        }
        core::str::from_utf8(buf.get(..len).unwrap_or_default()).map_err(|_| Error::InvalidInput {
            what: "output is not UTF-8",
        })
    }
}

/// Decimal digits of `value`, in a small stack buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    pub(crate) fn new(mut value: u64) -> Self {
        let mut digits = [b'0'; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            if let Some(d) = digits.get_mut(start) {
                // `value % 10` is below 10.
                *d = b'0' + (value % 10) as u8;
            }
            value /= 10;
            if value == 0 || start == 0 {
                break;
            }
        }
        Decimal { digits, start }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.digits.get(self.start..).unwrap_or_default()
    }

    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2024::*;

    #[test]
    fn decimal() {
        for (v, s) in [
            (0, "0"),
            (7, "7"),
            (1554208460, "1554208460"),
            (u64::MAX, "18446744073709551615"),
        ] {
            assert_eq!(Decimal::new(v).as_str(), s);
        }
    }
}
