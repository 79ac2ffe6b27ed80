//! One function per parser boundary, shared by the fuzz targets (`fuzz/fuzz_targets/*.rs`) and
//! the corpus replay test (`tests/fuzz_replay.rs`), so a crash found once stays a test.
//!
//! Every function takes arbitrary bytes, must never panic inside the core, and checks the
//! invariants of its boundary with `assert!`: a failed assert is what the fuzzer reports.
//!
//! Inputs are plain text where they can be, so seeds stay readable:
//!
//! - [`record`] takes the raw body bytes.
//! - [`api_error`] and [`verify()`] take an HTTP-like message. Lines up to the first blank
//!   line (`\n\n`) are the head: `Name: value` header lines, and a line of digits is the status.
//!   The rest is the raw body. Without a blank line the whole input is the body.
//! - [`target_roundtrip`], one field per line: `segment\nkey\nvalue\nkey\nvalue…`.
//! - [`authorization_roundtrip`], one field per line:
//!   `mchid\nserial_no\nnonce\ntimestamp\nMETHOD\ntarget\nbody` (the body may span lines).
//! - [`callback`] takes head lines and a body, like [`verify()`]; [`callback_payload`] the
//!   decrypted payload bytes.
//! - [`http_response`]: three bytes of settings (read sizes, body and scratch buffer sizes),
//!   then the bytes the peer sends.
//! - [`json_writer`], one string per line: `key\nvalue\nkey\nvalue…`.
//! - [`certificates`] takes head lines and a `GET /v3/certificates` body, like [`verify()`];
//!   [`certificate`] a decrypted certificate (PEM or DER).
//! - [`serviceorder_record`] and [`serviceorder_body_roundtrip`] take the raw JSON body;
//!   [`serviceorder_callback`] head lines and a body, like [`callback`].
//! - [`rsa_fixed`]: a mode byte, then a DER key (even) or a digest and a signature (odd).

use std::cell::Cell;
use std::string::String;
use std::vec::Vec;

use base64ct::{Base64, Encoding};
use serde_json::Value;
use sha2::{Digest, Sha256};
use wxpay_core::api::permissions::{self, AuthorizationRecord};
use wxpay_core::api_error::{ApiError, MESSAGE_CAPACITY};
use wxpay_core::path::{TargetBuilder, encoded_len, percent_decode};
use wxpay_core::sign::{
    self, AUTH_SCHEME, AUTHORIZATION_CAPACITY, AuthorizationFields, MCHID_CAPACITY,
    SERIAL_CAPACITY, SIGNATURE_BASE64_LEN, SIGNATURE_LEN, Sha256Digest, Signer, SigningInput,
};
use wxpay_core::time::DateTime;
use wxpay_core::verify::{self, MAX_CLOCK_SKEW_SECS, PlatformKeys, SIGNTEST_PREFIX, Verifier};
use wxpay_core::{Call, Error, Method, ResponseHeaders};

mod callback;
mod certificates;
mod http;
mod json_writer;
mod rsa_fixed;
mod serviceorder;

pub use callback::{FUZZ_APIV3_KEY, callback, callback_payload};
pub use certificates::{CERTIFICATES_NOW, MarkerKey, certificate, certificates};
pub use http::http_response;
pub use json_writer::json_writer;
pub use rsa_fixed::rsa_fixed;
pub use serviceorder::{serviceorder_body_roundtrip, serviceorder_callback, serviceorder_record};

/// The serial under which [`MarkerVerifier`] accepts signatures in [`verify()`].
pub const FUZZ_SERIAL: &str = "PUB_KEY_ID_0114232134912410000000000000";
/// A second serial whose key rejects everything: a response naming it must never verify.
pub const REJECT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
/// [`MarkerVerifier`] accepts a signature whose first byte is this (base64 `Wl…`).
pub const SIGNATURE_MARKER: u8 = 0x5A;
/// The clock [`verify()`] runs at: the shared vectors' timestamp.
pub const FUZZ_NOW: i64 = 1_554_208_460;
/// The fixed path [`target_roundtrip`] builds under.
pub const FUZZ_PATH: &str = "/v3/payscore/permissions/fuzz";

/// NO SECURITY, for fuzzing only: accepts any signature starting with [`SIGNATURE_MARKER`]
/// (when `accept` is set), so fuzz inputs get past the signature check. Remembers what it was
/// asked, so the harness can check that the core hashed exactly the raw message.
#[derive(Debug, Default)]
pub struct MarkerVerifier {
    accept: bool,
    asked: Cell<Option<(Sha256Digest, [u8; SIGNATURE_LEN])>>,
}

impl MarkerVerifier {
    /// Accepts marker signatures.
    pub fn accepting() -> Self {
        MarkerVerifier {
            accept: true,
            asked: Cell::new(None),
        }
    }

    /// Rejects every signature.
    pub fn rejecting() -> Self {
        MarkerVerifier::default()
    }
}

impl Verifier for MarkerVerifier {
    fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
        assert!(self.asked.get().is_none(), "a key was asked twice");
        self.asked.set(Some((*digest, *signature)));
        self.accept && signature.first() == Some(&SIGNATURE_MARKER)
    }
}

/// An HTTP-like message split from fuzz input (see the module docs).
#[derive(Debug)]
pub struct Message<'a> {
    /// Status from a digits-only head line; 500 without one.
    pub status: u16,
    /// Every `Name: value` head line, captured as a transport would.
    pub headers: ResponseHeaders,
    /// Everything after the first blank line (or the whole input).
    pub body: &'a [u8],
}

/// Splits fuzz input into head and body (see the module docs).
pub fn split_message(data: &[u8]) -> Message<'_> {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (&data[..0], data),
    };
    let mut message = Message {
        status: 500,
        headers: ResponseHeaders::default(),
        body,
    };
    for line in head.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line.iter().position(|b| *b == b':') {
            Some(colon) => {
                if let Ok(name) = std::str::from_utf8(&line[..colon]) {
                    message.headers.capture(name.trim(), &line[colon + 1..]);
                }
            }
            None => {
                if let Some(status) = std::str::from_utf8(line)
                    .ok()
                    .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|s| s.parse().ok())
                {
                    message.status = status;
                }
            }
        }
    }
    message
}

/// `serde_json` refuses numbers beyond `f64` that JSON's grammar (and the core) accept.
fn is_number_out_of_range(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("number out of range")
}

/// A body the core accepted as JSON: `serde_json` must accept it as an object too.
fn reference_object(body: &[u8]) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Some(map),
        Ok(other) => panic!("the core accepted a JSON {other} that is not an object"),
        Err(e) => {
            assert!(
                is_number_out_of_range(&e),
                "the core accepted bad JSON: {e}"
            );
            None
        }
    }
}

fn reference_str<'m>(map: &'m serde_json::Map<String, Value>, key: &str) -> Option<&'m str> {
    map.get(key).and_then(Value::as_str)
}

fn same_number(reference: Option<&Value>, ours: Option<i64>) -> bool {
    match (reference, ours) {
        (None | Some(Value::Null), None) => true,
        (Some(Value::Number(n)), Some(ours)) => match n.as_i64() {
            Some(theirs) => theirs == ours,
            // `-0` reads as a float in serde_json.
            None => n.as_f64() == Some(ours as f64),
        },
        _ => false,
    }
}

/// Record parsing: `AuthorizationRecord::from_json` on the raw body, checked against
/// `serde_json`, plus the RFC 3339 and compact time parsers on the same text.
pub fn record(data: &[u8]) {
    if let Ok(r) = AuthorizationRecord::from_json(data) {
        assert!(std::str::from_utf8(data).is_ok(), "accepted non-UTF-8");
        if let Some(map) = reference_object(data) {
            // Known fields may not repeat, so the last value serde_json keeps is the only one.
            for (key, ours) in [
                ("service_id", Some(r.service_id.as_str())),
                ("appid", Some(r.appid.as_str())),
                ("mchid", Some(r.mchid.as_str())),
                ("openid", r.openid.as_deref()),
                ("authorization_code", r.authorization_code.as_deref()),
                (
                    "authorization_state",
                    r.authorization_state.as_ref().map(|s| s.as_str()),
                ),
                ("notify_url", r.notify_url.as_deref()),
                (
                    "cancel_authorization_time",
                    r.cancel_authorization_time.as_ref().map(|t| t.as_str()),
                ),
                (
                    "authorization_success_time",
                    r.authorization_success_time.as_ref().map(|t| t.as_str()),
                ),
            ] {
                assert_eq!(reference_str(&map, key), ours, "field {key}");
            }
            assert!(same_number(map.get("user_risk_level"), r.user_risk_level));
            assert!(same_number(
                map.get("risk_level_version"),
                r.risk_level_version
            ));
        }
        for t in [&r.cancel_authorization_time, &r.authorization_success_time]
            .into_iter()
            .flatten()
        {
            assert_eq!(Some(t.parse()), DateTime::parse_rfc3339(t.as_str()));
            let _ = t.parse().unix_seconds();
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for parsed in [
            DateTime::parse_rfc3339(text),
            DateTime::parse_compact_beijing(text),
        ]
        .into_iter()
        .flatten()
        {
            assert!((1..=12).contains(&parsed.month) && parsed.day >= 1 && parsed.hour < 24);
            let _ = parsed.unix_seconds();
        }
    }
}

/// API error bodies: `ApiError::from_response` never fails, never shows more than it holds,
/// and displays as one line without control characters (it ends up in logs).
pub fn api_error(data: &[u8]) {
    let message = split_message(data);
    let e = ApiError::from_response(message.status, &message.headers, message.body);
    assert_eq!(e.status, message.status);
    assert_eq!(e.request_id, message.headers.request_id);
    assert!(e.message.len() <= MESSAGE_CAPACITY);
    if e.message_truncated {
        assert!(e.message.len() < message.body.len());
    }
    if !e.code.is_empty() {
        // A code only comes out of a body that parsed as a JSON object.
        let _ = reference_object(message.body);
    }
    assert!(!e.is_not_found() || e.status == 404);
    let shown = e.to_string();
    assert!(
        !shown.chars().any(char::is_control),
        "Display is not one clean line: {shown:?}"
    );
}

/// The key set [`verify()`] runs with: [`FUZZ_SERIAL`] accepts marker signatures,
/// [`REJECT_SERIAL`] rejects everything.
pub fn marker_keys() -> PlatformKeys<MarkerVerifier, 2> {
    let mut keys = PlatformKeys::new();
    assert_eq!(
        keys.insert(FUZZ_SERIAL, MarkerVerifier::accepting()),
        Ok(())
    );
    assert_eq!(
        keys.insert(REJECT_SERIAL, MarkerVerifier::rejecting()),
        Ok(())
    );
    keys
}

/// Response verification, behind [`MarkerVerifier`]: whatever the headers and body, `Ok` only
/// for a well-formed, fresh, marker-signed response under [`FUZZ_SERIAL`], and the key is
/// always asked about the digest of exactly `TIMESTAMP\nNONCE\nBODY\n`. A verified body then
/// goes through both body parsers.
pub fn verify(data: &[u8]) {
    let message = split_message(data);
    let headers = &message.headers;
    let keys = marker_keys();
    let verdict = verify::verify_response(&keys, headers, message.body, FUZZ_NOW);

    for serial in [FUZZ_SERIAL, REJECT_SERIAL] {
        let Some((digest, signature)) = keys.get(serial).and_then(|k| k.asked.get()) else {
            continue;
        };
        assert_eq!(headers.serial.as_deref(), Some(serial));
        assert!(matches!(
            verdict,
            Ok(()) | Err(wxpay_core::VerifyError::BadSignature)
        ));
        let timestamp = headers.timestamp.as_deref().unwrap_or_default();
        let nonce = headers.nonce.as_deref().unwrap_or_default();
        let mut raw = Vec::new();
        raw.extend_from_slice(format!("{timestamp}\n{nonce}\n").as_bytes());
        raw.extend_from_slice(message.body);
        raw.push(b'\n');
        assert_eq!(digest, <Sha256Digest>::from(Sha256::digest(&raw)));
        // The signature checked is the header's, decoded strictly.
        let mut b64 = [0u8; SIGNATURE_BASE64_LEN];
        assert_eq!(
            Base64::encode(&signature, &mut b64).ok(),
            headers.signature.as_deref()
        );
    }

    match verdict {
        Ok(()) => {
            assert_eq!(headers.malformed, None);
            assert_eq!(headers.serial.as_deref(), Some(FUZZ_SERIAL));
            let signature = headers.signature.as_deref().unwrap_or_default();
            assert!(!signature.starts_with(SIGNTEST_PREFIX));
            assert!(
                headers
                    .signature_type
                    .as_deref()
                    .is_none_or(|t| t == AUTH_SCHEME)
            );
            let timestamp = headers.timestamp.as_deref().unwrap_or_default();
            let signed_at: i64 = timestamp.parse().unwrap_or(i64::MIN);
            assert!(timestamp.bytes().all(|b| b.is_ascii_digit()));
            assert!((FUZZ_NOW - signed_at).abs() <= MAX_CLOCK_SKEW_SECS);
            // Only now may the body be parsed.
            record(message.body);
            let _ = ApiError::from_response(message.status, headers, message.body);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

fn is_bmp(text: &str) -> bool {
    text.chars().all(|c| c.len_utf8() <= 3)
}

/// The path/query builder: whatever the segment, keys and values, the target either builds
/// to the exact length `encoded_len` predicts, holds only unreserved bytes and `%XX` escapes,
/// and decodes back to the input; or it is refused for a documented reason. A buffer one byte
/// short reports the exact size. `percent_decode` is fuzzed on the raw text as well.
pub fn target_roundtrip(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\n');
    let segment = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let pairs: Vec<(&str, &str)> = rest
        .chunks(2)
        .map(|c| (c[0], c.get(1).copied().unwrap_or_default()))
        .collect();

    let build = |buf: &mut [u8]| -> Result<String, Error> {
        let mut b = TargetBuilder::new(buf, FUZZ_PATH).segment(segment);
        for (k, v) in &pairs {
            b = b.query(k, v);
        }
        b.finish().map(String::from)
    };
    // Empty, `.` and `..` segments are refused (a normalising proxy would resolve them).
    let valid = !segment.is_empty()
        && segment != "."
        && segment != ".."
        && is_bmp(segment)
        && pairs
            .iter()
            .all(|(k, v)| !k.is_empty() && is_bmp(k) && is_bmp(v));
    let expected_len = FUZZ_PATH.len()
        + 1
        + encoded_len(segment)
        + pairs
            .iter()
            .map(|(k, v)| 2 + encoded_len(k) + encoded_len(v))
            .sum::<usize>();

    match build(&mut vec![0u8; expected_len]) {
        Ok(target) => {
            assert!(valid, "built from invalid input: {target}");
            assert_eq!(target.len(), expected_len);
            assert_eq!(
                build(&mut vec![0u8; expected_len - 1]),
                Err(Error::BufferTooSmall {
                    needed: expected_len
                })
            );
            decode_back(&target, segment, &pairs);
        }
        Err(Error::InvalidInput { .. }) => assert!(!valid, "refused valid input"),
        Err(other) => panic!("unexpected {other:?}"),
    }

    // The Payscore wrapper is the same builder under its own path.
    let service_id = pairs.first().map_or("500001", |(_, v)| v);
    let mut buf = vec![0u8; 4096];
    let reference = permissions::CODE_RULE
        .check_text(segment, "authorization_code")
        .and_then(|()| permissions::ID_RULE.check_text(service_id, "service_id"))
        .and_then(|()| {
            TargetBuilder::new(&mut buf, permissions::BY_CODE_PATH)
                .segment(segment)
                .query("service_id", service_id)
                .finish()
                .map(String::from)
        });
    let by_code = permissions::QueryByCode::new(segment, service_id).and_then(|call| {
        let mut buf = [0u8; 16];
        match call.target(&mut buf) {
            Err(Error::BufferTooSmall { needed }) => {
                let mut exact = vec![0u8; needed];
                let retried = call.target(&mut exact).map(String::from);
                assert_eq!(retried.as_ref().map(String::len), Ok(needed));
                let mut short = vec![0u8; needed - 1];
                assert_eq!(
                    call.target(&mut short),
                    Err(Error::BufferTooSmall { needed })
                );
                retried
            }
            other => other.map(String::from),
        }
    });
    // Both refuse, or both give the same target (a 4 KiB buffer is only too small for both).
    match (&by_code, &reference) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (
            Err(Error::InvalidInput { .. } | Error::Invalid { .. }),
            Err(Error::InvalidInput { .. } | Error::Invalid { .. }),
        ) => {}
        _ => panic!("QueryByCode {by_code:?} vs builder {reference:?}"),
    }

    // Decoding arbitrary text: exact size, and decode(encode(decode(x))) == decode(x).
    let mut out = [0u8; 64];
    match percent_decode(&text, &mut out) {
        Ok(decoded) => {
            let decoded = String::from(decoded);
            if !decoded.is_empty() && decoded != "." && decoded != ".." && is_bmp(&decoded) {
                let mut enc = vec![0u8; 3 + encoded_len(&decoded)];
                let encoded = TargetBuilder::new(&mut enc, "/x")
                    .segment(&decoded)
                    .finish();
                let encoded = encoded.map(|e| e.strip_prefix("/x/").unwrap_or(e).to_owned());
                let mut again = vec![0u8; decoded.len()];
                assert_eq!(
                    encoded
                        .as_deref()
                        .map(|e| percent_decode(e, &mut again).map(String::from)),
                    Ok(Ok(decoded))
                );
            }
        }
        Err(Error::BufferTooSmall { needed }) => {
            let mut exact = vec![0u8; needed];
            assert!(!matches!(
                percent_decode(&text, &mut exact),
                Err(Error::BufferTooSmall { .. })
            ));
            let mut short = vec![0u8; needed - 1];
            assert_eq!(
                percent_decode(&text, &mut short),
                Err(Error::BufferTooSmall { needed })
            );
        }
        Err(_) => {}
    }
}

fn decode_back(target: &str, segment: &str, pairs: &[(&str, &str)]) {
    assert!(
        target
            .bytes()
            .all(|b| wxpay_core::path::is_unreserved(b) || b"%/?&=".contains(&b))
    );
    let rest = target
        .strip_prefix(FUZZ_PATH)
        .and_then(|r| r.strip_prefix('/'));
    let rest = rest.unwrap_or_else(|| panic!("{target} lost its path"));
    let (encoded_segment, query) = rest.split_once('?').unwrap_or((rest, ""));
    assert!(!encoded_segment.contains('/'), "a segment split: {target}");
    let decode = |encoded: &str| {
        let mut out = vec![0u8; encoded.len()];
        percent_decode(encoded, &mut out)
            .map(String::from)
            .unwrap_or_else(|e| panic!("{encoded} does not decode: {e}"))
    };
    assert_eq!(decode(encoded_segment), segment);
    let decoded_pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let want: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (String::from(*k), String::from(*v)))
        .collect();
    assert_eq!(decoded_pairs, want);
}

/// NO SECURITY, for fuzzing only: "signs" by repeating the digest, and remembers the digest.
#[derive(Debug)]
struct EchoSigner<'a> {
    serial_no: &'a str,
    digest: Option<Sha256Digest>,
}

impl Signer for EchoSigner<'_> {
    type Error = ();
    fn serial_no(&self) -> &str {
        self.serial_no
    }
    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), ()> {
        self.digest = Some(*digest);
        for (o, d) in out.iter_mut().zip(digest.iter().cycle()) {
            *o = *d;
        }
        Ok(())
    }
}

fn is_token(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The `Authorization` header: build from the input's fields, then parse back to the same
/// five values; the signer sees the digest of the canonical five-line message; the size is
/// exact. `parse_authorization` is fuzzed on the raw text as well.
pub fn authorization_roundtrip(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(7, '\n');
    let mut next = || parts.next().unwrap_or_default();
    let (mchid, serial_no, nonce) = (next(), next(), next());
    let timestamp: u64 = next().parse().unwrap_or_default();
    let method = Method::parse(next()).unwrap_or(Method::Post);
    let (target, body) = (next(), next().as_bytes());
    let input = SigningInput {
        mchid,
        method,
        target,
        body,
        timestamp,
        nonce,
    };
    let valid = is_token(mchid)
        && mchid.len() <= MCHID_CAPACITY
        && is_token(serial_no)
        && serial_no.len() <= SERIAL_CAPACITY
        && !nonce.is_empty()
        && nonce.bytes().all(|b| b.is_ascii_alphanumeric());
    let mut signer = EchoSigner {
        serial_no,
        digest: None,
    };
    let mut buf = [0u8; AUTHORIZATION_CAPACITY];
    let header = match sign::authorization(&mut signer, &input, &mut buf) {
        Ok(header) => String::from(header),
        Err(Error::BufferTooSmall { needed }) => {
            assert!(valid && needed > AUTHORIZATION_CAPACITY);
            let mut exact = vec![0u8; needed];
            let header = sign::authorization(&mut signer, &input, &mut exact);
            header.map(String::from).unwrap_or_else(|e| {
                panic!("a retry with the needed {needed} bytes failed: {e}");
            })
        }
        Err(Error::InvalidInput { .. } | Error::TooLong { .. }) => {
            assert!(!valid, "refused valid input");
            assert!(signer.digest.is_none(), "signed before checking the input");
            return parse_any(&text);
        }
        Err(other) => panic!("unexpected {other:?}"),
    };
    assert!(valid, "signed invalid input: {header}");
    let mut short = vec![0u8; header.len() - 1];
    assert_eq!(
        sign::authorization(&mut signer, &input, &mut short),
        Err(Error::BufferTooSmall {
            needed: header.len()
        })
    );

    let mut message = Vec::new();
    message.extend_from_slice(format!("{method}\n{target}\n{timestamp}\n{nonce}\n").as_bytes());
    message.extend_from_slice(body);
    message.push(b'\n');
    let digest: Sha256Digest = Sha256::digest(&message).into();
    assert_eq!(signer.digest, Some(digest));

    let mut signature = [0u8; SIGNATURE_LEN];
    for (o, d) in signature.iter_mut().zip(digest.iter().cycle()) {
        *o = *d;
    }
    let mut b64 = [0u8; SIGNATURE_BASE64_LEN];
    let timestamp = timestamp.to_string();
    let want = AuthorizationFields {
        mchid,
        nonce_str: nonce,
        timestamp: &timestamp,
        serial_no,
        signature: Base64::encode(&signature, &mut b64).unwrap_or_default(),
    };
    assert_eq!(sign::parse_authorization(&header), Ok(want));
    parse_any(&text);
}

/// `parse_authorization` on arbitrary text: whatever it accepts holds five clean values that
/// survive being written again in another order.
fn parse_any(text: &str) {
    let Ok(f) = sign::parse_authorization(text) else {
        return;
    };
    for value in [f.mchid, f.nonce_str, f.timestamp, f.serial_no, f.signature] {
        assert!(
            !value.is_empty() && !value.contains(['"', ',']),
            "{value:?}"
        );
    }
    let rewritten = format!(
        "{AUTH_SCHEME} signature=\"{}\",serial_no=\"{}\",timestamp=\"{}\",nonce_str=\"{}\",mchid=\"{}\"",
        f.signature, f.serial_no, f.timestamp, f.nonce_str, f.mchid
    );
    assert_eq!(sign::parse_authorization(&rewritten), Ok(f));
}
