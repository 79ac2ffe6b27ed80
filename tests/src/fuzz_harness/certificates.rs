//! Platform certificates: the `GET /v3/certificates` answer and the decrypted certificate.

use std::convert::Infallible;

use wxpay_core::api::certificates::{DownloadError, check_download};
use wxpay_core::callback::ApiV3Key;
use wxpay_core::certificate::{
    Certificate, CertificateError, FromRsaPublicKey, SERIAL_HEX_CAPACITY, pem_to_der,
};
use wxpay_core::crypto::KeyError;
use wxpay_core::sign::{SIGNATURE_LEN, Sha256Digest};
use wxpay_core::transport::ResponseHead;
use wxpay_core::verify::{self, PlatformKeys, Verifier};

use super::{FUZZ_APIV3_KEY, FUZZ_SERIAL, REJECT_SERIAL, SIGNATURE_MARKER, split_message};

/// The clock of [`certificates`]: inside the TEST certificates' validity (2026-05-28).
pub const CERTIFICATES_NOW: i64 = 1_780_000_000;

/// NO SECURITY, for fuzzing only: a key that accepts marker signatures (see
/// [`super::MarkerVerifier`]), buildable from any RSA-2048 modulus so that the bootstrap path
/// (verifying with a certificate from the answer) is reached.
#[derive(Debug)]
pub struct MarkerKey {
    accept: bool,
}

impl FromRsaPublicKey for MarkerKey {
    fn from_rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Result<Self, KeyError> {
        if modulus.len() == SIGNATURE_LEN && !exponent.is_empty() {
            Ok(MarkerKey { accept: true })
        } else {
            Err(KeyError::WrongSize)
        }
    }
}

impl Verifier for MarkerKey {
    fn verify_prehash(&self, _: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
        self.accept && signature.first() == Some(&SIGNATURE_MARKER)
    }
}

fn is_upper_hex_serial(serial: &str) -> bool {
    !serial.is_empty()
        && serial.len() <= SERIAL_HEX_CAPACITY
        && !serial.starts_with('0')
        && serial
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

/// A decrypted certificate: PEM (when it has a `-----BEGIN` line) or DER. Whatever the bytes,
/// reading never panics, and what is read is consistent.
pub fn certificate(data: &[u8]) {
    let mut der = vec![0u8; data.len() + 3];
    let pem = pem_to_der(data, &mut der).map(<[u8]>::to_vec);
    for bytes in [Some(data), pem.as_deref().ok()].into_iter().flatten() {
        let Ok(cert) = Certificate::from_der(bytes) else {
            continue;
        };
        let serial = cert.serial();
        assert!(is_upper_hex_serial(serial.as_str()), "{serial:?}");
        assert!(cert.not_before() <= cert.not_after());
        assert!(!cert.modulus().is_empty() && !cert.exponent().is_empty());
        // The SubjectPublicKeyInfo is a piece of the certificate.
        let spki = cert.public_key_der();
        assert!(bytes.windows(spki.len()).any(|w| w == spki));
        for now in [cert.not_before(), cert.not_after()] {
            assert_eq!(cert.check_validity(now), Ok(()));
        }
        let before = cert.not_before().saturating_sub(1);
        if before < cert.not_before() {
            assert!(matches!(
                cert.check_validity(before),
                Err(CertificateError::NotYetValid { .. })
            ));
        }
        let after = cert.not_after().saturating_add(1);
        if after > cert.not_after() {
            assert!(matches!(
                cert.check_validity(after),
                Err(CertificateError::Expired { .. })
            ));
        }
    }
}

/// A certificates answer (head lines and body, as [`super::verify()`] takes them), checked with
/// [`FUZZ_APIV3_KEY`] at [`CERTIFICATES_NOW`] against a held marker key under [`FUZZ_SERIAL`]
/// and a rejecting one under [`REJECT_SERIAL`]. Whatever comes, nothing panics, and anything
/// returned is verified and consistent.
pub fn certificates(data: &[u8]) {
    let message = split_message(data);
    let head = ResponseHead {
        status: message.status,
        headers: message.headers,
        body_len: message.body.len(),
    };
    let body = message.body;
    let key = match ApiV3Key::from_text(FUZZ_APIV3_KEY) {
        Ok(key) => key,
        Err(e) => panic!("the fuzz key is 32 bytes: {e}"),
    };
    let mut held: PlatformKeys<MarkerKey, 2> = PlatformKeys::new();
    assert_eq!(held.insert(FUZZ_SERIAL, MarkerKey { accept: true }), Ok(()));
    assert_eq!(
        held.insert(REJECT_SERIAL, MarkerKey { accept: false }),
        Ok(())
    );
    let mut work = vec![0u8; body.len()];
    let mut out = vec![0u8; body.len()];
    let outcome = check_download::<_, 2, 4, Infallible>(
        &head,
        body,
        CERTIFICATES_NOW,
        &key,
        &held,
        &mut work,
        &mut out,
    );
    let serial = head.headers.serial.as_deref().unwrap_or_default();
    match &outcome {
        Ok(certificates) => {
            assert!((200..300).contains(&head.status));
            assert_ne!(serial, REJECT_SERIAL, "a rejecting key never verifies");
            // Signed by a held key or by one of the certificates returned.
            let by_held = verify::verify_response(&held, &head.headers, body, CERTIFICATES_NOW);
            assert!(by_held.is_ok() || certificates.iter().any(|c| c.serial.as_str() == serial));
            for c in certificates {
                let cert = match Certificate::from_der(c.der) {
                    Ok(cert) => cert,
                    Err(e) => panic!("a returned certificate does not parse: {e}"),
                };
                assert_eq!(cert.serial(), c.serial);
                assert_eq!(cert.check_validity(CERTIFICATES_NOW), Ok(()));
                assert_eq!(
                    (cert.not_before(), cert.not_after()),
                    (c.not_before, c.not_after)
                );
                // The PEM returned is the one the DER came from.
                let mut der = vec![0u8; c.pem.len()];
                assert_eq!(pem_to_der(c.pem, &mut der), Ok(c.der));
            }
        }
        Err(DownloadError::Api(e) | DownloadError::NoPlatformCertificates(e)) => {
            assert!(!(200..300).contains(&head.status));
            assert_eq!(e.status, head.status);
        }
        Err(DownloadError::Request(_) | DownloadError::Transport(_)) => {
            panic!("check_download never makes {outcome:?}")
        }
        Err(_) => assert!((200..300).contains(&head.status)),
    }
    // Bigger buffers change nothing but a BufferTooSmall.
    if let Err(DownloadError::BufferTooSmall { .. }) = &outcome {
        return;
    }
    let mut work = vec![0u8; body.len() + 64];
    let mut out = vec![0u8; body.len() + 64];
    let again = check_download::<_, 2, 4, Infallible>(
        &head,
        body,
        CERTIFICATES_NOW,
        &key,
        &held,
        &mut work,
        &mut out,
    );
    assert_eq!(
        again.as_ref().map(|c| c.len()).map_err(|e| e.to_string()),
        outcome.as_ref().map(|c| c.len()).map_err(|e| e.to_string())
    );
}
