//! Response signing: every answer gets a `Request-ID` and the `Wechatpay-*` headers signed
//! with the platform key, bent as an injected fault says.

use std::time::Duration;

use wxpay_core::Nonce;
use wxpay_core::sign::{self, SIGNATURE_LEN, Signer};
use wxpay_core::verify::{self, SIGNTEST_PREFIX};

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use wxpay_core::crypto::KeyError;
use wxpay_core::crypto::rsa::RsaSigner;
use wxpay_core::sign::Sha256Digest;

use crate::handlers::Answer;
use crate::{Emulator, Fault, HttpResponse, OsRandom, Wire, lock};

/// The platform private key responses are signed with.
///
/// AWS-LC signs through `&self`, so every connection signs at once with no lock. The `rsa`
/// fallback needs `&mut` per signature: it keeps one signer per CPU and takes the first free
/// one, so signing is never serialised behind one lock while there are CPUs to sign on.
pub(crate) enum PlatformSigner {
    /// `rsa` 0.10 signers (the core's `RsaSigner`), tried in turn from `next`.
    Rsa {
        /// One signer per CPU (one when built from an `RsaSigner`).
        pool: Vec<Mutex<RsaSigner>>,
        /// Where the next signature starts looking for a free signer.
        next: AtomicUsize,
    },
    /// AWS-LC.
    #[cfg(feature = "aws-lc")]
    AwsLc(wxpay_aws_lc::AwsLcSigner),
}

impl PlatformSigner {
    /// The fastest backend compiled in.
    pub(crate) fn from_pem(pem: &str, key_id: &str) -> Result<PlatformSigner, KeyError> {
        #[cfg(feature = "aws-lc")]
        return wxpay_aws_lc::AwsLcSigner::from_pem(pem, key_id).map(PlatformSigner::AwsLc);
        #[cfg(not(feature = "aws-lc"))]
        {
            let cpus = std::thread::available_parallelism().map_or(1, usize::from);
            let pool = (0..cpus)
                .map(|_| RsaSigner::from_pem(pem, key_id).map(Mutex::new))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(PlatformSigner::Rsa {
                pool,
                next: AtomicUsize::new(0),
            })
        }
    }

    /// One `rsa` signer.
    pub(crate) fn from_rsa(signer: RsaSigner) -> PlatformSigner {
        PlatformSigner::Rsa {
            pool: vec![Mutex::new(signer)],
            next: AtomicUsize::new(0),
        }
    }

    /// Signs `digest` (RSASSA-PKCS1-v1_5 / SHA-256); false if the backend refused.
    fn sign(&self, digest: &Sha256Digest, out: &mut [u8; SIGNATURE_LEN]) -> bool {
        match self {
            PlatformSigner::Rsa { pool, next } => {
                let start = next.fetch_add(1, Ordering::Relaxed);
                let free = (0..pool.len())
                    .filter_map(|i| pool.get((start + i) % pool.len()))
                    .find_map(|signer| signer.try_lock().ok());
                let signed = match free {
                    Some(mut signer) => signer.sign_prehash(digest, out),
                    // All busy: wait for the one this turn started at.
                    None => match pool.get(start % pool.len().max(1)) {
                        Some(signer) => lock(signer).sign_prehash(digest, out),
                        None => return false,
                    },
                };
                signed.is_ok()
            }
            #[cfg(feature = "aws-lc")]
            PlatformSigner::AwsLc(signer) => signer.sign_prehash_shared(digest, out).is_ok(),
        }
    }
}

impl Emulator {
    /// Signs the answer (unless the fault says otherwise) and frames it.
    pub(crate) fn finish(&self, answer: Answer, fault: Option<Fault>, now: i64) -> HttpResponse {
        let mut response = HttpResponse {
            status: answer.status,
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/json; charset=utf-8".into(),
                ),
                ("Request-ID".into(), random_hex(16)),
            ],
            body: answer.body,
            wire: Wire::Normal,
            delay: None,
        };
        if fault == Some(Fault::UnsignedError) {
            return response;
        }
        let headers = self.signature_headers(&response.body, fault, now);
        response.headers.extend(headers);
        match fault {
            Some(Fault::Delay(secs)) => response.delay = Some(Duration::from_secs(secs)),
            Some(Fault::TruncatedBody) => response.wire = Wire::Truncated,
            Some(Fault::ChunkedSplitUtf8) => response.wire = Wire::ChunkedSplitUtf8,
            _ => {}
        }
        response
    }

    /// `Wechatpay-*` headers signing `body` with the platform key (bent as `fault` says).
    pub(crate) fn signature_headers(
        &self,
        body: &[u8],
        fault: Option<Fault>,
        now: i64,
    ) -> Vec<(String, String)> {
        let signed_at = if fault == Some(Fault::StaleTimestamp) {
            now - 600
        } else {
            now
        };
        let timestamp = signed_at.to_string();
        let nonce = Nonce::generate(&mut OsRandom)
            .map(|n| n.to_string())
            .unwrap_or_default();
        let digest = verify::response_digest(&timestamp, &nonce, body);
        let mut signature = [0u8; SIGNATURE_LEN];
        let by_certificate = self.sign_with_certificate(&digest, &mut signature);
        let signed = match &by_certificate {
            Some((_, signed)) => *signed,
            None => self.platform_signer.sign(&digest, &mut signature),
        };
        if fault == Some(Fault::BadSignature) {
            signature[0] ^= 0x01;
        }
        let mut signature = if signed {
            base64(&signature)
        } else {
            String::new()
        };
        if fault == Some(Fault::SignTestProbe) {
            signature = format!("{SIGNTEST_PREFIX}{}", &signature[..40]);
        }
        let serial = if fault == Some(Fault::UnknownSerial) {
            "PUB_KEY_ID_0000000000000000000000000000099".to_owned()
        } else if let Some((serial, _)) = by_certificate {
            serial
        } else {
            self.platform_key_id.clone()
        };
        vec![
            ("Wechatpay-Timestamp".into(), timestamp),
            ("Wechatpay-Nonce".into(), nonce),
            ("Wechatpay-Signature".into(), signature),
            ("Wechatpay-Serial".into(), serial),
            ("Wechatpay-Signature-Type".into(), sign::AUTH_SCHEME.into()),
        ]
    }
}

fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    if getrandom::fill(&mut raw).is_err() {
        raw.fill(0);
    }
    raw.iter().map(|b| format!("{b:02X}")).collect()
}

fn base64(bytes: &[u8; SIGNATURE_LEN]) -> String {
    use wxpay_core::sign::SIGNATURE_BASE64_LEN;
    let mut out = [0u8; SIGNATURE_BASE64_LEN];
    sign::encode_signature(bytes, &mut out).to_owned()
}

#[cfg(test)]
mod tests {
    use wxpay_core::crypto::rsa::RsaVerifier;
    use wxpay_core::verify::Verifier;

    use super::*;
    use crate::demo;

    fn rsa() -> RsaSigner {
        RsaSigner::from_pem(demo::PLATFORM_KEY_PEM, demo::PLATFORM_KEY_ID).expect("demo key")
    }

    /// Every backend signs the same bytes (PKCS#1 v1.5 is deterministic), and they verify.
    #[test]
    fn every_backend_signs_the_same_bytes() {
        let digest =
            verify::response_digest("1700000000", "593BEC0C930BF1AFEB40B4A08C8FB242", b"{}");
        let platform = RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("demo key");
        let mut expected = [0u8; SIGNATURE_LEN];
        rsa().sign_prehash(&digest, &mut expected).expect("signs");
        assert!(platform.verify_prehash(&digest, &expected));
        #[rustfmt::skip]
        let backends: Vec<(&str, PlatformSigner)> = vec![
            ("one rsa signer",        PlatformSigner::from_rsa(rsa())),
            ("rsa pool of three",     PlatformSigner::Rsa { pool: vec![Mutex::new(rsa()), Mutex::new(rsa()), Mutex::new(rsa())], next: AtomicUsize::new(0) }),
            ("fastest from PEM",      PlatformSigner::from_pem(demo::PLATFORM_KEY_PEM, demo::PLATFORM_KEY_ID).expect("demo key")),
        ];
        for (name, backend) in backends {
            for _ in 0..4 {
                let mut signature = [0u8; SIGNATURE_LEN];
                assert!(backend.sign(&digest, &mut signature), "{name}: signs");
                assert_eq!(signature, expected, "{name}");
            }
        }
    }

    /// Responses signed while other threads sign at the same time all verify.
    #[test]
    fn concurrent_answers_all_verify() {
        let emulator = Emulator::demo();
        let platform = RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("demo key");
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|i| {
                    let emulator = &emulator;
                    scope.spawn(move || {
                        (0..8)
                            .map(|j| {
                                let body = format!("{{\"n\":{}}}", i * 8 + j).into_bytes();
                                (emulator.signature_headers(&body, None, 1_700_000_000), body)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for worker in workers {
                for (headers, body) in worker.join().expect("worker") {
                    let value = |name: &str| {
                        headers
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, v)| v.clone())
                            .expect("header")
                    };
                    let digest = verify::response_digest(
                        &value("Wechatpay-Timestamp"),
                        &value("Wechatpay-Nonce"),
                        &body,
                    );
                    let signature = verify::decode_signature(&value("Wechatpay-Signature"))
                        .expect("base64 signature");
                    assert!(platform.verify_prehash(&digest, &signature));
                }
            }
        });
    }
}
