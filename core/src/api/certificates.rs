//! `GET /v3/certificates` (PROTOCOL.md §10): download, decrypt and verify platform
//! certificates.
//!
//! The answer must be verified with keys that may come from its own body (on the first
//! download), so it is not a plain verified call: [`check_download`] takes the raw answer, the
//! APIv3 key and the keys already held, and returns the certificates only after all of this
//! holds:
//!
//! 1. every `encrypt_certificate` decrypts (AEAD_AES_256_GCM, key = APIv3 key, IV = `nonce`,
//!    AAD = `associated_data` as given) to a PEM certificate that parses, is RSA-2048 for the
//!    verifier backend, is valid at `now`, and whose serial equals its `serial_no`;
//! 2. the answer's signature verifies (±300 s) with the key its `Wechatpay-Serial` names: one
//!    already held, or else one of the certificates just decrypted (the first download, or a
//!    rotation the holder missed; trust then rests on the AEAD tag under the APIv3 key, as in
//!    the official SDKs, plus this signature, which they skip).
//!
//! Any failure refuses the whole answer and names the certificate (its `serial_no`) and why.
//! Nothing is allocated: the ciphertexts are decoded and decrypted in a `work` buffer, where
//! the PEM text stays, and the DER goes into `out`.

use core::fmt;

use heapless::{String, Vec};

use crate::api_error::{ApiError, ErrorCode};
use crate::callback::{self, ALGORITHM, ApiV3Key, CallbackError};
use crate::certificate::{
    self, Certificate, CertificateError, FromRsaPublicKey, SERIAL_HEX_CAPACITY, Serial,
};
use crate::client::{Client, Clock};
use crate::client::{ClientError, RequestId};
use crate::error::{Error, ParseError, VerifyError};
use crate::json::{Reader, once, required};
use crate::nonce::RandomSource;
use crate::sign::Signer;
use crate::transport::{Method, ResponseHead, Transport};
use crate::verify::{PlatformKeys, Verifier, verify_response};

/// The request target.
pub const TARGET: &str = "/v3/certificates";
/// Capacity of `effective_time` / `expire_time` (RFC 3339 text).
pub const TIME_CAPACITY: usize = 32;
/// Capacity of `associated_data` (WeChat Pay sends `certificate`).
pub const ASSOCIATED_DATA_CAPACITY: usize = 64;
/// Suggested size of the `work` buffer per certificate (base64 of PEM of ~1.4 KiB of DER).
pub const WORK_PER_CERTIFICATE: usize = 2560;
/// Suggested size of the `out` buffer per certificate (DER).
pub const OUT_PER_CERTIFICATE: usize = 2048;

/// One verified platform certificate from a download.
#[derive(Debug, Clone)]
pub struct DownloadedCertificate<'s, V> {
    /// Its serial: the `Wechatpay-Serial` of answers it signs.
    pub serial: Serial,
    /// `effective_time` as sent (RFC 3339).
    pub effective_time: String<TIME_CAPACITY>,
    /// `expire_time` as sent (RFC 3339).
    pub expire_time: String<TIME_CAPACITY>,
    /// `notBefore` of the certificate, Unix seconds.
    pub not_before: i64,
    /// `notAfter` of the certificate, Unix seconds.
    pub not_after: i64,
    /// The decrypted PEM text, as sent.
    pub pem: &'s [u8],
    /// The certificate's DER.
    pub der: &'s [u8],
    /// A verifier for its key.
    pub verifier: V,
}

/// What was wrong with one certificate of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// `algorithm` is not `AEAD_AES_256_GCM`.
    UnsupportedAlgorithm,
    /// The ciphertext did not decrypt (a wrong APIv3 key, or a damaged or forged answer).
    Decrypt(CallbackError),
    /// The plaintext is not an acceptable certificate.
    Certificate(CertificateError),
    /// The certificate's own serial is not the `serial_no` it was listed under.
    SerialMismatch {
        /// The serial inside the certificate.
        certificate: Serial,
    },
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateProblem::UnsupportedAlgorithm => {
                f.write_str("algorithm is not AEAD_AES_256_GCM")
            }
            CertificateProblem::Decrypt(e) => write!(f, "{e}"),
            CertificateProblem::Certificate(e) => write!(f, "{e}"),
            CertificateProblem::SerialMismatch { certificate } => {
                write!(f, "the certificate inside has serial {certificate}")
            }
        }
    }
}

/// Why a certificates download was refused. Nothing from a refused answer is returned.
///
/// `E` is the transport's error ([`Client::download_certificates`]); [`check_download`] never
/// makes `Transport` or `Request`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadError<E> {
    /// The request could not be built.
    Request(Error),
    /// The transport failed.
    Transport(E),
    /// `404 RESOURCE_NOT_EXISTS`: this merchant has no platform certificates and verifies
    /// with the WeChat Pay public key (`PUB_KEY_ID_…`) instead.
    NoPlatformCertificates(ApiError),
    /// Any other non-2xx answer.
    Api(ApiError),
    /// The answer's signature did not verify (with the keys held or the ones it carries).
    Verify {
        /// Why.
        error: VerifyError,
        /// The answer's `Request-ID`.
        request_id: Option<RequestId>,
    },
    /// The answer is not the documented JSON.
    Parse {
        /// Why.
        error: ParseError,
        /// The answer's `Request-ID`.
        request_id: Option<RequestId>,
    },
    /// One certificate was refused (and with it the whole answer).
    Certificate {
        /// The `serial_no` it was listed under.
        serial_no: Serial,
        /// Why.
        problem: CertificateProblem,
    },
    /// More certificates than the caller has room for.
    TooMany {
        /// The room.
        max: usize,
    },
    /// A caller buffer is too small.
    BufferTooSmall {
        /// `"work"` or `"out"` (or `"response"`).
        buffer: &'static str,
        /// A size that would do.
        needed: usize,
    },
}

impl<E> From<Error> for DownloadError<E> {
    fn from(e: Error) -> Self {
        DownloadError::Request(e)
    }
}

impl<E> DownloadError<E> {
    /// True for `404 RESOURCE_NOT_EXISTS`: the merchant uses public-key mode only.
    pub fn is_no_platform_certificates(&self) -> bool {
        matches!(self, DownloadError::NoPlatformCertificates(_))
    }
}

impl<E: fmt::Display> fmt::Display for DownloadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownloadError::Request(e) => write!(f, "request: {e}"),
            DownloadError::Transport(e) => write!(f, "transport: {e}"),
            DownloadError::NoPlatformCertificates(e) => write!(
                f,
                "this merchant has no platform certificates: use the WeChat Pay public key \
                 ({e})"
            ),
            DownloadError::Api(e) => write!(f, "{e}"),
            DownloadError::Verify { error, request_id } => {
                write!(
                    f,
                    "certificates answer failed verification: {error}; it was discarded"
                )?;
                request_id_suffix(f, request_id)
            }
            DownloadError::Parse { error, request_id } => {
                write!(f, "certificates answer: {error}")?;
                request_id_suffix(f, request_id)
            }
            DownloadError::Certificate { serial_no, problem } => {
                write!(f, "platform certificate {serial_no} refused: {problem}")
            }
            DownloadError::TooMany { max } => {
                write!(f, "the answer lists more than {max} certificates")
            }
            DownloadError::BufferTooSmall { buffer, needed } => {
                write!(f, "{buffer} buffer too small: {needed} bytes needed")
            }
        }
    }
}

fn request_id_suffix(f: &mut fmt::Formatter<'_>, id: &Option<RequestId>) -> fmt::Result {
    match id {
        Some(id) => write!(f, " (Request-ID {id})"),
        None => Ok(()),
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for DownloadError<E> {}

/// One `data[]` entry before decryption.
#[derive(Debug)]
struct Entry {
    serial_no: String<SERIAL_HEX_CAPACITY>,
    effective_time: String<TIME_CAPACITY>,
    expire_time: String<TIME_CAPACITY>,
    algorithm: String<32>,
    nonce: String<32>,
    associated_data: String<ASSOCIATED_DATA_CAPACITY>,
    /// Length of the base64 ciphertext copied into `work` (entries follow each other there).
    ciphertext_len: usize,
}

/// The parsed answer: its entries and the `work` bytes their ciphertexts need.
struct Answer<const M: usize> {
    entries: Vec<Entry, M>,
    too_many: bool,
    work_needed: usize,
}

fn parse_answer<const M: usize>(body: &[u8], work: &mut [u8]) -> Result<Answer<M>, ParseError> {
    let mut answer = Answer {
        entries: Vec::new(),
        too_many: false,
        work_needed: 0,
    };
    let mut seen_data = false;
    Reader::object(body, |key, r| match key {
        "data" => {
            if seen_data {
                return Err(ParseError::DuplicateField { field: "data" });
            }
            seen_data = true;
            r.read_array("data", |r| {
                let entry = parse_entry(r, work, &mut answer.work_needed)?;
                if answer.entries.push(entry).is_err() {
                    answer.too_many = true;
                }
                Ok(())
            })
        }
        _ => r.skip_value(),
    })?;
    if !seen_data {
        return Err(ParseError::MissingField { field: "data" });
    }
    Ok(answer)
}

fn parse_entry(
    r: &mut Reader<'_>,
    work: &mut [u8],
    cursor: &mut usize,
) -> Result<Entry, ParseError> {
    let (mut serial_no, mut effective_time, mut expire_time) = (None, None, None);
    let (mut algorithm, mut nonce, mut associated_data, mut ciphertext_len) =
        (None, None, None, None);
    let mut encrypt_certificate = None;
    r.read_object("data", |key, r| match key {
        "serial_no" => once(&mut serial_no, "serial_no", || r.read_str("serial_no")),
        "effective_time" => once(&mut effective_time, "effective_time", || {
            r.read_str("effective_time")
        }),
        "expire_time" => once(&mut expire_time, "expire_time", || {
            r.read_str("expire_time")
        }),
        "encrypt_certificate" => once(&mut encrypt_certificate, "encrypt_certificate", || {
            r.read_object("encrypt_certificate", |key, r| match key {
                "algorithm" => once(&mut algorithm, "algorithm", || r.read_str("algorithm")),
                "nonce" => once(&mut nonce, "nonce", || r.read_str("nonce")),
                // Absent or null: no associated data.
                "associated_data" => once(&mut associated_data, "associated_data", || {
                    Ok(r.read_opt_str("associated_data")?.unwrap_or_default())
                }),
                // The whole length is counted even when it does not fit, so the caller learns
                // the size that would.
                "ciphertext" => once(&mut ciphertext_len, "ciphertext", || {
                    let room = work.get_mut(*cursor..).unwrap_or_default();
                    let len = r.read_str_bytes("ciphertext", room)?;
                    *cursor = cursor.saturating_add(len);
                    Ok(len)
                }),
                _ => r.skip_value(),
            })
        }),
        _ => r.skip_value(),
    })?;
    Ok(Entry {
        serial_no: required(serial_no, "serial_no")?,
        effective_time: required(effective_time, "effective_time")?,
        expire_time: required(expire_time, "expire_time")?,
        algorithm: required(algorithm, "algorithm")?,
        nonce: required(nonce, "nonce")?,
        associated_data: associated_data.unwrap_or_default(),
        ciphertext_len: required(ciphertext_len, "ciphertext")?,
    })
}

/// Decrypts and reads one entry whose base64 ciphertext is `text`; the DER goes into `out`.
fn open_entry<'s, V: FromRsaPublicKey>(
    entry: &Entry,
    text: &'s mut [u8],
    out: &mut &'s mut [u8],
    key: &ApiV3Key,
    now: i64,
) -> Result<DownloadedCertificate<'s, V>, CertificateProblem> {
    if entry.algorithm != ALGORITHM {
        return Err(CertificateProblem::UnsupportedAlgorithm);
    }
    let len = crate::base64::decode_in_place(text)
        .map_err(|_| CertificateProblem::Decrypt(CallbackError::BadBase64))?;
    let sealed = text
        .get_mut(..len)
        .ok_or(CertificateProblem::Decrypt(CallbackError::BadBase64))?;
    let pem = callback::decrypt_in_place(
        key,
        entry.nonce.as_bytes(),
        entry.associated_data.as_bytes(),
        sealed,
    )
    .map_err(CertificateProblem::Decrypt)?;
    let pem: &'s [u8] = pem;
    let der_len = certificate::pem_to_der(pem, out)
        .map_err(CertificateProblem::Certificate)?
        .len();
    let (der, rest) = core::mem::take(out).split_at_mut_checked(der_len).ok_or(
        CertificateProblem::Certificate(CertificateError::BufferTooSmall { needed: der_len }),
    )?;
    *out = rest;
    let der: &'s [u8] = der;
    let cert = Certificate::from_der(der).map_err(CertificateProblem::Certificate)?;
    if cert.serial().as_str() != entry.serial_no.as_str() {
        return Err(CertificateProblem::SerialMismatch {
            certificate: cert.serial(),
        });
    }
    let (serial, verifier) = cert.load(now).map_err(CertificateProblem::Certificate)?;
    Ok(DownloadedCertificate {
        serial,
        effective_time: entry.effective_time.clone(),
        expire_time: entry.expire_time.clone(),
        not_before: cert.not_before(),
        not_after: cert.not_after(),
        pem,
        der,
        verifier,
    })
}

/// Checks a `GET /v3/certificates` answer (sans-io): see the module documentation.
///
/// `head` and `body` are the raw answer, `now` the caller's clock when it arrived, `held` the
/// keys already trusted (may be empty, or hold only a `PUB_KEY_ID_`). `work` must hold all
/// base64 ciphertexts ([`WORK_PER_CERTIFICATE`] each will do) and keeps the PEM texts; `out`
/// receives the DER ([`OUT_PER_CERTIFICATE`] each).
pub fn check_download<'s, V, const K: usize, const M: usize, E>(
    head: &ResponseHead,
    body: &[u8],
    now: i64,
    key: &ApiV3Key,
    held: &PlatformKeys<V, K>,
    work: &'s mut [u8],
    out: &'s mut [u8],
) -> Result<Vec<DownloadedCertificate<'s, V>, M>, DownloadError<E>>
where
    V: Verifier + FromRsaPublicKey,
{
    let request_id = || head.headers.request_id.clone();
    let held_verdict = verify_response(held, &head.headers, body, now);
    if !(200..300).contains(&head.status) {
        let mut error = ApiError::from_response(head.status, &head.headers, body);
        error.signature_verified = head.headers.has_signature_headers() && held_verdict.is_ok();
        if head.status == 404 && error.code() == ErrorCode::ResourceNotExists {
            return Err(DownloadError::NoPlatformCertificates(error));
        }
        return Err(DownloadError::Api(error));
    }
    let signed_by_held = head
        .headers
        .serial
        .as_deref()
        .is_some_and(|serial| held.get(serial).is_some());
    // A key already held decides at once; anything else must wait for the certificates.
    if signed_by_held || !matches!(held_verdict, Err(VerifyError::UnknownSerial)) {
        held_verdict.map_err(|error| DownloadError::Verify {
            error,
            request_id: request_id(),
        })?;
    }

    let answer = parse_answer::<M>(body, work).map_err(|error| DownloadError::Parse {
        error,
        request_id: request_id(),
    })?;
    if answer.too_many {
        return Err(DownloadError::TooMany { max: M });
    }
    if answer.work_needed > work.len() {
        return Err(DownloadError::BufferTooSmall {
            buffer: "work",
            needed: answer.work_needed,
        });
    }

    let mut certificates: Vec<DownloadedCertificate<'s, V>, M> = Vec::new();
    let mut rest = work;
    let mut out = out;
    for entry in &answer.entries {
        let serial_no = Serial::from_text(&entry.serial_no).ok_or(DownloadError::Parse {
            error: ParseError::InvalidValue { field: "serial_no" },
            request_id: request_id(),
        })?;
        let (text, tail) = core::mem::take(&mut rest)
            .split_at_mut_checked(entry.ciphertext_len)
            .ok_or(DownloadError::BufferTooSmall {
                buffer: "work",
                needed: answer.work_needed,
            })?;
        rest = tail;
        let opened =
            open_entry(entry, text, &mut out, key, now).map_err(|problem| match problem {
                CertificateProblem::Certificate(CertificateError::BufferTooSmall { .. }) => {
                    DownloadError::BufferTooSmall {
                        buffer: "out",
                        needed: OUT_PER_CERTIFICATE * answer.entries.len(),
                    }
                }
                problem => DownloadError::Certificate { serial_no, problem },
            })?;
        certificates
            .push(opened)
            .map_err(|_| DownloadError::TooMany { max: M })?;
    }

    if !signed_by_held {
        // Bootstrap (or a missed rotation): the certificate the answer names must sign it.
        let serial = head.headers.serial.as_deref().unwrap_or_default();
        let verdict = match certificates.iter().find(|c| c.serial.as_str() == serial) {
            Some(named) => PlatformKeys::<&V, 1>::with_key(serial, &named.verifier)
                .map_err(|_| VerifyError::UnknownSerial)
                .and_then(|keys| verify_response(&keys, &head.headers, body, now)),
            None => Err(VerifyError::UnknownSerial),
        };
        verdict.map_err(|error| DownloadError::Verify {
            error,
            request_id: request_id(),
        })?;
    }
    Ok(certificates)
}

impl<T, S, V, C, R, const K: usize> Client<T, S, V, C, R, K>
where
    T: Transport,
    S: Signer,
    V: Verifier + FromRsaPublicKey,
    C: Clock,
    R: RandomSource,
{
    /// Downloads the platform certificates and returns them once verified (see
    /// [`check_download`]), checked against the keys this client holds. The client's key set
    /// is not changed: install what is returned with
    /// [`PlatformKeys::insert`] (via [`Client::platform_keys_mut`]).
    ///
    /// `response_body` receives the raw answer (8 KiB holds two certificates).
    pub fn download_certificates<'s, const M: usize>(
        &mut self,
        key: &ApiV3Key,
        response_body: &mut [u8],
        work: &'s mut [u8],
        out: &'s mut [u8],
    ) -> Result<Vec<DownloadedCertificate<'s, V>, M>, DownloadError<T::Error>> {
        let (head, now) = self
            .exchange(Method::Get, TARGET, b"", response_body)
            .map_err(|e| match e {
                ClientError::Transport(e) => DownloadError::Transport(e),
                ClientError::Request(e) => DownloadError::Request(e),
                // `exchange` makes no other error.
                _ => DownloadError::Request(Error::InvalidInput {
                    what: "unexpected exchange error",
                }),
            })?;
        let body = response_body.get(..head.body_len).unwrap_or_default();
        check_download(&head, body, now, key, self.platform_keys(), work, out)
    }
}

#[cfg(all(test, feature = "rsa"))]
mod tests {
    use super::*;
    use crate::crypto::rsa::{RsaSigner, RsaVerifier};
    use crate::sign::Signer;
    use crate::transport::ResponseHeaders;
    use std::format;
    use std::prelude::rust_2024::{String, ToOwned, ToString, Vec, vec};

    const NOW: i64 = 1_780_000_000;
    const KEY: &str = "wxpayDemoApiV3Key-TEST-ONLY-0001";
    const S1: &str = "3A1F5C0E6B9D27480C1E5A7F9B3D2E6C4A8F0B17";
    const S2: &str = "D27E4B19A0C35F8E61B7D2094C5A3E8F7B0C1D26";
    const SX: &str = "1B9E7C3A5D0F2846A3E9C7B1D5F0A2846C9E3B51";
    const PUB: &str = "PUB_KEY_ID_0114232134912410000000000000001";
    const C1: &str = include_str!("../../../adapters/emulator/keys/platform_cert_1.pem");
    const C2: &str = include_str!("../../../adapters/emulator/keys/platform_cert_2.pem");
    const CX: &str = include_str!("../../../adapters/emulator/keys/platform_cert_expired.pem");
    const K1: &str = include_str!("../../../adapters/emulator/keys/platform_cert_1_key.pem");
    const K2: &str = include_str!("../../../adapters/emulator/keys/platform_cert_2_key.pem");

    /// One `data[]` entry: listed serial, PEM, and the key it is encrypted with.
    fn entry(serial_no: &str, pem: &str, key: &str, tamper: bool, algorithm: &str) -> String {
        let key = ApiV3Key::from_text(key).unwrap();
        let nonce = "61f9c719728a";
        let mut data = pem.as_bytes().to_vec();
        let len = data.len();
        data.resize(len + 16, 0);
        callback::encrypt_in_place(&key, nonce.as_bytes(), b"certificate", &mut data, len).unwrap();
        if tamper {
            data[10] ^= 1;
        }
        let mut b64 = vec![0u8; data.len() * 2];
        let text = crate::base64::encode(&data, &mut b64).unwrap().to_owned();
        format!(
            r#"{{"serial_no":"{serial_no}","effective_time":"2025-01-01T08:00:00+08:00","expire_time":"2045-01-01T08:00:00+08:00","encrypt_certificate":{{"algorithm":"{algorithm}","nonce":"{nonce}","associated_data":"certificate","ciphertext":"{text}"}}}}"#
        )
    }

    fn good(serial_no: &str, pem: &str) -> String {
        entry(serial_no, pem, KEY, false, ALGORITHM)
    }

    fn answer(entries: &[String]) -> String {
        format!(r#"{{"data":[{}]}}"#, entries.join(","))
    }

    /// Headers of `body` signed at NOW by `key_pem`, naming `serial`.
    fn head(status: u16, body: &str, key_pem: &str, serial: &str) -> ResponseHead {
        let mut signer = RsaSigner::from_pem(key_pem, "00").unwrap();
        let digest = crate::verify::response_digest("1780000000", "n0nce", body.as_bytes());
        let mut sig = [0u8; 256];
        signer.sign_prehash(&digest, &mut sig).unwrap();
        let mut b64 = [0u8; 344];
        let sig = crate::base64::encode(&sig, &mut b64).unwrap();
        let mut headers = ResponseHeaders::default();
        headers.capture("Wechatpay-Timestamp", b"1780000000");
        headers.capture("Wechatpay-Nonce", b"n0nce");
        headers.capture("Wechatpay-Signature", sig.as_bytes());
        headers.capture("Wechatpay-Serial", serial.as_bytes());
        headers.capture("Request-ID", b"req-1");
        ResponseHead {
            status,
            headers,
            body_len: body.len(),
        }
    }

    fn verifier_of(pem: &str) -> RsaVerifier {
        let mut buf = [0u8; 2048];
        certificate::load_pem::<RsaVerifier>(pem.as_bytes(), NOW, &mut buf)
            .unwrap()
            .1
    }

    fn run<const M: usize>(
        head: &ResponseHead,
        body: &str,
        held: &PlatformKeys<RsaVerifier, 2>,
        work_len: usize,
    ) -> Result<Vec<String>, DownloadError<core::convert::Infallible>> {
        let key = ApiV3Key::from_text(KEY).unwrap();
        let mut work = vec![0u8; work_len];
        let mut out = vec![0u8; 8192];
        let got = check_download::<_, 2, M, core::convert::Infallible>(
            head,
            body.as_bytes(),
            NOW,
            &key,
            held,
            &mut work,
            &mut out,
        )?;
        for c in &got {
            assert!(c.pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
            assert_eq!(
                c.der.len(),
                Certificate::from_der(c.der).map(|_| c.der.len()).unwrap()
            );
        }
        Ok(got.iter().map(|c| c.serial.to_string()).collect())
    }

    fn serial(s: &str) -> Serial {
        Serial::from_text(s).unwrap()
    }

    #[test]
    fn downloads() {
        let none: PlatformKeys<RsaVerifier, 2> = PlatformKeys::new();
        let holds_1 = PlatformKeys::with_key(S1, verifier_of(C1)).unwrap();
        // Mixed mode: a PUB_KEY_ID_ key (here the key of certificate 2) beside nothing else.
        let holds_pub = PlatformKeys::with_key(PUB, verifier_of(C2)).unwrap();
        let both = answer(&[good(S1, C1), good(S2, C2)]);
        let mismatch = answer(&[good(S2, C1)]);
        let expired = answer(&[good(S1, C1), good(SX, CX)]);
        let wrong_key = answer(&[entry(
            S1,
            C1,
            "0123456789abcdef0123456789abcdef",
            false,
            ALGORITHM,
        )]);
        let tampered = answer(&[good(S2, C2), entry(S1, C1, KEY, true, ALGORITHM)]);
        let sm2 = answer(&[entry(S1, C1, KEY, false, "AEAD_SM4_GCM")]);
        let decrypt = |s: &str| DownloadError::Certificate {
            serial_no: serial(s),
            problem: CertificateProblem::Decrypt(CallbackError::Decrypt),
        };
        let verify = |error| DownloadError::Verify {
            error,
            request_id: RequestId::try_from("req-1").ok(),
        };
        let ok = |v: &[&str]| Ok(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        #[rustfmt::skip]
        let cases: Vec<(&str, ResponseHead, &str, &PlatformKeys<RsaVerifier, 2>, _)> = vec![
            ("bootstrap",          head(200, &both, K1, S1),       &both,      &none,      ok(&[S1, S2])),
            ("bootstrap by 2",     head(200, &both, K2, S2),       &both,      &none,      ok(&[S1, S2])),
            ("held",               head(200, &both, K1, S1),       &both,      &holds_1,   ok(&[S1, S2])),
            ("missed rotation",    head(200, &both, K2, S2),       &both,      &holds_1,   ok(&[S1, S2])),
            ("mixed: PUB_KEY_ID",  head(200, &both, K2, PUB),      &both,      &holds_pub, ok(&[S1, S2])),
            ("held key, bad sig",  head(200, &both, K2, S1),       &both,      &holds_1,   Err(verify(VerifyError::BadSignature))),
            ("bootstrap, bad sig", head(200, &both, K2, S1),       &both,      &none,      Err(verify(VerifyError::BadSignature))),
            ("unnamed signer",     head(200, &both, K1, SX),       &both,      &none,      Err(verify(VerifyError::UnknownSerial))),
            ("serial mismatch",    head(200, &mismatch, K1, S1),   &mismatch,  &holds_1,   Err(DownloadError::Certificate { serial_no: serial(S2), problem: CertificateProblem::SerialMismatch { certificate: serial(S1) } })),
            ("expired",            head(200, &expired, K1, S1),    &expired,   &holds_1,   Err(DownloadError::Certificate { serial_no: serial(SX), problem: CertificateProblem::Certificate(CertificateError::Expired { serial: serial(SX), not_after: 1_609_459_200 }) })),
            ("wrong APIv3 key",    head(200, &wrong_key, K1, S1),  &wrong_key, &none,      Err(decrypt(S1))),
            ("tampered",           head(200, &tampered, K1, S1),   &tampered,  &holds_1,   Err(decrypt(S1))),
            ("algorithm",          head(200, &sm2, K1, S1),        &sm2,       &holds_1,   Err(DownloadError::Certificate { serial_no: serial(S1), problem: CertificateProblem::UnsupportedAlgorithm })),
            ("no data",            head(200, "{}", K1, S1),        "{}",       &holds_1,   Err(DownloadError::Parse { error: ParseError::MissingField { field: "data" }, request_id: RequestId::try_from("req-1").ok() })),
        ];
        for (name, head, body, held, want) in cases {
            assert_eq!(run::<4>(&head, body, held, 16384), want, "{name}");
        }
    }

    #[test]
    fn limits_and_errors() {
        let none: PlatformKeys<RsaVerifier, 2> = PlatformKeys::new();
        let both = answer(&[good(S1, C1), good(S2, C2)]);
        let h = head(200, &both, K1, S1);
        assert_eq!(
            run::<1>(&h, &both, &none, 16384),
            Err(DownloadError::TooMany { max: 1 })
        );
        assert!(matches!(
            run::<4>(&h, &both, &none, 1000),
            Err(DownloadError::BufferTooSmall { buffer: "work", needed }) if needed > 1000
        ));

        let gone = r#"{"code":"RESOURCE_NOT_EXISTS","message":"无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥"}"#;
        let mut h404 = head(404, gone, K1, S1);
        h404.headers = ResponseHeaders::default();
        let err = run::<4>(&h404, gone, &none, 16384).unwrap_err();
        assert!(err.is_no_platform_certificates());
        let text = err.to_string();
        assert!(
            text.starts_with(
                "this merchant has no platform certificates: use the WeChat Pay public key"
            ),
            "{text}"
        );
        let busy = r#"{"code":"SYSTEM_ERROR","message":"busy"}"#;
        assert!(matches!(
            run::<4>(&head(500, busy, K1, S1), busy, &none, 16384),
            Err(DownloadError::Api(ApiError { status: 500, .. }))
        ));

        // Every certificate failure names the certificate.
        let tampered = answer(&[entry(S1, C1, KEY, true, ALGORITHM)]);
        let text = run::<4>(&head(200, &tampered, K1, S1), &tampered, &none, 16384)
            .unwrap_err()
            .to_string();
        assert_eq!(
            text,
            format!(
                "platform certificate {S1} refused: decryption failed: wrong APIv3 key or damaged message"
            )
        );
    }
}
