//! Standard base64 (RFC 4648 §4, padded), strict, for **public** data only: request and
//! response signatures and callback ciphertexts.
//!
//! Not constant-time, on purpose: nothing secret passes through here, and a table lookup is
//! several times cheaper than `base64ct`'s constant-time arithmetic on a Cortex-M (measured in
//! FIRMWARE.md). Decoding is strict: length a multiple of 4, `=` only as the last one or two
//! characters, and unused bits zero, so every byte string has exactly one accepted encoding.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Marks a byte that is not in the alphabet.
const INVALID: u8 = 0xFF;

/// Sextet of each byte, or [`INVALID`].
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range is a build error, not a panic"
)]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The text is not strict standard base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidBase64;

/// Length of the encoding of `len` bytes.
pub const fn encoded_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

fn symbol(sextet: u32) -> u8 {
    ALPHABET
        .get((sextet & 0x3F) as usize)
        .copied()
        .unwrap_or(b'A')
}

/// Encodes `input` into `out`; `None` when `out` is shorter than [`encoded_len`].
pub fn encode<'o>(input: &[u8], out: &'o mut [u8]) -> Option<&'o str> {
    let out = out.get_mut(..encoded_len(input.len()))?;
    for (src, dst) in input.chunks(3).zip(out.chunks_exact_mut(4)) {
        let b = |i: usize| u32::from(src.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        let quad = [
            symbol(n >> 18),
            symbol(n >> 12),
            if src.len() > 1 { symbol(n >> 6) } else { b'=' },
            if src.len() > 2 { symbol(n) } else { b'=' },
        ];
        dst.copy_from_slice(&quad);
    }
    core::str::from_utf8(out).ok()
}

/// Decodes `buf` in place and returns the length of the decoded bytes at its start.
pub fn decode_in_place(buf: &mut [u8]) -> Result<usize, InvalidBase64> {
    if !buf.len().is_multiple_of(4) {
        return Err(InvalidBase64);
    }
    let quads = buf.len() / 4;
    let mut written = 0;
    for q in 0..quads {
        let mut quad = [0u8; 4];
        quad.copy_from_slice(buf.get(q * 4..q * 4 + 4).ok_or(InvalidBase64)?);
        let last = q + 1 == quads;
        let padding = match quad {
            [_, _, b'=', b'='] if last => 2,
            [_, _, _, b'='] if last => 1,
            _ => 0,
        };
        let mut n = 0u32;
        for (i, byte) in quad.iter().enumerate() {
            let sextet = if i >= 4 - padding {
                0
            } else {
                match DECODE.get(usize::from(*byte)).copied() {
                    Some(s) if s != INVALID => u32::from(s),
                    _ => return Err(InvalidBase64),
                }
            };
            n = (n << 6) | sextet;
        }
        let bytes = n.to_be_bytes();
        let (kept, unused) = bytes.split_at(4 - padding);
        // `kept` is the 24-bit group's bytes (skip the high zero byte); unused bits must be 0.
        if unused.iter().any(|b| *b != 0) {
            return Err(InvalidBase64);
        }
        let decoded = kept.get(1..).ok_or(InvalidBase64)?;
        buf.get_mut(written..written + decoded.len())
            .ok_or(InvalidBase64)?
            .copy_from_slice(decoded);
        written += decoded.len();
    }
    Ok(written)
}

/// Decodes `text` into `out`; the decoded bytes, or an error when `text` is not strict base64
/// or `out` is too small.
pub fn decode<'o>(text: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], InvalidBase64> {
    // Decode a quad at a time through a small stack buffer, so `out` needs only the decoded size.
    if !text.len().is_multiple_of(4) {
        return Err(InvalidBase64);
    }
    let mut written = 0;
    let quads = text.len() / 4;
    for (q, chunk) in text.chunks_exact(4).enumerate() {
        let mut quad = [0u8; 4];
        quad.copy_from_slice(chunk);
        if q + 1 != quads && quad.contains(&b'=') {
            return Err(InvalidBase64);
        }
        let n = decode_in_place(&mut quad)?;
        out.get_mut(written..written + n)
            .ok_or(InvalidBase64)?
            .copy_from_slice(quad.get(..n).ok_or(InvalidBase64)?);
        written += n;
    }
    out.get(..written).ok_or(InvalidBase64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64, Encoding};
    use std::prelude::rust_2024::*;

    #[test]
    fn rfc4648_vectors() {
        for (plain, text) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = [0u8; 16];
            assert_eq!(encode(plain.as_bytes(), &mut out), Some(text));
            let mut buf = text.as_bytes().to_vec();
            let n = decode_in_place(&mut buf);
            assert_eq!(n.map(|n| &buf[..n]), Ok(plain.as_bytes()));
            let mut out = [0u8; 16];
            assert_eq!(decode(text.as_bytes(), &mut out), Ok(plain.as_bytes()));
        }
    }

    #[test]
    fn agrees_with_base64ct_on_every_length_and_byte() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in 0..data.len() {
            let input = &data[..len];
            let mut ours = vec![0u8; encoded_len(len)];
            let theirs = Base64::encode_string(input);
            assert_eq!(encode(input, &mut ours), Some(theirs.as_str()));
            let mut buf = theirs.clone().into_bytes();
            assert_eq!(
                decode_in_place(&mut buf).map(|n| buf[..n].to_vec()),
                Ok(input.to_vec())
            );
        }
    }

    #[test]
    fn strict() {
        for bad in [
            "Zg=", "Zg", "Z===", "Zg==Zg==", "Zh==", "Zm9=", "Zm 9", "Zm9v\n", "Zm9-", "=Zm9",
            "Zg=a",
        ] {
            let mut buf = bad.as_bytes().to_vec();
            assert_eq!(decode_in_place(&mut buf), Err(InvalidBase64), "{bad}");
            let mut out = [0u8; 16];
            assert_eq!(
                decode(bad.as_bytes(), &mut out),
                Err(InvalidBase64),
                "{bad}"
            );
            // base64ct agrees that these are invalid.
            assert!(Base64::decode_vec(bad).is_err(), "{bad}");
        }
        let mut small = [0u8; 2];
        assert_eq!(decode(b"Zm9v", &mut small), Err(InvalidBase64));
        assert_eq!(encode(b"foo", &mut small), None);
    }
}
