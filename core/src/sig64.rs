//! Base64 (standard alphabet, padded) of a 256-byte RSA signature, and back.
//!
//! Signatures are public: they travel in the clear in `Authorization` and
//! `Wechatpay-Signature`. So this codec is table-driven and variable-time, unlike `base64ct`,
//! whose constant-time arithmetic costs about 3 ns a byte and, on a host, was most of the
//! non-RSA time of a query. Secrets never pass through here. Decoding is as strict as
//! `base64ct`'s: exactly 344 characters, `==` padding, zero trailing bits (the tests compare
//! the two on every kind of damage).

use crate::sign::{SIGNATURE_BASE64_LEN, SIGNATURE_LEN};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Marks a byte outside the alphabet.
const INVALID: u8 = 0xFF;

/// Byte -> 6-bit value, or [`INVALID`].
// Evaluated at compile time: an index out of bounds would fail the build, never a run.
#[allow(clippy::indexing_slicing)]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

fn enc(six: u8) -> u8 {
    ALPHABET
        .get(usize::from(six & 0x3F))
        .copied()
        .unwrap_or(b'=')
}

fn dec(c: u8) -> u8 {
    DECODE.get(usize::from(c)).copied().unwrap_or(INVALID)
}

/// Encodes `signature` into `out`: always 344 characters.
pub(crate) fn encode<'o>(
    signature: &[u8; SIGNATURE_LEN],
    out: &'o mut [u8; SIGNATURE_BASE64_LEN],
) -> &'o str {
    // Every byte written is ASCII from the alphabet or '='.
    core::str::from_utf8(encode_bytes(signature, out)).unwrap_or_default()
}

/// [`encode`], as bytes (for writers that check UTF-8 once, over more than this).
pub(crate) fn encode_bytes<'o>(
    signature: &[u8; SIGNATURE_LEN],
    out: &'o mut [u8; SIGNATURE_BASE64_LEN],
) -> &'o [u8; SIGNATURE_BASE64_LEN] {
    let (groups, last) = signature.split_at(SIGNATURE_LEN - 1);
    let (body, tail) = out.split_at_mut(SIGNATURE_BASE64_LEN - 4);
    for (src, dst) in groups.chunks_exact(3).zip(body.chunks_exact_mut(4)) {
        if let ([a, b, c], [w, x, y, z]) = (src, dst) {
            *w = enc(a >> 2);
            *x = enc((a << 4) | (b >> 4));
            *y = enc((b << 2) | (c >> 6));
            *z = enc(*c);
        }
    }
    if let ([a], [w, x, y, z]) = (last, tail) {
        *w = enc(a >> 2);
        *x = enc(a << 4);
        *y = b'=';
        *z = b'=';
    }
    out
}

/// Decodes exactly 344 characters into 256 bytes; `None` for anything else.
pub(crate) fn decode(text: &str) -> Option<[u8; SIGNATURE_LEN]> {
    let text: &[u8; SIGNATURE_BASE64_LEN] = text.as_bytes().try_into().ok()?;
    let mut out = [0u8; SIGNATURE_LEN];
    let (body, tail) = text.split_at(SIGNATURE_BASE64_LEN - 4);
    let (groups, last) = out.split_at_mut(SIGNATURE_LEN - 1);
    let mut bad = 0u8;
    for (src, dst) in body.chunks_exact(4).zip(groups.chunks_exact_mut(3)) {
        if let ([w, x, y, z], [a, b, c]) = (src, dst) {
            let (w, x, y, z) = (dec(*w), dec(*x), dec(*y), dec(*z));
            bad |= w | x | y | z;
            *a = (w << 2) | (x >> 4);
            *b = (x << 4) | (y >> 2);
            *c = (y << 6) | z;
        }
    }
    let [w, x, b'=', b'='] = *tail else {
        return None;
    };
    let (w, x) = (dec(w), dec(x));
    // INVALID has the high bit set; a valid last character leaves no bits past the byte.
    if (bad | w | x) & 0x80 != 0 || x & 0x0F != 0 {
        return None;
    }
    if let [a] = last {
        *a = (w << 2) | (x >> 4);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64, Encoding};
    use proptest::prelude::*;
    use std::prelude::rust_2024::*;

    fn reference(text: &str) -> Option<[u8; SIGNATURE_LEN]> {
        let mut out = [0u8; SIGNATURE_LEN];
        match Base64::decode(text, &mut out) {
            Ok(d) if d.len() == SIGNATURE_LEN => Some(out),
            _ => None,
        }
    }

    fn signature(seed: &[u8]) -> [u8; SIGNATURE_LEN] {
        core::array::from_fn(|i| seed.get(i % seed.len().max(1)).copied().unwrap_or(0) ^ i as u8)
    }

    #[test]
    fn table() {
        #[rustfmt::skip]
        let cases: &[(&str, bool)] = &[
            ("", false),
            ("AAAA", false),
            ("WECHATPAY/SIGNTEST/", false),
        ];
        for (text, ok) in cases {
            assert_eq!(decode(text).is_some(), *ok, "{text}");
            assert_eq!(reference(text).is_some(), *ok, "{text}");
        }
        let all = [0xFFu8; SIGNATURE_LEN];
        let mut buf = [0u8; SIGNATURE_BASE64_LEN];
        let text = encode(&all, &mut buf).to_owned();
        assert!(text.ends_with("/w=="));
        assert_eq!(decode(&text), Some(all));
        assert_eq!(decode(&text.replace("/w==", "/x==")), None, "trailing bits");
        assert_eq!(decode(&text.replace("/w==", "/w=A")), None, "padding");
        assert_eq!(decode(&format!("{text} ")), None, "length");
    }

    proptest! {
        #[test]
        fn same_as_base64ct(seed in proptest::collection::vec(any::<u8>(), 1..64)) {
            let sig = signature(&seed);
            let mut ours = [0u8; SIGNATURE_BASE64_LEN];
            let mut theirs = [0u8; SIGNATURE_BASE64_LEN];
            let text = encode(&sig, &mut ours).to_owned();
            prop_assert_eq!(&text, Base64::encode(&sig, &mut theirs).unwrap_or_default());
            prop_assert_eq!(decode(&text), Some(sig));
        }

        #[test]
        fn damage_is_judged_like_base64ct(
            seed in proptest::collection::vec(any::<u8>(), 1..64),
            at in 0usize..SIGNATURE_BASE64_LEN,
            byte in any::<u8>(),
        ) {
            let sig = signature(&seed);
            let mut buf = [0u8; SIGNATURE_BASE64_LEN];
            let mut text = encode(&sig, &mut buf).as_bytes().to_vec();
            text[at] = byte;
            if let Ok(text) = core::str::from_utf8(&text) {
                prop_assert_eq!(decode(text), reference(text), "{}", text);
            }
        }
    }
}
