//! RSA-2048 [`Signer`] and [`Verifier`] on the pure-Rust `rsa` crate (needs `alloc`).
//!
//! Keys load from PEM or DER: private keys as PKCS#8 (`apiclient_key.pem`) or PKCS#1
//! (`BEGIN RSA PRIVATE KEY`); public keys as SPKI (`BEGIN PUBLIC KEY`) or PKCS#1. The `rsa`
//! crate zeroizes private key material on drop, and `Debug` shows only the serial.

use core::fmt;

use heapless::String;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::hazmat::PrehashVerifier;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use sha2::Sha256;

use crate::nonce::RandomSource;
use crate::sign::{SERIAL_CAPACITY, SIGNATURE_LEN, Sha256Digest, Signer};
use crate::verify::Verifier;

/// Modulus size in bytes that WeChat Pay uses (RSA-2048).
pub const MODULUS_LEN: usize = SIGNATURE_LEN;

pub use super::KeyError;

/// Signing failed inside the `rsa` crate (or the blinding RNG failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignError;

/// The merchant API private key with its certificate serial.
pub struct RsaSigner {
    key: RsaPrivateKey,
    padding: Pkcs1v15Sign,
    serial_no: String<SERIAL_CAPACITY>,
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaSigner")
            .field("serial_no", &self.serial_no)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl RsaSigner {
    /// Loads a private key from PEM text (PKCS#8 or PKCS#1).
    pub fn from_pem(pem: &str, serial_no: &str) -> Result<Self, KeyError> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| KeyError::Unreadable)?;
        Self::from_key(key, serial_no)
    }

    /// Loads a private key from DER bytes (PKCS#8 or PKCS#1).
    pub fn from_der(der: &[u8], serial_no: &str) -> Result<Self, KeyError> {
        let key = RsaPrivateKey::from_pkcs8_der(der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(der))
            .map_err(|_| KeyError::Unreadable)?;
        Self::from_key(key, serial_no)
    }

    fn from_key(key: RsaPrivateKey, serial_no: &str) -> Result<Self, KeyError> {
        if key.size() != MODULUS_LEN {
            return Err(KeyError::WrongSize);
        }
        if serial_no.is_empty() {
            return Err(KeyError::BadSerial);
        }
        Ok(RsaSigner {
            key,
            padding: Pkcs1v15Sign::new::<Sha256>(),
            serial_no: String::try_from(serial_no).map_err(|_| KeyError::BadSerial)?,
        })
    }

    /// Signs with RSA blinding drawn from `random` (defence in depth against timing leaks).
    pub fn with_blinding<R: RandomSource>(self, random: R) -> BlindedRsaSigner<R> {
        BlindedRsaSigner {
            inner: self,
            random,
        }
    }
}

fn copy_signature(
    signature: rsa::errors::Result<alloc::vec::Vec<u8>>,
    out: &mut [u8; SIGNATURE_LEN],
) -> Result<(), SignError> {
    let bytes = signature.map_err(|_| SignError)?;
    if bytes.len() != SIGNATURE_LEN {
        return Err(SignError);
    }
    out.copy_from_slice(&bytes);
    Ok(())
}

impl Signer for RsaSigner {
    type Error = SignError;

    fn serial_no(&self) -> &str {
        &self.serial_no
    }

    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), SignError> {
        // Without an RNG the `rsa` crate signs unblinded; its big-integer arithmetic is
        // constant-time (crypto-bigint). `with_blinding` adds blinding on top.
        copy_signature(self.key.sign(self.padding.clone(), digest), out)
    }
}

/// An [`RsaSigner`] that blinds each private-key operation with fresh randomness.
pub struct BlindedRsaSigner<R> {
    inner: RsaSigner,
    random: R,
}

impl<R> fmt::Debug for BlindedRsaSigner<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindedRsaSigner")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<R: RandomSource> Signer for BlindedRsaSigner<R> {
    type Error = SignError;

    fn serial_no(&self) -> &str {
        self.inner.serial_no()
    }

    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), SignError> {
        let mut rng = RngBridge(&mut self.random);
        let padding = self.inner.padding.clone();
        copy_signature(self.inner.key.sign_with_rng(&mut rng, padding, digest), out)
    }
}

/// Lets a [`RandomSource`] feed the `rsa` crate's blinding.
struct RngBridge<'r, R>(&'r mut R);

/// The random source failed during blinding.
#[derive(Debug)]
struct RngFailed;

impl fmt::Display for RngFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("random source failed")
    }
}

impl core::error::Error for RngFailed {}

impl<R: RandomSource> rsa::rand_core::TryRng for RngBridge<'_, R> {
    type Error = RngFailed;

    fn try_next_u32(&mut self) -> Result<u32, RngFailed> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, RngFailed> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RngFailed> {
        self.0.fill_bytes(dst).map_err(|_| RngFailed)
    }
}

impl<R: RandomSource> rsa::rand_core::TryCryptoRng for RngBridge<'_, R> {}

/// A platform (WeChat Pay) public key.
#[derive(Clone)]
pub struct RsaVerifier {
    key: VerifyingKey<Sha256>,
}

impl fmt::Debug for RsaVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaVerifier(RSA-2048)")
    }
}

impl RsaVerifier {
    /// Loads a public key from PEM text (SPKI `BEGIN PUBLIC KEY` or PKCS#1).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
            .map_err(|_| KeyError::Unreadable)?;
        Self::from_key(key)
    }

    /// Loads a public key from DER bytes (SPKI or PKCS#1).
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = RsaPublicKey::from_public_key_der(der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(der))
            .map_err(|_| KeyError::Unreadable)?;
        Self::from_key(key)
    }

    fn from_key(key: RsaPublicKey) -> Result<Self, KeyError> {
        if key.size() != MODULUS_LEN {
            return Err(KeyError::WrongSize);
        }
        Ok(RsaVerifier {
            key: VerifyingKey::new(key),
        })
    }
}

impl Verifier for RsaVerifier {
    fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
        Signature::try_from(&signature[..])
            .map(|sig| self.key.verify_prehash(digest, &sig).is_ok())
            .unwrap_or(false)
    }
}

/// The signing vectors (`tests/vectors/vectors.json`), one table row each.
#[cfg(test)]
mod vectors {
    use super::*;
    use crate::path::{TargetBuilder, percent_decode};
    use crate::sign::{SigningInput, authorization, parse_authorization, request_digest};
    use crate::transport::{Method, ResponseHeaders};
    use crate::verify::{PlatformKeys, verify_response};
    use sha2::Digest;
    use std::prelude::rust_2024::*;
    use std::string::String;

    fn vectors() -> serde_json::Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/vectors.json");
        let text = std::fs::read_to_string(path).expect("tests/vectors/vectors.json");
        serde_json::from_str(&text).expect("vectors.json is JSON")
    }

    fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
        v[key].as_str().expect(key)
    }

    /// Rebuilds a target from its decoded pieces, as a caller would.
    fn rebuild_target(path_with_query: &str) -> String {
        let (path, query) = path_with_query
            .split_once('?')
            .unwrap_or((path_with_query, ""));
        let mut decoded = [0u8; 256];
        let (fixed, last) = path.rsplit_once('/').expect("a path");
        let last = percent_decode(last, &mut decoded)
            .expect("decodes")
            .to_owned();
        let mut buf = [0u8; 512];
        let mut b = TargetBuilder::new(&mut buf, fixed).segment(&last);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').expect("k=v");
            let mut vbuf = [0u8; 256];
            b = b.query(k, percent_decode(v, &mut vbuf).expect("decodes"));
        }
        b.finish().expect("builds").to_owned()
    }

    #[test]
    fn request_vectors_byte_for_byte() {
        let all = vectors();
        let keys = &all["keys"];
        let mut signer = RsaSigner::from_pem(
            s(keys, "merchant_private_key_pem"),
            s(keys, "merchant_serial"),
        )
        .expect("merchant key loads");
        let cases = all["request_vectors"].as_array().expect("request_vectors");
        assert_eq!(cases.len(), 7);
        for v in cases {
            let name = s(v, "name");
            let method = Method::parse(s(v, "method")).expect("method");
            let target = s(v, "path_with_query");
            let timestamp: u64 = s(v, "timestamp").parse().expect("timestamp");
            let body = s(v, "body").as_bytes();
            assert_eq!(rebuild_target(target), target, "{name}: target encoding");
            if let Some(segment) = v["decoded_segment"].as_str() {
                assert!(
                    rebuild_target(target).contains(&{
                        let mut b = [0u8; 256];
                        TargetBuilder::new(&mut b, "/x")
                            .segment(segment)
                            .finish()
                            .expect("ok")[3..]
                            .to_owned()
                    }),
                    "{name}"
                );
            }
            let canonical = s(v, "canonical_message");
            let digest: [u8; 32] = sha2::Sha256::digest(canonical.as_bytes()).into();
            assert_eq!(
                request_digest(method, target, timestamp, s(v, "nonce"), body),
                digest,
                "{name}: message"
            );

            let mut buf = [0u8; crate::sign::AUTHORIZATION_CAPACITY];
            let input = SigningInput {
                mchid: s(keys, "mchid"),
                method,
                target,
                body,
                timestamp,
                nonce: s(v, "nonce"),
            };
            let header = authorization(&mut signer, &input, &mut buf).expect("signs");
            let ours = parse_authorization(header).expect("parses");
            assert_eq!(ours.signature, s(v, "signature"), "{name}: signature");
            for peer in ["authorization_node", "authorization_python"] {
                assert_eq!(
                    parse_authorization(s(v, peer)),
                    Ok(ours),
                    "{name}: same five values as {peer}"
                );
            }
        }
    }

    #[test]
    fn blinded_signatures_are_identical() {
        struct Counter(u8);
        impl RandomSource for Counter {
            fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), crate::Error> {
                dest.iter_mut().for_each(|b| {
                    self.0 = self.0.wrapping_mul(31).wrapping_add(7);
                    *b = self.0
                });
                Ok(())
            }
        }
        let all = vectors();
        let keys = &all["keys"];
        let pem = s(keys, "merchant_private_key_pem");
        let mut plain = RsaSigner::from_pem(pem, "S").expect("loads");
        let mut blinded = RsaSigner::from_pem(pem, "S")
            .expect("loads")
            .with_blinding(Counter(1));
        let digest = [7u8; 32];
        let (mut a, mut b) = ([0u8; 256], [0u8; 256]);
        plain.sign_prehash(&digest, &mut a).expect("signs");
        blinded.sign_prehash(&digest, &mut b).expect("signs");
        assert_eq!(a, b);
    }

    #[test]
    fn response_vectors_verdicts() {
        let all = vectors();
        let keys = &all["keys"];
        let platform =
            RsaVerifier::from_pem(s(keys, "platform_public_key_pem")).expect("platform key loads");
        let set: PlatformKeys<RsaVerifier> =
            PlatformKeys::with_key(s(keys, "platform_serial"), platform).expect("fits");
        let cases = all["response_vectors"]
            .as_array()
            .expect("response_vectors");
        assert_eq!(cases.len(), 8);
        for v in cases {
            let mut headers = ResponseHeaders::default();
            headers.capture("Wechatpay-Timestamp", s(v, "timestamp").as_bytes());
            headers.capture("Wechatpay-Nonce", s(v, "nonce").as_bytes());
            headers.capture("Wechatpay-Signature", s(v, "signature").as_bytes());
            headers.capture("Wechatpay-Serial", s(v, "serial").as_bytes());
            headers.capture("Wechatpay-Signature-Type", b"WECHATPAY2-SHA256-RSA2048");
            let now = 1_554_208_460;
            let verdict = verify_response(&set, &headers, s(v, "body").as_bytes(), now);
            assert_eq!(
                verdict.is_ok(),
                v["expect_valid"].as_bool().expect("bool"),
                "{}: {verdict:?}",
                s(v, "name")
            );
        }
    }

    #[test]
    fn key_formats_and_redaction() {
        let all = vectors();
        let keys = &all["keys"];
        let pkcs8 = s(keys, "merchant_private_key_pem");
        let signer =
            RsaSigner::from_pem(pkcs8, "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29").expect("pkcs8");
        let debug = format!("{signer:?}");
        assert!(
            debug.contains("<redacted>") && !debug.contains("MII"),
            "{debug}"
        );
        // PKCS#1 form of the same key signs identically.
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let key = RsaPrivateKey::from_pkcs8_pem(pkcs8).expect("pkcs8");
        let pkcs1 = key
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .expect("encodes");
        let (mut a, mut b) = ([0u8; 256], [0u8; 256]);
        RsaSigner::from_pem(&pkcs1, "S")
            .expect("pkcs1")
            .sign_prehash(&[1; 32], &mut a)
            .expect("signs");
        RsaSigner::from_pem(pkcs8, "S")
            .expect("pkcs8")
            .sign_prehash(&[1; 32], &mut b)
            .expect("signs");
        assert_eq!(a, b);
        assert_eq!(
            RsaSigner::from_pem("nonsense", "S").err(),
            Some(KeyError::Unreadable)
        );
        assert_eq!(
            RsaSigner::from_pem(pkcs8, "").err(),
            Some(KeyError::BadSerial)
        );
        assert!(RsaVerifier::from_pem(s(keys, "merchant_public_key_pem")).is_ok());
        assert!(RsaVerifier::from_pem(pkcs8).is_err());
    }
}
