//! The in-memory stream the example's HTTP client talks over: reads play back the prepared
//! response a TLS-record's worth at a time, writes are compared on the fly with the request the
//! host computed, so nothing has to be stored.

/// Largest read, like one TLS record's plaintext on a small device.
pub const MAX_READ: usize = 512;

/// See the module docs.
#[derive(Debug)]
pub struct Wire {
    reply: &'static [u8],
    expected: &'static [u8],
    written: usize,
    mismatch: bool,
}

impl Wire {
    /// A stream that answers with `reply` and expects exactly `expected` to be written.
    pub const fn new(reply: &'static [u8], expected: &'static [u8]) -> Self {
        Wire {
            reply,
            expected,
            written: 0,
            mismatch: false,
        }
    }

    /// True when the bytes written so far are exactly the expected request, all of it.
    pub fn request_matched(&self) -> bool {
        !self.mismatch && self.written == self.expected.len()
    }
}

impl embedded_io::ErrorType for Wire {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.reply.len()).min(MAX_READ);
        let (now, later) = self.reply.split_at(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(now);
        }
        self.reply = later;
        Ok(n)
    }
}

impl embedded_io::Write for Wire {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let end = self.written + buf.len();
        if self.expected.get(self.written..end) != Some(buf) {
            self.mismatch = true;
        }
        self.written = end;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
