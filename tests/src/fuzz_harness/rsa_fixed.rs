//! [`rsa_fixed`]: the no-allocator RSA provider (`wxpay_core::crypto::rsa_fixed`, our own
//! Montgomery arithmetic) against the `rsa` crate, on keys and signatures from outside.

use std::string::String;
use std::sync::OnceLock;
use std::vec::Vec;

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::hazmat::PrehashVerifier;
use rsa::{Pkcs1v15Sign, PrivateKey};
use sha2::Sha256;
use wxpay_core::crypto::rsa_fixed::{FixedRsaSigner, FixedRsaVerifier};
use wxpay_core::sign::{SIGNATURE_LEN, Sha256Digest, Signer};

/// The platform public key of the shared test vectors (`tests/vectors/platform_pub.pem`).
const PLATFORM_PUB: &str = include_str!("../../vectors/platform_pub.pem");

fn der(pem: &str) -> Vec<u8> {
    use base64ct::{Base64, Encoding};
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    Base64::decode_vec(body.trim()).unwrap_or_default()
}

fn platform() -> &'static (FixedRsaVerifier, VerifyingKey<Sha256>) {
    static KEYS: OnceLock<(FixedRsaVerifier, VerifyingKey<Sha256>)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let der = der(PLATFORM_PUB);
        let ours = FixedRsaVerifier::from_der(&der).expect("the platform key loads");
        let theirs = rsa::PublicKey::from_public_key_der(&der).expect("the rsa crate reads it");
        (ours, VerifyingKey::new(theirs))
    })
}

/// The private key the `rsa` crate reads from `der` (PKCS#8 or PKCS#1), if any.
fn their_private(der: &[u8]) -> Option<PrivateKey> {
    PrivateKey::from_pkcs8_der(der)
        .or_else(|_| PrivateKey::from_pkcs1_der(der))
        .ok()
}

/// Only to be sure the public-key readers are reached (their verdicts are not compared: the
/// `rsa` crate bounds the public exponent, we do not).
fn their_public_reads(der: &[u8]) -> bool {
    rsa::PublicKey::from_public_key_der(der).is_ok() || rsa::PublicKey::from_pkcs1_der(der).is_ok()
}

/// The first byte picks the case:
///
/// - even: the rest is a key in DER. Loading it as a public and as a private key never
///   panics; a private key we load (all its parts checked for consistency) signs, and when the
///   `rsa` crate reads the key too, both signatures of a fixed digest are the same bytes
///   (PKCS#1 v1.5 is deterministic).
/// - odd: the rest is a 32-byte digest and a signature, checked against the test vectors'
///   platform key by both: the same verdict, whatever the length or value.
pub fn rsa_fixed(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        key(rest);
    } else {
        signature(rest);
    }
}

fn key(der: &[u8]) {
    if FixedRsaVerifier::from_der(der).is_ok() {
        // A 2048-bit modulus and an exponent we accept: the rsa crate reads the structure too
        // unless the exponent is past its bound.
        let _ = their_public_reads(der);
    }
    let Ok(mut ours) = FixedRsaSigner::from_der(der, "SERIAL") else {
        return;
    };
    let digest: Sha256Digest = [0x5a; 32];
    let mut signature = [0u8; SIGNATURE_LEN];
    ours.sign_prehash(&digest, &mut signature)
        .expect("a key whose parts were checked signs, and its signature verifies");
    if let Some(theirs) = their_private(der) {
        let expected = theirs
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .expect("the rsa crate signs");
        assert_eq!(signature.as_slice(), expected.as_slice());
    }
}

fn signature(data: &[u8]) {
    let (ours, theirs) = platform();
    let Some((digest, signature)) = data.split_first_chunk::<32>() else {
        return;
    };
    let our_verdict = ours.check(digest, signature).is_ok();
    let their_verdict = Signature::try_from(signature)
        .map(|s| theirs.verify_prehash(digest, &s).is_ok())
        .unwrap_or(false);
    assert_eq!(our_verdict, their_verdict, "{} bytes", signature.len());
}
