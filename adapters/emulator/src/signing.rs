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
use crate::{Emulator, Fault, HttpResponse, OsRandom, Wire, lock, read};

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

/// An answer's `Wechatpay-*` headers, signed before the request it will answer arrived (see
/// [`Emulator::set_presigning`]). Taken at most once, and only for the same body in the same
/// second.
#[derive(Debug)]
pub(crate) struct Presigned {
    body: Vec<u8>,
    timestamp: i64,
    headers: Vec<(String, String)>,
}

impl Presigned {
    /// Whether these headers sign exactly `body` at `now`.
    fn answers(&self, body: &[u8], now: i64) -> bool {
        self.timestamp == now && self.body == body
    }
}

impl Emulator {
    /// Signs `body` with the platform key at `now` for an answer that has not been asked for
    /// yet; `None` when signing ahead is off, a fault is injected, certificate mode is on, or
    /// the signer refused.
    pub(crate) fn presign(&self, body: &[u8], now: i64) -> Option<Presigned> {
        if !self.presigning.load(Ordering::Relaxed)
            || read(&self.fault).is_some()
            || self.certificate_mode()
        {
            return None;
        }
        let headers = self.signature_headers(body, None, now);
        let header = |wanted: &str| {
            headers
                .iter()
                .find(|(name, _)| name == wanted)
                .map(|(_, value)| value.as_str())
        };
        // Signed, and by the platform key: certificate mode may have been switched on while
        // this was being signed.
        let signed = header("Wechatpay-Signature").is_some_and(|s| !s.is_empty())
            && header("Wechatpay-Serial") == Some(self.platform_key_id.as_str());
        signed.then(|| Presigned {
            body: body.to_vec(),
            timestamp: now,
            headers,
        })
    }

    /// Signs the answer (unless the fault says otherwise) and frames it.
    pub(crate) fn finish(&self, answer: Answer, fault: Option<Fault>, now: i64) -> HttpResponse {
        self.finish_presigned(answer, fault, now, None)
    }

    /// [`Emulator::finish`], with headers signed ahead used if they sign exactly this answer.
    pub(crate) fn finish_presigned(
        &self,
        answer: Answer,
        fault: Option<Fault>,
        now: i64,
        presigned: Option<Presigned>,
    ) -> HttpResponse {
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
        let ahead = presigned.filter(|p| {
            fault.is_none()
                && p.answers(&response.body, now)
                && self.presigning.load(Ordering::Relaxed)
                && !self.certificate_mode()
        });
        let headers = match ahead {
            Some(presigned) => {
                self.presigned_used.fetch_add(1, Ordering::Relaxed);
                presigned.headers
            }
            None => self.signature_headers(&response.body, fault, now),
        };
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
pub(crate) mod tests {
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
                    assert!(platform_signed(&headers, &body));
                }
            }
        });
    }

    /// Whether `headers` sign `body` with the demo platform key (every test that checks an
    /// answer's signature goes through this).
    pub(crate) fn platform_signed(headers: &[(String, String)], body: &[u8]) -> bool {
        let platform = RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("demo key");
        let value = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .expect(name)
        };
        let digest =
            verify::response_digest(value("Wechatpay-Timestamp"), value("Wechatpay-Nonce"), body);
        verify::decode_signature(value("Wechatpay-Signature"))
            .is_ok_and(|signature| platform.verify_prehash(&digest, &signature))
    }

    /// Headers signed ahead go out only on exactly the answer they sign, in the second they
    /// were made, with no fault and the platform key; every other answer is signed afresh.
    #[test]
    fn presigned_headers_sign_only_the_same_body_in_the_same_second() {
        const T: i64 = 1_700_000_000;
        let answer = |body: &str| Answer {
            status: 200,
            body: body.as_bytes().to_vec(),
        };
        // What changed between signing ahead and answering.
        #[derive(Clone, Copy, PartialEq)]
        enum Since {
            Nothing,
            CertificateMode,
            SigningAheadOff,
        }
        // (case, answer body, answered at, fault, since, used ahead)
        #[rustfmt::skip]
        let cases: &[(&str, &str, i64, Option<Fault>, Since, bool)] = &[
            ("same body, same second",   r#"{"a":1}"#,  T,     None,                        Since::Nothing,         true),
            ("other body",               r#"{"a":2}"#,  T,     None,                        Since::Nothing,         false),
            ("a byte more",              r#"{"a":1} "#, T,     None,                        Since::Nothing,         false),
            ("next second",              r#"{"a":1}"#,  T + 1, None,                        Since::Nothing,         false),
            ("fault: bad signature",     r#"{"a":1}"#,  T,     Some(Fault::BadSignature),   Since::Nothing,         false),
            ("fault: stale timestamp",   r#"{"a":1}"#,  T,     Some(Fault::StaleTimestamp), Since::Nothing,         false),
            ("certificate mode since",   r#"{"a":1}"#,  T,     None,                        Since::CertificateMode, false),
            ("signing ahead off since",  r#"{"a":1}"#,  T,     None,                        Since::SigningAheadOff, false),
        ];
        for &(name, body, now, fault, since, used) in cases {
            let emulator = Emulator::demo();
            let presigned = emulator.presign(br#"{"a":1}"#, T).expect("signs ahead");
            let ahead_nonce = presigned
                .headers
                .iter()
                .find(|(n, _)| n == "Wechatpay-Nonce")
                .map(|(_, v)| v.clone())
                .expect("nonce");
            emulator.set_certificate_mode(since == Since::CertificateMode);
            emulator.set_presigning(since != Since::SigningAheadOff);
            let response = emulator.finish_presigned(answer(body), fault, now, Some(presigned));
            assert_eq!(
                emulator.presigned_answers(),
                usize::from(used),
                "{name}: count"
            );
            let nonce = response.header("Wechatpay-Nonce").expect("nonce");
            assert_eq!(nonce == ahead_nonce, used, "{name}: headers made ahead");
            if fault.is_none() && since != Since::CertificateMode {
                // Made ahead or afresh, the answer is signed at the second it is sent in.
                let sent_at = now.to_string();
                assert_eq!(
                    response.header("Wechatpay-Timestamp"),
                    Some(sent_at.as_str()),
                    "{name}"
                );
                assert!(platform_signed(&response.headers, &response.body), "{name}");
            }
        }
    }

    /// No signing ahead while it is off, a fault is injected or certificate mode is on.
    #[test]
    fn presign_declines_when_off_faulted_or_in_certificate_mode() {
        let body = br#"{"a":1}"#;
        let emulator = Emulator::demo();
        assert!(emulator.presign(body, 1).is_some(), "on by default");
        emulator.set_presigning(false);
        assert!(emulator.presign(body, 1).is_none(), "off");
        emulator.set_presigning(true);
        emulator.set_fault(Some(Fault::BadSignature));
        assert!(emulator.presign(body, 1).is_none(), "a fault is injected");
        emulator.set_fault(None);
        emulator.set_certificate_mode(true);
        assert!(emulator.presign(body, 1).is_none(), "certificate mode");
    }
}
