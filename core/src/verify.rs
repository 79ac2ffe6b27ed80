//! Response (and callback) verification: `TIMESTAMP\nNONCE\nBODY\n` over the raw body bytes,
//! RSASSA-PKCS1-v1_5 / SHA-256 with the platform key that `Wechatpay-Serial` names, inside a
//! ±300 s window around the caller's clock.

use heapless::{String, Vec};
use sha2::{Digest, Sha256};

use crate::error::{Error, VerifyError};
use crate::sign::{AUTH_SCHEME, SERIAL_CAPACITY, SIGNATURE_LEN, Sha256Digest};
use crate::transport::{ResponseHeaders, header};

/// Largest accepted distance between `Wechatpay-Timestamp` and the caller's clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;
/// WeChat Pay's probe signatures start with this; they must fail verification.
pub const SIGNTEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// Checks an RSASSA-PKCS1-v1_5 signature over a SHA-256 prehash with one public key.
pub trait Verifier {
    /// True only when `signature` is valid for `digest`.
    fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool;
}

impl<V: Verifier + ?Sized> Verifier for &V {
    fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
        (**self).verify_prehash(digest, signature)
    }
}

/// A small set of `serial -> public key`, for key rotation and for a platform certificate
/// beside a `PUB_KEY_ID_…` during a migration. Serials are opaque and matched exactly.
#[derive(Debug, Clone)]
pub struct PlatformKeys<V, const N: usize = 2> {
    keys: Vec<(String<SERIAL_CAPACITY>, V), N>,
}

impl<V, const N: usize> Default for PlatformKeys<V, N> {
    fn default() -> Self {
        PlatformKeys { keys: Vec::new() }
    }
}

impl<V: Verifier, const N: usize> PlatformKeys<V, N> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set holding one key.
    pub fn with_key(serial: &str, key: V) -> Result<Self, Error> {
        let mut keys = Self::new();
        keys.insert(serial, key)?;
        Ok(keys)
    }

    /// Adds a key, or replaces the key of an equal serial.
    pub fn insert(&mut self, serial: &str, key: V) -> Result<(), Error> {
        let name = String::try_from(serial).map_err(|_| Error::TooLong {
            what: "platform serial",
            max: SERIAL_CAPACITY,
        })?;
        if serial.is_empty() {
            return Err(Error::InvalidInput {
                what: "platform serial is empty",
            });
        }
        if let Some(slot) = self.keys.iter_mut().find(|(s, _)| s.as_str() == serial) {
            slot.1 = key;
            return Ok(());
        }
        self.keys
            .push((name, key))
            .map_err(|_| Error::InvalidInput {
                what: "platform key set is full",
            })
    }

    /// Removes a key; true if it was there.
    pub fn remove(&mut self, serial: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|(s, _)| s.as_str() != serial);
        before != self.keys.len()
    }

    /// The key for `serial`.
    pub fn get(&self, serial: &str) -> Option<&V> {
        self.keys
            .iter()
            .find(|(s, _)| s.as_str() == serial)
            .map(|(_, k)| k)
    }

    /// Serials held, in insertion order.
    pub fn serials(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(s, _)| s.as_str())
    }
}

/// The digest of `TIMESTAMP\nNONCE\nBODY\n`, with the timestamp text exactly as received.
pub fn response_digest(timestamp: &str, nonce: &str, body: &[u8]) -> Sha256Digest {
    let mut hash = Sha256::new();
    for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        hash.update(part);
        hash.update(b"\n");
    }
    hash.finalize().into()
}

/// Parses `Wechatpay-Timestamp` and checks it against `now` (Unix seconds).
pub fn check_timestamp(timestamp: &str, now: i64) -> Result<i64, VerifyError> {
    if timestamp.is_empty()
        || timestamp.len() > 18
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(VerifyError::BadTimestamp);
    }
    let signed_at: i64 = timestamp.parse().map_err(|_| VerifyError::BadTimestamp)?;
    let skew = now.saturating_sub(signed_at);
    if skew.saturating_abs() > MAX_CLOCK_SKEW_SECS {
        return Err(VerifyError::ClockSkew { skew_secs: skew });
    }
    Ok(signed_at)
}

/// Decodes a `Wechatpay-Signature`: base64 of exactly 256 bytes; probes are named as such.
pub fn decode_signature(text: &str) -> Result<[u8; SIGNATURE_LEN], VerifyError> {
    let mut signature = [0u8; SIGNATURE_LEN];
    decode_signature_into(text, &mut signature)?;
    Ok(signature)
}

/// [`decode_signature`] into the caller's buffer: no copy of the 256 bytes through a
/// `Result` (a byte-wise copy on a Cortex-M4, as the array sits unaligned in it).
fn decode_signature_into(
    text: &str,
    signature: &mut [u8; SIGNATURE_LEN],
) -> Result<(), VerifyError> {
    if text.starts_with(SIGNTEST_PREFIX) {
        return Err(VerifyError::SignatureProbe);
    }
    match crate::base64::decode(text.as_bytes(), signature) {
        Ok(decoded) if decoded.len() == SIGNATURE_LEN => Ok(()),
        _ => Err(VerifyError::MalformedSignature),
    }
}

/// Verifies a response or callback: headers, time window, key by serial, raw body.
///
/// Only after `Ok` may `body` be parsed.
pub fn verify_response<V: Verifier, const N: usize>(
    keys: &PlatformKeys<V, N>,
    headers: &ResponseHeaders,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    if let Some(name) = headers.malformed {
        return Err(VerifyError::MalformedHeader { name });
    }
    let missing = |name| VerifyError::MissingHeader { name };
    let timestamp = headers
        .timestamp
        .as_deref()
        .ok_or(missing(header::TIMESTAMP))?;
    let nonce = headers.nonce.as_deref().ok_or(missing(header::NONCE))?;
    let signature = headers
        .signature
        .as_deref()
        .ok_or(missing(header::SIGNATURE))?;
    let serial = headers.serial.as_deref().ok_or(missing(header::SERIAL))?;
    if headers
        .signature_type
        .as_deref()
        .is_some_and(|kind| kind != AUTH_SCHEME)
    {
        return Err(VerifyError::UnsupportedSignatureType);
    }
    check_timestamp(timestamp, now)?;
    let mut decoded = [0u8; SIGNATURE_LEN];
    decode_signature_into(signature, &mut decoded)?;
    let key = keys.get(serial).ok_or(VerifyError::UnknownSerial)?;
    let digest = response_digest(timestamp, nonce, body);
    if key.verify_prehash(&digest, &decoded) {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64, Encoding};
    use heapless::String;
    use std::prelude::rust_2024::*;

    /// Accepts a signature whose bytes all equal the digest's first byte.
    struct Echo;
    impl Verifier for Echo {
        fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
            signature.iter().all(|b| *b == digest[0])
        }
    }

    const NOW: i64 = 1_554_208_460;

    fn signed(body: &[u8], timestamp: &str) -> ResponseHeaders {
        let digest = response_digest(timestamp, "nonce", body);
        let mut b64 = [0u8; 344];
        let sig = Base64::encode(&[digest[0]; 256], &mut b64)
            .unwrap_or_default()
            .to_owned();
        let mut h = ResponseHeaders::default();
        h.capture("Wechatpay-Timestamp", timestamp.as_bytes());
        h.capture("Wechatpay-Nonce", b"nonce");
        h.capture("Wechatpay-Signature", sig.as_bytes());
        h.capture("Wechatpay-Serial", b"PUB_KEY_ID_A");
        h
    }

    fn keys() -> PlatformKeys<Echo> {
        PlatformKeys::with_key("PUB_KEY_ID_A", Echo).unwrap_or_default()
    }

    #[test]
    fn skew_window() {
        #[rustfmt::skip]
        let cases: &[(i64, Result<(), VerifyError>)] = &[
            (0,    Ok(())),
            (299,  Ok(())),
            (-299, Ok(())),
            (300,  Ok(())),
            (-300, Ok(())),
            (301,  Err(VerifyError::ClockSkew { skew_secs: -301 })),
            (-301, Err(VerifyError::ClockSkew { skew_secs: 301 })),
        ];
        for (offset, want) in cases {
            let ts = (NOW + offset).to_string();
            let h = signed(b"{}", &ts);
            assert_eq!(verify_response(&keys(), &h, b"{}", NOW), *want, "{offset}");
        }
    }

    #[test]
    fn failures() {
        let h = signed(b"{}", "1554208460");
        assert_eq!(verify_response(&keys(), &h, b"{}", NOW), Ok(()));
        assert_eq!(
            verify_response(&keys(), &h, b"{ }", NOW),
            Err(VerifyError::BadSignature)
        );

        let mut other = h.clone();
        other.serial = String::try_from("PUB_KEY_ID_B").ok();
        assert_eq!(
            verify_response(&keys(), &other, b"{}", NOW),
            Err(VerifyError::UnknownSerial)
        );

        let mut probe = h.clone();
        probe.signature = String::try_from("WECHATPAY/SIGNTEST/abc==").ok();
        assert_eq!(
            verify_response(&keys(), &probe, b"{}", NOW),
            Err(VerifyError::SignatureProbe)
        );

        let mut junk = h.clone();
        junk.signature = String::try_from("not base64!").ok();
        assert_eq!(
            verify_response(&keys(), &junk, b"{}", NOW),
            Err(VerifyError::MalformedSignature)
        );

        let mut short = h.clone();
        short.signature = String::try_from("AAAA").ok();
        assert_eq!(
            verify_response(&keys(), &short, b"{}", NOW),
            Err(VerifyError::MalformedSignature)
        );

        let mut kind = h.clone();
        kind.signature_type = String::try_from("WECHATPAY2-SM2-WITH-SM3").ok();
        assert_eq!(
            verify_response(&keys(), &kind, b"{}", NOW),
            Err(VerifyError::UnsupportedSignatureType)
        );

        let mut no_ts = h.clone();
        no_ts.timestamp = None;
        assert_eq!(
            verify_response(&keys(), &no_ts, b"{}", NOW),
            Err(VerifyError::MissingHeader {
                name: "Wechatpay-Timestamp"
            })
        );

        let mut bad_ts = signed(b"{}", "+1554208460");
        bad_ts.timestamp = String::try_from("+1554208460").ok();
        assert_eq!(
            verify_response(&keys(), &bad_ts, b"{}", NOW),
            Err(VerifyError::BadTimestamp)
        );

        let mut repeated = h.clone();
        repeated.capture("wechatpay-signature", b"AAAA");
        assert_eq!(
            verify_response(&keys(), &repeated, b"{}", NOW),
            Err(VerifyError::MalformedHeader {
                name: "Wechatpay-Signature"
            })
        );
    }

    #[test]
    fn key_set_rotation() {
        let mut set: PlatformKeys<Echo, 2> = PlatformKeys::new();
        assert_eq!(
            set.insert("5157F09EFDC096DE15EBE81A47057A7232F1B8E1", Echo),
            Ok(())
        );
        assert_eq!(set.insert("PUB_KEY_ID_A", Echo), Ok(()));
        assert_eq!(set.insert("PUB_KEY_ID_A", Echo), Ok(()));
        assert!(set.insert("PUB_KEY_ID_C", Echo).is_err());
        let h = signed(b"{}", "1554208460");
        assert_eq!(verify_response(&set, &h, b"{}", NOW), Ok(()));
        assert!(set.remove("PUB_KEY_ID_A"));
        assert_eq!(
            verify_response(&set, &h, b"{}", NOW),
            Err(VerifyError::UnknownSerial)
        );
        assert_eq!(set.serials().count(), 1);
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        assert!(check_timestamp("999999999999999999", i64::MIN).is_err());
        assert!(check_timestamp("0", i64::MAX).is_err());
        assert_eq!(check_timestamp("0", 0), Ok(0));
    }
}
