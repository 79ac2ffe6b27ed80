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

fn enc(sextet: u8) -> u8 {
    ALPHABET
        .get(usize::from(sextet & 0x3F))
        .copied()
        .unwrap_or(b'=')
}

fn dec(c: u8) -> u8 {
    DECODE.get(usize::from(c)).copied().unwrap_or(INVALID)
}

/// Two characters for each 12-bit value: one lookup per half group on 64-bit hosts, where
/// 8 KiB of table costs nothing that matters (firmware keeps the 64-byte alphabet alone).
#[cfg(target_pointer_width = "64")]
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range is a build error, not a panic"
)]
const PAIRS: [[u8; 2]; 4096] = {
    let mut table = [[0u8; 2]; 4096];
    let mut i = 0;
    while i < 4096 {
        table[i] = [ALPHABET[i >> 6], ALPHABET[i & 0x3F]];
        i += 1;
    }
    table
};

/// The characters of the 12-bit value `v` (masked).
#[cfg(target_pointer_width = "64")]
fn pair(v: u64) -> [u8; 2] {
    PAIRS
        .get((v & 0xFFF) as usize)
        .copied()
        .unwrap_or([b'='; 2])
}

/// Encodes whole groups of three bytes, six bytes a step; returns how many input bytes it
/// consumed (the rest is left to the byte-wise loop).
#[cfg(target_pointer_width = "64")]
fn encode_wide(input: &[u8], out: &mut [u8]) -> usize {
    let mut done = 0;
    for (src, dst) in input.chunks_exact(6).zip(out.chunks_exact_mut(8)) {
        if let (&[a, b, c, d, e, f], Ok(dst)) = (src, <&mut [u8; 8]>::try_from(dst)) {
            let n = u64::from_be_bytes([0, 0, a, b, c, d, e, f]);
            let ([p, q], [r, s], [t, u], [v, w]) =
                (pair(n >> 36), pair(n >> 24), pair(n >> 12), pair(n));
            *dst = [p, q, r, s, t, u, v, w];
            done += 6;
        }
    }
    done
}

/// 32-bit targets (firmware): the byte-wise loop does all of it.
#[cfg(not(target_pointer_width = "64"))]
fn encode_wide(_: &[u8], _: &mut [u8]) -> usize {
    0
}

/// Encodes `input` into `out`; `None` when `out` is shorter than [`encoded_len`].
pub fn encode<'o>(input: &[u8], out: &'o mut [u8]) -> Option<&'o str> {
    let out = out.get_mut(..encoded_len(input.len()))?;
    encode_bytes(input, out)?;
    // Every byte written is ASCII from the alphabet or `=`.
    core::str::from_utf8(out).ok()
}

/// [`encode`] for a caller that validates the text it is part of once, as a whole: the
/// encoding's length, or `None` when `out` is shorter than [`encoded_len`].
pub(crate) fn encode_bytes(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let out = out.get_mut(..encoded_len(input.len()))?;
    let wide = encode_wide(input, out);
    let (input, rest_out) = (
        input.get(wide..).unwrap_or_default(),
        out.get_mut(wide / 3 * 4..).unwrap_or_default(),
    );
    let full = input.len() / 3 * 3;
    let (groups, rest) = input.split_at(full);
    let (body, tail) = rest_out.split_at_mut(full / 3 * 4);
    for (src, dst) in groups.chunks_exact(3).zip(body.chunks_exact_mut(4)) {
        if let ([a, b, c], [w, x, y, z]) = (src, dst) {
            *w = enc(a >> 2);
            *x = enc((a << 4) | (b >> 4));
            *y = enc((b << 2) | (c >> 6));
            *z = enc(*c);
        }
    }
    match (rest, tail) {
        ([a], [w, x, y, z]) => {
            (*w, *x, *y, *z) = (enc(a >> 2), enc(a << 4), b'=', b'=');
        }
        ([a, b], [w, x, y, z]) => {
            (*w, *x, *y, *z) = (enc(a >> 2), enc((a << 4) | (b >> 4)), enc(b << 2), b'=');
        }
        _ => {}
    }
    Some(out.len())
}

/// The bytes of the last quad, which may carry padding; `None` if it is not strict base64.
fn last_quad(quad: [u8; 4]) -> Option<([u8; 3], usize)> {
    let (sextets, len) = match quad {
        [w, x, b'=', b'='] => ([dec(w), dec(x), 0, 0], 1),
        [w, x, y, b'='] => ([dec(w), dec(x), dec(y), 0], 2),
        [w, x, y, z] => ([dec(w), dec(x), dec(y), dec(z)], 3),
    };
    let [w, x, y, z] = sextets;
    // INVALID has the high bit set; bits past the last byte must be zero.
    let unused = match len {
        1 => x & 0x0F,
        2 => y & 0x03,
        _ => 0,
    };
    if (w | x | y | z) & 0x80 != 0 || unused != 0 {
        return None;
    }
    Some((
        [(w << 2) | (x >> 4), (x << 4) | (y >> 2), (y << 6) | z],
        len,
    ))
}

/// Decodes `buf` in place and returns the length of the decoded bytes at its start.
pub fn decode_in_place(buf: &mut [u8]) -> Result<usize, InvalidBase64> {
    if !buf.len().is_multiple_of(4) {
        return Err(InvalidBase64);
    }
    let Some(full) = (buf.len() / 4).checked_sub(1) else {
        return Ok(0);
    };
    let mut bad = 0u8;
    // Quad q is read from 4q.. and written to 3q..: writes never overtake reads.
    for q in 0..full {
        let Some(&[w, x, y, z]) = buf.get(q * 4..q * 4 + 4) else {
            return Err(InvalidBase64);
        };
        let (w, x, y, z) = (dec(w), dec(x), dec(y), dec(z));
        bad |= w | x | y | z;
        if let Some([a, b, c]) = buf.get_mut(q * 3..q * 3 + 3) {
            (*a, *b, *c) = ((w << 2) | (x >> 4), (x << 4) | (y >> 2), (y << 6) | z);
        }
    }
    let mut quad = [0u8; 4];
    quad.copy_from_slice(buf.get(full * 4..).ok_or(InvalidBase64)?);
    let (bytes, len) = last_quad(quad).ok_or(InvalidBase64)?;
    if bad & 0x80 != 0 {
        return Err(InvalidBase64);
    }
    let written = full * 3 + len;
    buf.get_mut(full * 3..written)
        .ok_or(InvalidBase64)?
        .copy_from_slice(bytes.get(..len).ok_or(InvalidBase64)?);
    Ok(written)
}

/// The sextet of each byte placed for its position in a quad (`shift` 18, 12, 6 or 0), or
/// bit 31 for a byte outside the alphabet: a quad is four lookups and three ORs.
#[cfg(target_pointer_width = "64")]
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range is a build error, not a panic"
)]
const fn placed(shift: u32) -> [u32; 256] {
    let mut table = [1u32 << 31; 256];
    let mut i = 0;
    while i < 256 {
        if DECODE[i] != INVALID {
            table[i] = (DECODE[i] as u32) << shift;
        }
        i += 1;
    }
    table
}

#[cfg(target_pointer_width = "64")]
const PLACED: [[u32; 256]; 4] = [placed(18), placed(12), placed(6), placed(0)];

/// The entry of `table` for `byte` (always in range: the fallback only satisfies the lint).
#[cfg(target_pointer_width = "64")]
fn at(table: &[u32; 256], byte: u8) -> u32 {
    table.get(usize::from(byte)).copied().unwrap_or(1 << 31)
}

/// Decodes whole pairs of quads without padding (a last odd quad is left to the byte-wise
/// loop); returns how many characters it consumed and the OR of every lookup (bit 31 set when
/// a character was outside the alphabet). Two quads a step: their 48 bits are joined and
/// written as one 4-byte and one 2-byte store.
#[cfg(target_pointer_width = "64")]
fn decode_wide(text: &[u8], out: &mut [u8]) -> (usize, u32) {
    let [d0, d1, d2, d3] = &PLACED;
    let mut bad = 0;
    let mut done = 0;
    for (src, dst) in text.chunks_exact(8).zip(out.chunks_exact_mut(6)) {
        if let (&[w, x, y, z, w2, x2, y2, z2], Ok(dst)) = (src, <&mut [u8; 6]>::try_from(dst)) {
            let n = at(d0, w) | at(d1, x) | at(d2, y) | at(d3, z);
            let m = at(d0, w2) | at(d1, x2) | at(d2, y2) | at(d3, z2);
            bad |= n | m;
            // 24 bits each; bit 31 (a bad character) is already in `bad` and masked off here.
            let joined = (u64::from(n) << 24 | u64::from(m & 0x00FF_FFFF)) & 0xFFFF_FFFF_FFFF;
            let (high, low) = ((joined >> 16) as u32, joined as u16);
            if let Some((head, tail)) = dst.split_first_chunk_mut::<4>() {
                *head = high.to_be_bytes();
                if let Ok(tail) = <&mut [u8; 2]>::try_from(tail) {
                    *tail = low.to_be_bytes();
                }
            }
            done += 8;
        }
    }
    (done, bad)
}

/// 32-bit targets (firmware): the byte-wise loop does all of it.
#[cfg(not(target_pointer_width = "64"))]
fn decode_wide(_: &[u8], _: &mut [u8]) -> (usize, u32) {
    (0, 0)
}

/// Decodes `text` into `out`; the decoded bytes, or an error when `text` is not strict base64
/// or `out` is too small.
pub fn decode<'o>(text: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], InvalidBase64> {
    if !text.len().is_multiple_of(4) {
        return Err(InvalidBase64);
    }
    let Some(full) = (text.len() / 4).checked_sub(1) else {
        return Ok(&[]);
    };
    let (body, tail) = text.split_at(full * 4);
    let mut quad = [0u8; 4];
    quad.copy_from_slice(tail);
    let (bytes, len) = last_quad(quad).ok_or(InvalidBase64)?;
    let out = out.get_mut(..full * 3 + len).ok_or(InvalidBase64)?;
    let (groups, last) = out.split_at_mut(full * 3);
    let (wide, wide_bad) = decode_wide(body, groups);
    if wide_bad & (1 << 31) != 0 {
        return Err(InvalidBase64);
    }
    let body = body.get(wide..).unwrap_or_default();
    let groups = groups.get_mut(wide / 4 * 3..).unwrap_or_default();
    let mut bad = 0u8;
    for (src, dst) in body.chunks_exact(4).zip(groups.chunks_exact_mut(3)) {
        if let ([w, x, y, z], [a, b, c]) = (src, dst) {
            let (w, x, y, z) = (dec(*w), dec(*x), dec(*y), dec(*z));
            bad |= w | x | y | z;
            (*a, *b, *c) = ((w << 2) | (x >> 4), (x << 4) | (y >> 2), (y << 6) | z);
        }
    }
    if bad & 0x80 != 0 {
        return Err(InvalidBase64);
    }
    last.copy_from_slice(bytes.get(..len).ok_or(InvalidBase64)?);
    Ok(out)
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

    /// `decode` (the signature's path, with the wide loop on 64-bit hosts) against base64ct on
    /// every length up to 511 bytes, and a character outside the alphabet at every position
    /// of every text up to 128 characters refused.
    #[test]
    fn decode_agrees_with_base64ct_and_refuses_a_bad_byte_anywhere() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in 0..data.len() {
            let input = &data[..len];
            let text = Base64::encode_string(input);
            let mut out = vec![0u8; len];
            assert_eq!(decode(text.as_bytes(), &mut out), Ok(input), "{len}");
            if len > 0 {
                let mut short = vec![0u8; len - 1];
                assert_eq!(decode(text.as_bytes(), &mut short), Err(InvalidBase64));
            }
            if text.len() > 128 {
                continue;
            }
            for at in 0..text.len() {
                for bad in [b' ', b'-', b'_', b'*', b'\n', 0x7F, 0xC3, 0xFF] {
                    let mut broken = text.clone().into_bytes();
                    broken[at] = bad;
                    let mut out = vec![0u8; len];
                    assert_eq!(
                        decode(&broken, &mut out),
                        Err(InvalidBase64),
                        "{len} {at} {bad}"
                    );
                }
            }
        }
    }

    #[test]
    fn strict() {
        for bad in [
            "Zg=",
            "Zg",
            "Z===",
            "Zg==Zg==",
            "Zh==",
            "Zm9=",
            "Zm 9",
            "Zm9v\n",
            "Zm9-",
            "=Zm9",
            "Zg=a",
            // A bad character in an earlier quad (the wide loop on 64-bit hosts).
            "Zm 9Zm9v",
            "Z-9vZm9v",
            "Zm9vZm9vZ*9v",
            "=m9vZm9v",
            "Zm9\u{7f}Zm9v",
            "Zm\u{e9}Zm9v",
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
