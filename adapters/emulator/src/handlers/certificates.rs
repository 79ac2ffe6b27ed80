//! Platform certificate mode (PROTOCOL.md §10): `GET /v3/certificates`, answers signed with a
//! platform certificate, and rotation on `POST /emulator/rotate`.
//!
//! Off by default (public-key mode), where `GET /v3/certificates` answers
//! `404 RESOURCE_NOT_EXISTS` as it does for merchants registered since late 2024. In
//! certificate mode the emulator holds three TEST certificates with overlapping validity
//! (`keys/platform_cert_{1,2,3}.pem`). Generation `g` (0, then 1 after a rotation) lists
//! certificates `g+1` and `g+2` and signs with `g+1`. A request that sends
//! `Wechatpay-Serial: PUB_KEY_ID_…` is answered with the public key instead, as WeChat Pay does
//! for merchants in the middle of a migration (mixed mode).

use std::cell::RefCell;

use base64ct::{Base64, Encoding};
use wxpay_core::callback;
use wxpay_core::crypto::rsa::RsaSigner;
use wxpay_core::sign::{SIGNATURE_LEN, Sha256Digest, Signer};

use super::{Answer, ApiCall, beijing_rfc3339};
use crate::{Emulator, Fault, HttpRequest, lock};

/// The TEST platform certificates and their keys (see `keys/README.md`).
pub mod test_certificates {
    /// Certificate 1 (valid 2020–2040).
    pub const CERT_1_PEM: &str = include_str!("../../keys/platform_cert_1.pem");
    /// Its key.
    pub const KEY_1_PEM: &str = include_str!("../../keys/platform_cert_1_key.pem");
    /// Serial of certificate 1.
    pub const SERIAL_1: &str = "3A1F5C0E6B9D27480C1E5A7F9B3D2E6C4A8F0B17";
    /// Certificate 2 (valid 2025–2045).
    pub const CERT_2_PEM: &str = include_str!("../../keys/platform_cert_2.pem");
    /// Its key.
    pub const KEY_2_PEM: &str = include_str!("../../keys/platform_cert_2_key.pem");
    /// Serial of certificate 2.
    pub const SERIAL_2: &str = "D27E4B19A0C35F8E61B7D2094C5A3E8F7B0C1D26";
    /// Certificate 3 (valid 2026–2050).
    pub const CERT_3_PEM: &str = include_str!("../../keys/platform_cert_3.pem");
    /// Its key.
    pub const KEY_3_PEM: &str = include_str!("../../keys/platform_cert_3_key.pem");
    /// Serial of certificate 3.
    pub const SERIAL_3: &str = "6C0B8E3F2A9D4175E8C3B6A0D9F2E5174B8A3C92";
    /// A certificate that expired on 2021-01-01.
    pub const EXPIRED_PEM: &str = include_str!("../../keys/platform_cert_expired.pem");
    /// Serial of the expired certificate.
    pub const SERIAL_EXPIRED: &str = "1B9E7C3A5D0F2846A3E9C7B1D5F0A2846C9E3B51";
    /// Unix seconds when certificate 1 expires (2040-01-01T00:00:00Z).
    pub const CERT_1_NOT_AFTER: i64 = 2_208_988_800;
}

use test_certificates as tc;

/// A way to spoil the certificates answer, for tests of the client's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateFault {
    /// One ciphertext has a flipped byte (the answer is still signed correctly).
    TamperedCiphertext,
    /// The first entry's `serial_no` is not its certificate's serial.
    SerialMismatch,
    /// The expired certificate is listed too.
    IncludeExpired,
}

/// Certificate mode state.
pub(crate) struct CertificateState {
    generation: usize,
    fault: Option<CertificateFault>,
}

const CERTS: [(&str, &str, &str); 3] = [
    (tc::SERIAL_1, tc::CERT_1_PEM, tc::KEY_1_PEM),
    (tc::SERIAL_2, tc::CERT_2_PEM, tc::KEY_2_PEM),
    (tc::SERIAL_3, tc::CERT_3_PEM, tc::KEY_3_PEM),
];

thread_local! {
    /// The `Wechatpay-Serial` of the request being answered on this thread.
    static REQUEST_SERIAL: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Notes which key the request asked its answer to be signed with (called by `handle`).
pub(crate) fn note_request(request: &HttpRequest) {
    let serial = request.header("Wechatpay-Serial").map(str::to_owned);
    REQUEST_SERIAL.with(|s| *s.borrow_mut() = serial);
}

impl Emulator {
    /// Switches platform certificate mode on (generation 0) or off (public-key mode).
    pub fn set_certificate_mode(&self, on: bool) {
        *lock(&self.certificates) = on.then_some(CertificateState {
            generation: 0,
            fault: None,
        });
    }

    /// The same, by value.
    pub fn with_certificate_mode(self, on: bool) -> Emulator {
        self.set_certificate_mode(on);
        self
    }

    /// True in certificate mode.
    pub fn certificate_mode(&self) -> bool {
        lock(&self.certificates).is_some()
    }

    /// Spoils the next certificates answers as `fault` says (`None` to stop).
    pub fn set_certificate_fault(&self, fault: Option<CertificateFault>) {
        if let Some(state) = lock(&self.certificates).as_mut() {
            state.fault = fault;
        }
    }

    /// Moves to the next generation: the next certificate signs, the oldest leaves the list.
    /// False if not in certificate mode or already rotated.
    pub fn rotate_certificates(&self) -> bool {
        match lock(&self.certificates).as_mut() {
            Some(state) if state.generation + 2 < CERTS.len() => {
                state.generation += 1;
                true
            }
            _ => false,
        }
    }

    /// Serials listed now, and the one that signs (certificate mode only).
    pub fn certificate_serials(&self) -> Option<(Vec<&'static str>, &'static str)> {
        let generation = lock(&self.certificates).as_ref()?.generation;
        let listed = CERTS.iter().skip(generation).take(2).map(|c| c.0).collect();
        Some((listed, CERTS.get(generation)?.0))
    }

    /// In certificate mode, signs `digest` with the current certificate unless the request
    /// asked for the public key; returns the serial used. `None`: sign with the public key.
    pub(crate) fn sign_with_certificate(
        &self,
        digest: &Sha256Digest,
        signature: &mut [u8; SIGNATURE_LEN],
    ) -> Option<(String, bool)> {
        let asked_public_key = REQUEST_SERIAL.with(|s| {
            s.borrow()
                .as_deref()
                .is_some_and(|serial| serial.starts_with("PUB_KEY_ID_"))
        });
        if asked_public_key {
            return None;
        }
        let generation = lock(&self.certificates).as_ref()?.generation;
        let (serial, _, key) = CERTS.get(generation)?;
        let signed = RsaSigner::from_pem(key, serial)
            .ok()
            .is_some_and(|mut signer| signer.sign_prehash(digest, signature).is_ok());
        Some(((*serial).to_owned(), signed))
    }

    fn certificates_answer(&self, now: i64) -> Answer {
        let Some((generation, fault)) = lock(&self.certificates)
            .as_ref()
            .map(|s| (s.generation, s.fault))
        else {
            return Answer::error(
                404,
                "RESOURCE_NOT_EXISTS",
                "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥",
            );
        };
        let mut listed: Vec<(&str, &str)> = CERTS
            .iter()
            .skip(generation)
            .take(2)
            .map(|(serial, pem, _)| (*serial, *pem))
            .collect();
        if fault == Some(CertificateFault::IncludeExpired) {
            listed.push((tc::SERIAL_EXPIRED, tc::EXPIRED_PEM));
        }
        let data: Vec<serde_json::Value> = listed
            .iter()
            .enumerate()
            .map(|(i, (serial, pem))| {
                let nonce = super::random_alnum(12);
                let mut sealed = pem.as_bytes().to_vec();
                let len = sealed.len();
                sealed.resize(len + callback::TAG_LEN, 0);
                let ciphertext = match callback::encrypt_in_place(
                    &self.apiv3_key,
                    nonce.as_bytes(),
                    b"certificate",
                    &mut sealed,
                    len,
                ) {
                    Ok(bytes) => {
                        let mut bytes = bytes.to_vec();
                        if fault == Some(CertificateFault::TamperedCiphertext)
                            && i == 0
                            && let Some(b) = bytes.get_mut(7)
                        {
                            *b ^= 0x20;
                        }
                        Base64::encode_string(&bytes)
                    }
                    Err(_) => String::new(),
                };
                let serial_no = if fault == Some(CertificateFault::SerialMismatch) && i == 0 {
                    listed.get(1).map_or(*serial, |other| other.0)
                } else {
                    serial
                };
                serde_json::json!({
                    "serial_no": serial_no,
                    "effective_time": beijing_rfc3339(now - 86_400),
                    "expire_time": beijing_rfc3339(now + 5 * 365 * 86_400),
                    "encrypt_certificate": {
                        "algorithm": callback::ALGORITHM,
                        "nonce": nonce,
                        "associated_data": "certificate",
                        "ciphertext": ciphertext,
                    },
                })
            })
            .collect();
        Answer::json(200, serde_json::json!({ "data": data }))
    }

    /// `POST /emulator/rotate`.
    pub(crate) fn rotate_hook(&self) -> Answer {
        if self.rotate_certificates() {
            Answer {
                status: 204,
                body: Vec::new(),
            }
        } else {
            Answer::error(
                409,
                "INVALID_REQUEST",
                "not in certificate mode, or already rotated",
            )
        }
    }
}

/// Routes `GET /v3/certificates`; `None` for other paths.
pub(crate) fn route(emulator: &Emulator, call: &ApiCall<'_>) -> Option<(Answer, Option<Fault>)> {
    match (call.method, call.segments) {
        ("GET", ["v3", "certificates"]) => Some((emulator.certificates_answer(call.now), None)),
        _ => None,
    }
}
