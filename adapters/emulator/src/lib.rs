//! An offline WeChat Pay APIv3 for tests and demos. WeChat Pay has no sandbox.
//!
//! The [`Emulator`] authenticates every request like the real server: it rebuilds the signed
//! message from the raw method, target, timestamp, nonce and body, verifies it with the
//! merchant public key, and checks `mchid`, `serial_no` and a ±300 s window. It answers with
//! bodies signed by its platform key and all `Wechatpay-*` headers. It signs and verifies with
//! `wxpay-core`'s own code, so nothing in the protocol is written twice.
//!
//! It runs in-process as a [`Transport`](wxpay_core::Transport) ([`EmulatorTransport`]) or as a
//! loopback HTTP/1.1 server ([`server::Server`]). Faults are chosen per request with an
//! authorization code `FAULT_<NAME>` (see [`Fault`]) or for every request with
//! [`Emulator::set_fault`].

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wxpay_core::callback::{self, ApiV3Key};
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::path::percent_decode;
use wxpay_core::sign::{self, SIGNATURE_LEN, Signer};
use wxpay_core::time::{BEIJING_OFFSET_MINUTES, DateTime};
use wxpay_core::verify::{self, MAX_CLOCK_SKEW_SECS, SIGNTEST_PREFIX, Verifier};
use wxpay_core::{Error, Method, Nonce, RandomSource};

mod callbacks;
pub mod server;
mod transport;

pub use callbacks::CallbackMessage;
pub use transport::{EmulatorTransport, EmulatorTransportError};

/// The demo identity the emulator serves by default. TEST ONLY keys (see `keys/README.md`).
pub mod demo {
    /// Demo merchant id.
    pub const MCHID: &str = "1230000109";
    /// Serial of the demo merchant certificate.
    pub const MERCHANT_SERIAL: &str = "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29";
    /// The emulator's platform public-key id.
    pub const PLATFORM_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000001";
    /// Demo merchant private key, PKCS#8 PEM.
    pub const MERCHANT_KEY_PEM: &str = include_str!("../keys/merchant_key.pem");
    /// Demo merchant public key.
    pub const MERCHANT_PUB_PEM: &str = include_str!("../keys/merchant_pub.pem");
    /// The emulator's platform private key.
    pub const PLATFORM_KEY_PEM: &str = include_str!("../keys/platform_key.pem");
    /// The emulator's platform public key, for clients.
    pub const PLATFORM_PUB_PEM: &str = include_str!("../keys/platform_pub.pem");
    /// Demo Payscore service id.
    pub const SERVICE_ID: &str = "500001";
    /// Demo app id.
    pub const APPID: &str = "wxd678efh567hg6787";
    /// Authorization code of the seeded, authorised demo record.
    pub const AUTHORIZATION_CODE: &str = "1234323JKHDFE1243252";
    /// Openid of the seeded demo user.
    pub const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
    /// The demo merchant's APIv3 key (32 ASCII bytes) that callbacks are encrypted with.
    pub const APIV3_KEY: &str = "wxpayDemoApiV3Key-TEST-ONLY-0001";
}

/// A fault to inject into a response. A request whose authorization code is `FAULT_<NAME>`
/// (e.g. `FAULT_BAD_SIGNATURE`) gets that fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer after this many seconds.
    Delay(u64),
    /// Declare the full `Content-Length`, send half the body, close.
    TruncatedBody,
    /// Chunked encoding with a chunk boundary inside a UTF-8 character (the body is still valid).
    ChunkedSplitUtf8,
    /// A signature that does not match.
    BadSignature,
    /// `Wechatpay-Serial` names a key the client does not hold.
    UnknownSerial,
    /// Signed correctly, ten minutes ago.
    StaleTimestamp,
    /// A `WECHATPAY/SIGNTEST/` probe signature.
    SignTestProbe,
    /// A correctly signed record whose `openid` is one byte over its documented 128.
    OversizeField,
    /// A correctly signed 200 whose body is not JSON.
    NonJsonBody,
    /// `503 SERVICE_UNAVAILABLE` without any `Wechatpay-*` header.
    UnsignedError,
    /// A signed `500 SYSTEM_ERROR`.
    SystemError,
}

impl Fault {
    /// Every fault with its name, as used in `FAULT_<NAME>` codes and `--fault`.
    pub const ALL: &'static [(&'static str, Fault)] = &[
        ("DELAY_5", Fault::Delay(5)),
        ("TRUNCATED_BODY", Fault::TruncatedBody),
        ("CHUNKED_SPLIT_UTF8", Fault::ChunkedSplitUtf8),
        ("BAD_SIGNATURE", Fault::BadSignature),
        ("UNKNOWN_SERIAL", Fault::UnknownSerial),
        ("STALE_TIMESTAMP", Fault::StaleTimestamp),
        ("SIGNTEST_PROBE", Fault::SignTestProbe),
        ("OVERSIZE_FIELD", Fault::OversizeField),
        ("NON_JSON_BODY", Fault::NonJsonBody),
        ("UNSIGNED_ERROR", Fault::UnsignedError),
        ("SYSTEM_ERROR", Fault::SystemError),
    ];

    /// Parses a name such as `BAD_SIGNATURE` or `bad-signature`; `DELAY_<secs>` takes seconds.
    pub fn from_name(name: &str) -> Option<Fault> {
        let name = name.to_ascii_uppercase().replace('-', "_");
        if let Some(secs) = name.strip_prefix("DELAY_") {
            return secs.parse().ok().map(Fault::Delay);
        }
        Fault::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}

/// How the body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// `Content-Length` and the whole body.
    Normal,
    /// `Content-Length` of the whole body, half of it sent, then the connection closes.
    Truncated,
    /// Chunked, with a boundary inside a UTF-8 character.
    ChunkedSplitUtf8,
}

/// A request as the emulator sees it: raw method, target, headers and body.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    /// Method as sent.
    pub method: String,
    /// Request target exactly as sent (never decoded before verification).
    pub target: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// First header named `name`, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The emulator's answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (without framing headers; the server adds those).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// How the body is framed on the wire.
    pub wire: Wire,
    /// Wait before answering.
    pub delay: Option<Duration>,
}

impl HttpResponse {
    /// First header named `name`, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One authorization record held by the emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// `service_id`.
    pub service_id: String,
    /// `appid`.
    pub appid: String,
    /// `openid`, once a user is bound.
    pub openid: Option<String>,
    /// `authorization_code`.
    pub authorization_code: String,
    /// `UNBINDUSER`, `AVAILABLE` or `UNAVAILABLE`.
    pub authorization_state: String,
    /// `notify_url`.
    pub notify_url: Option<String>,
    /// `authorization_success_time`.
    pub authorization_success_time: Option<String>,
    /// `cancel_authorization_time`.
    pub cancel_authorization_time: Option<String>,
}

/// OS randomness for nonces and request ids.
struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(dest).map_err(|_| Error::Random)
    }
}

/// Seconds since the Unix epoch by the system clock.
pub fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Capacity of the log of seen request targets.
const SEEN_TARGETS_CAPACITY: usize = 1024;

/// The offline WeChat Pay.
pub struct Emulator {
    mchid: String,
    merchant_serial: String,
    merchant_key: RsaVerifier,
    platform_key_id: String,
    platform_signer: Mutex<RsaSigner>,
    records: Mutex<HashMap<String, StoredRecord>>,
    fault: Mutex<Option<Fault>>,
    seen_targets: Mutex<Vec<String>>,
    apiv3_key: ApiV3Key,
    callbacks: Mutex<Vec<CallbackMessage>>,
    callback_dir: Mutex<Option<PathBuf>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("platform_key_id", &self.platform_key_id)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// The demo merchant and platform (see [`demo`]), with seeded records.
    pub fn demo() -> Emulator {
        // The demo keys are compiled in and known to load; a failure here is a build defect.
        let merchant_key =
            RsaVerifier::from_pem(demo::MERCHANT_PUB_PEM).expect("demo merchant key loads");
        let platform = RsaSigner::from_pem(demo::PLATFORM_KEY_PEM, demo::PLATFORM_KEY_ID)
            .expect("demo platform key loads");
        let emulator = Emulator::new(
            demo::MCHID,
            demo::MERCHANT_SERIAL,
            merchant_key,
            demo::PLATFORM_KEY_ID,
            platform,
        );
        emulator.seed_demo_records();
        emulator
    }

    /// Sets the APIv3 key callbacks are encrypted with (the demo key by default).
    pub fn with_apiv3_key(mut self, key: ApiV3Key) -> Emulator {
        self.apiv3_key = key;
        self
    }

    /// An emulator for any merchant identity and platform key pair.
    pub fn new(
        mchid: &str,
        merchant_serial: &str,
        merchant_key: RsaVerifier,
        platform_key_id: &str,
        platform_signer: RsaSigner,
    ) -> Emulator {
        Emulator {
            mchid: mchid.to_owned(),
            merchant_serial: merchant_serial.to_owned(),
            merchant_key,
            platform_key_id: platform_key_id.to_owned(),
            platform_signer: Mutex::new(platform_signer),
            records: Mutex::new(HashMap::new()),
            fault: Mutex::new(None),
            seen_targets: Mutex::new(Vec::new()),
            // The demo key is a 32-byte constant.
            apiv3_key: ApiV3Key::from_text(demo::APIV3_KEY).expect("32-byte demo key"),
            callbacks: Mutex::new(Vec::new()),
            callback_dir: Mutex::new(None),
        }
    }

    fn seed_demo_records(&self) {
        let authorised = StoredRecord {
            service_id: demo::SERVICE_ID.to_owned(),
            appid: demo::APPID.to_owned(),
            openid: Some(demo::OPENID.to_owned()),
            authorization_code: demo::AUTHORIZATION_CODE.to_owned(),
            authorization_state: "AVAILABLE".to_owned(),
            notify_url: Some("https://api.test.com/payscore/notify".to_owned()),
            authorization_success_time: Some("2015-05-20T13:29:35+08:00".to_owned()),
            cancel_authorization_time: None,
        };
        self.insert_record(authorised.clone());
        // Codes with every character peers get wrong, and CJK; each one path segment.
        for code in ["a|b*c", "a/b?c#d%e f", "授权码-001", "PCT+a/b=c d"] {
            self.insert_record(StoredRecord {
                authorization_code: code.to_owned(),
                notify_url: Some("https://商户.example.com/支付分/通知".to_owned()),
                ..authorised.clone()
            });
        }
    }

    /// Adds or replaces a record, keyed by its authorization code.
    pub fn insert_record(&self, record: StoredRecord) {
        lock(&self.records).insert(record.authorization_code.clone(), record);
    }

    /// A copy of the record for `authorization_code`.
    pub fn record(&self, authorization_code: &str) -> Option<StoredRecord> {
        lock(&self.records).get(authorization_code).cloned()
    }

    /// Applies `fault` to every response from now on (`None` to stop).
    pub fn set_fault(&self, fault: Option<Fault>) {
        *lock(&self.fault) = fault;
    }

    /// Request targets exactly as received, oldest first (the last 1024).
    pub fn seen_targets(&self) -> Vec<String> {
        lock(&self.seen_targets).clone()
    }

    /// The merchant id clients must sign as.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The platform key id responses are signed with.
    pub fn platform_key_id(&self) -> &str {
        &self.platform_key_id
    }

    /// Answers one request as WeChat Pay would at time `now` (Unix seconds).
    pub fn handle(&self, request: &HttpRequest, now: i64) -> HttpResponse {
        {
            let mut seen = lock(&self.seen_targets);
            if seen.len() == SEEN_TARGETS_CAPACITY {
                seen.remove(0);
            }
            seen.push(request.target.clone());
        }
        let global_fault = *lock(&self.fault);
        if request.target.starts_with("/emulator/") {
            return self.test_hook(request, now);
        }
        if let Err(response) = self.authenticate(request, now) {
            return self.finish(response, global_fault, now);
        }
        let (answer, code_fault) = self.route(request, now);
        self.finish(answer, code_fault.or(global_fault), now)
    }

    /// Checks headers and the request signature; on failure, the error response.
    fn authenticate(&self, request: &HttpRequest, now: i64) -> Result<(), Answer> {
        if request.header("User-Agent").is_none_or(str::is_empty) {
            return Err(Answer::error(
                400,
                "INVALID_REQUEST",
                "missing User-Agent header",
            ));
        }
        if request.header("Accept").is_none_or(str::is_empty) {
            return Err(Answer::error(
                400,
                "INVALID_REQUEST",
                "missing Accept header",
            ));
        }
        let sign_error = |message: &str| Answer::error(401, "SIGN_ERROR", message);
        let header = request
            .header("Authorization")
            .ok_or_else(|| sign_error("missing Authorization header"))?;
        let fields = sign::parse_authorization(header).map_err(|e| sign_error(&e.to_string()))?;
        if fields.mchid != self.mchid {
            return Err(sign_error("mchid does not match"));
        }
        if fields.serial_no != self.merchant_serial {
            return Err(sign_error(
                "serial_no names no certificate of this merchant",
            ));
        }
        let timestamp: i64 = fields
            .timestamp
            .parse()
            .map_err(|_| sign_error("timestamp is not a number"))?;
        if now.saturating_sub(timestamp).saturating_abs() > MAX_CLOCK_SKEW_SECS {
            return Err(sign_error("timestamp is outside the allowed window"));
        }
        let method = Method::parse(&request.method)
            .ok_or_else(|| Answer::error(400, "INVALID_REQUEST", "unsupported method"))?;
        let timestamp = u64::try_from(timestamp).map_err(|_| sign_error("negative timestamp"))?;
        let digest = sign::request_digest(
            method,
            &request.target,
            timestamp,
            fields.nonce_str,
            &request.body,
        );
        let valid = verify::decode_signature(fields.signature)
            .map(|sig| self.merchant_key.verify_prehash(&digest, &sig))
            .unwrap_or(false);
        if !valid {
            // As WeChat Pay does: echo what was checked, so merchants can debug signatures.
            let message_len = request.method.len()
                + request.target.len()
                + fields.timestamp.len()
                + fields.nonce_str.len()
                + request.body.len()
                + 5;
            return Err(Answer::json(
                401,
                serde_json::json!({
                    "code": "SIGN_ERROR",
                    "message": "signature does not verify",
                    "detail": { "sign_information": {
                        "method": request.method,
                        "url": request.target,
                        "sign_message_length": message_len,
                    } },
                }),
            ));
        }
        if request
            .header("Wechatpay-Serial")
            .is_some_and(|serial| serial != self.platform_key_id)
        {
            return Err(Answer::error(
                400,
                "PARAM_ERROR",
                "Wechatpay-Serial is not a key of this merchant",
            ));
        }
        Ok(())
    }

    /// Dispatches an authenticated request. Returns the answer and a fault named by the code.
    fn route(&self, request: &HttpRequest, now: i64) -> (Answer, Option<Fault>) {
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((request.target.as_str(), ""));
        let Some(query) = decode_query(query) else {
            return (
                Answer::error(400, "PARAM_ERROR", "malformed query string"),
                None,
            );
        };
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let body = || serde_json::from_slice::<serde_json::Value>(&request.body).ok();
        let answer = match (request.method.as_str(), segments.as_slice()) {
            ("GET", ["v3", "payscore", "permissions", "authorization-code", code]) => {
                let Some(code) = decode(code) else {
                    return (
                        Answer::error(400, "PARAM_ERROR", "malformed authorization_code"),
                        None,
                    );
                };
                let Some(service_id) = query.get("service_id") else {
                    return (
                        Answer::error(400, "PARAM_ERROR", "service_id is required"),
                        None,
                    );
                };
                if let Some(name) = code.strip_prefix("FAULT_") {
                    return match Fault::from_name(name) {
                        Some(fault) => (self.fault_record(fault, service_id), Some(fault)),
                        None => (Answer::error(400, "PARAM_ERROR", "unknown fault"), None),
                    };
                }
                self.query_by_code(&code, service_id)
            }
            ("GET", ["v3", "payscore", "permissions", "openid", openid]) => {
                match (decode(openid), query.get("appid"), query.get("service_id")) {
                    (Some(openid), Some(appid), Some(service_id)) => {
                        self.query_by_openid(&openid, appid, service_id)
                    }
                    _ => Answer::error(
                        400,
                        "PARAM_ERROR",
                        "openid, appid and service_id are required",
                    ),
                }
            }
            ("POST", ["v3", "payscore", "permissions"]) => self.pre_authorize(body(), now),
            (
                "POST",
                [
                    "v3",
                    "payscore",
                    "permissions",
                    "authorization-code",
                    code,
                    "terminate",
                ],
            ) => match decode(code) {
                Some(code) => self.terminate(Lookup::Code(&code), body(), now),
                None => Answer::error(400, "PARAM_ERROR", "malformed authorization_code"),
            },
            (
                "POST",
                [
                    "v3",
                    "payscore",
                    "permissions",
                    "openid",
                    openid,
                    "terminate",
                ],
            ) => match decode(openid) {
                Some(openid) => self.terminate(Lookup::Openid(&openid), body(), now),
                None => Answer::error(400, "PARAM_ERROR", "malformed openid"),
            },
            _ => Answer::error(404, "NOT_FOUND", "no such API"),
        };
        (answer, None)
    }

    /// `POST /v3/payscore/permissions`: a new record in `UNBINDUSER`.
    fn pre_authorize(&self, body: Option<serde_json::Value>, _now: i64) -> Answer {
        let Some(body) = body else {
            return Answer::error(400, "PARAM_ERROR", "body is not JSON");
        };
        let field = |name: &str, max: usize| -> Result<Option<String>, Answer> {
            match body.get(name) {
                None => Ok(None),
                Some(serde_json::Value::String(s)) if s.len() <= max => Ok(Some(s.clone())),
                Some(_) => Err(Answer::error(
                    400,
                    "PARAM_ERROR",
                    &format!("{name} is invalid"),
                )),
            }
        };
        let required = |name: &str| -> Result<String, Answer> {
            field(name, 32)?
                .filter(|s| !s.is_empty())
                .ok_or_else(|| Answer::error(400, "PARAM_ERROR", &format!("{name} is required")))
        };
        let parsed = (|| {
            Ok((
                required("service_id")?,
                required("appid")?,
                required("authorization_code")?,
                field("notify_url", 255)?,
            ))
        })();
        let (service_id, appid, code, notify_url) = match parsed {
            Ok(fields) => fields,
            Err(answer) => return answer,
        };
        let mut records = lock(&self.records);
        if records.contains_key(&code) {
            return Answer::error(
                400,
                "INVALID_REQUEST",
                "authorization_code is already in use",
            );
        }
        records.insert(
            code.clone(),
            StoredRecord {
                service_id,
                appid,
                openid: None,
                authorization_code: code,
                authorization_state: "UNBINDUSER".into(),
                notify_url,
                authorization_success_time: None,
                cancel_authorization_time: None,
            },
        );
        Answer::json(
            200,
            serde_json::json!({ "apply_permissions_token": random_alnum(40) }),
        )
    }

    fn query_by_openid(&self, openid: &str, appid: &str, service_id: &str) -> Answer {
        match self.find_by_openid(openid, appid, service_id) {
            Some(record) => Answer::json(200, self.record_json(&record)),
            None => Answer::error(
                404,
                "ORDER_NOT_EXIST",
                "no authorization record for this openid",
            ),
        }
    }

    /// The user's record for this app and service: the authorised one if any, else the latest.
    fn find_by_openid(&self, openid: &str, appid: &str, service_id: &str) -> Option<StoredRecord> {
        let records = lock(&self.records);
        let mut matching: Vec<&StoredRecord> = records
            .values()
            .filter(|r| {
                r.openid.as_deref() == Some(openid)
                    && r.appid == appid
                    && r.service_id == service_id
            })
            .collect();
        matching.sort_by_key(|r| {
            (
                r.authorization_state == "AVAILABLE",
                r.cancel_authorization_time.clone(),
            )
        });
        matching.last().map(|r| (*r).clone())
    }

    /// Ends an authorization: `AVAILABLE` (or `UNBINDUSER`) becomes `UNAVAILABLE`; 204.
    fn terminate(&self, lookup: Lookup<'_>, body: Option<serde_json::Value>, now: i64) -> Answer {
        let Some(body) = body else {
            return Answer::error(400, "PARAM_ERROR", "body is not JSON");
        };
        let text = |name: &str| body.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let Some(service_id) = text("service_id") else {
            return Answer::error(400, "PARAM_ERROR", "service_id is required");
        };
        match text("reason") {
            Some(reason) if (1..=50).contains(&reason.chars().count()) => {}
            _ => return Answer::error(400, "PARAM_ERROR", "reason must be 1 to 50 characters"),
        }
        let code = match lookup {
            Lookup::Code(code) => Some(code.to_owned()),
            Lookup::Openid(openid) => {
                let Some(appid) = text("appid") else {
                    return Answer::error(400, "PARAM_ERROR", "appid is required");
                };
                self.find_by_openid(openid, &appid, &service_id)
                    .map(|r| r.authorization_code)
            }
        };
        let record = {
            let mut records = lock(&self.records);
            let Some(record) = code
                .and_then(|c| records.get_mut(&c))
                .filter(|r| r.service_id == service_id)
            else {
                return Answer::error(404, "ORDER_NOT_EXIST", "no such authorization record");
            };
            if record.authorization_state == "UNAVAILABLE" {
                return Answer::error(
                    400,
                    "INVALID_ORDER_STATE",
                    "the authorization has already ended",
                );
            }
            record.authorization_state = "UNAVAILABLE".into();
            record.cancel_authorization_time = Some(beijing_rfc3339(now));
            record.clone()
        };
        self.emit_callback(callback::USER_CLOSE_SERVICE, &record, now);
        Answer {
            status: 204,
            body: Vec::new(),
        }
    }

    /// Test hooks outside the API: `POST /emulator/bind {"authorization_code","openid"}`
    /// binds a user as if they accepted in WeChat.
    fn test_hook(&self, request: &HttpRequest, now: i64) -> HttpResponse {
        let answer = match (request.method.as_str(), request.target.as_str()) {
            ("POST", "/emulator/bind") => {
                let body: serde_json::Value =
                    serde_json::from_slice(&request.body).unwrap_or_default();
                match (body["authorization_code"].as_str(), body["openid"].as_str()) {
                    (Some(code), Some(openid)) => match self.bind_user(code, openid, now) {
                        Ok(()) => Answer {
                            status: 204,
                            body: Vec::new(),
                        },
                        Err(why) => Answer::error(400, "INVALID_ORDER_STATE", &why),
                    },
                    _ => Answer::error(
                        400,
                        "PARAM_ERROR",
                        "authorization_code and openid are required",
                    ),
                }
            }
            _ => Answer::error(404, "NOT_FOUND", "no such test hook"),
        };
        self.finish(answer, None, now)
    }

    /// Creates a pre-authorised record for `authorization_code` and binds `openid` to it now:
    /// an authorised user and its `USER_OPEN_SERVICE` callback, in one step, for tests.
    pub fn bind_user_for_test(&self, authorization_code: &str, openid: &str) {
        self.insert_record(StoredRecord {
            service_id: demo::SERVICE_ID.to_owned(),
            appid: demo::APPID.to_owned(),
            openid: None,
            authorization_code: authorization_code.to_owned(),
            authorization_state: "UNBINDUSER".to_owned(),
            notify_url: None,
            authorization_success_time: None,
            cancel_authorization_time: None,
        });
        // The record was just created in UNBINDUSER, so binding succeeds.
        let _ = self.bind_user(authorization_code, openid, system_now());
    }

    /// Binds a user to a pre-authorised record (`UNBINDUSER` → `AVAILABLE`) and sends the
    /// `USER_OPEN_SERVICE` callback, as WeChat does when the user accepts.
    pub fn bind_user(
        &self,
        authorization_code: &str,
        openid: &str,
        now: i64,
    ) -> Result<(), String> {
        let record = {
            let mut records = lock(&self.records);
            let record = records
                .get_mut(authorization_code)
                .ok_or_else(|| format!("no record for authorization_code {authorization_code}"))?;
            if record.authorization_state != "UNBINDUSER" {
                return Err(format!(
                    "record is {}, not UNBINDUSER",
                    record.authorization_state
                ));
            }
            record.authorization_state = "AVAILABLE".into();
            record.openid = Some(openid.to_owned());
            record.authorization_success_time = Some(beijing_rfc3339(now));
            record.clone()
        };
        self.emit_callback(callback::USER_OPEN_SERVICE, &record, now);
        Ok(())
    }

    fn query_by_code(&self, code: &str, service_id: &str) -> Answer {
        match lock(&self.records).get(code) {
            Some(record) if record.service_id == service_id => {
                Answer::json(200, self.record_json(record))
            }
            _ => Answer::error(
                404,
                "ORDER_NOT_EXIST",
                "no authorization record for this code",
            ),
        }
    }

    /// The record JSON, with fields the API omits left out.
    fn record_json(&self, record: &StoredRecord) -> serde_json::Value {
        let mut json = serde_json::Map::new();
        json.insert("service_id".into(), record.service_id.clone().into());
        json.insert("appid".into(), record.appid.clone().into());
        json.insert("mchid".into(), self.mchid.clone().into());
        if let Some(openid) = &record.openid {
            json.insert("openid".into(), openid.clone().into());
        }
        json.insert(
            "authorization_code".into(),
            record.authorization_code.clone().into(),
        );
        json.insert(
            "authorization_state".into(),
            record.authorization_state.clone().into(),
        );
        for (key, value) in [
            ("notify_url", &record.notify_url),
            (
                "cancel_authorization_time",
                &record.cancel_authorization_time,
            ),
            (
                "authorization_success_time",
                &record.authorization_success_time,
            ),
        ] {
            if let Some(value) = value {
                json.insert(key.into(), value.clone().into());
            }
        }
        serde_json::Value::Object(json)
    }

    /// The answer a fault starts from.
    fn fault_record(&self, fault: Fault, service_id: &str) -> Answer {
        let mut record = lock(&self.records)
            .get(demo::AUTHORIZATION_CODE)
            .cloned()
            .unwrap_or_else(|| StoredRecord {
                service_id: service_id.to_owned(),
                appid: demo::APPID.to_owned(),
                openid: None,
                authorization_code: String::new(),
                authorization_state: "AVAILABLE".to_owned(),
                notify_url: None,
                authorization_success_time: None,
                cancel_authorization_time: None,
            });
        record.service_id = service_id.to_owned();
        match fault {
            Fault::OversizeField => record.openid = Some("o".repeat(129)),
            // A multi-byte character near the middle of the body, where the chunk splits.
            Fault::ChunkedSplitUtf8 => {
                record.notify_url = Some("https://商户.example.com/支付分/通知/回调".to_owned());
            }
            Fault::NonJsonBody => {
                return Answer {
                    status: 200,
                    body: b"<html>not json</html>".to_vec(),
                };
            }
            Fault::UnsignedError => {
                return Answer::error(
                    503,
                    "SERVICE_UNAVAILABLE",
                    "service unavailable, retry later",
                );
            }
            Fault::SystemError => {
                return Answer::error(500, "SYSTEM_ERROR", "system error, retry later");
            }
            _ => {}
        }
        Answer::json(200, self.record_json(&record))
    }

    /// Signs the answer (unless the fault says otherwise) and frames it.
    fn finish(&self, answer: Answer, fault: Option<Fault>, now: i64) -> HttpResponse {
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
        let signed = lock(&self.platform_signer).sign_prehash(&digest, &mut signature);
        if fault == Some(Fault::BadSignature) {
            signature[0] ^= 0x01;
        }
        let mut signature = match signed {
            Ok(()) => base64(&signature),
            Err(_) => String::new(),
        };
        if fault == Some(Fault::SignTestProbe) {
            signature = format!("{SIGNTEST_PREFIX}{}", &signature[..40]);
        }
        let serial = if fault == Some(Fault::UnknownSerial) {
            "PUB_KEY_ID_0000000000000000000000000000099".to_owned()
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

/// How a terminate request names its record.
enum Lookup<'a> {
    Code(&'a str),
    Openid(&'a str),
}

/// `now` as RFC 3339 in Beijing time, as the API writes times.
fn beijing_rfc3339(now: i64) -> String {
    DateTime::from_unix_seconds(now, BEIJING_OFFSET_MINUTES).to_string()
}

fn random_alnum(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut raw = vec![0u8; len];
    if getrandom::fill(&mut raw).is_err() {
        raw.fill(0);
    }
    raw.iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// Status and body before signing.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn json(status: u16, value: serde_json::Value) -> Answer {
        Answer {
            status,
            body: value.to_string().into_bytes(),
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Answer {
        Answer::json(
            status,
            serde_json::json!({ "code": code, "message": message }),
        )
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn decode(component: &str) -> Option<String> {
    let mut out = vec![0u8; component.len()];
    percent_decode(component, &mut out).ok().map(str::to_owned)
}

fn decode_query(query: &str) -> Option<HashMap<String, String>> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((decode(key)?, decode(value)?))
        })
        .collect()
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
    use std::sync::Arc;

    use wxpay_core::sign::{AUTHORIZATION_CAPACITY, SigningInput};
    use wxpay_core::{Client, ClientError, Clock, PlatformKeys};

    use super::*;

    const NOW: i64 = 1_700_000_000;
    const TARGET: &str =
        "/v3/payscore/permissions/authorization-code/1234323JKHDFE1243252?service_id=500001";

    fn signed(
        key_pem: &str,
        serial: &str,
        mchid: &str,
        timestamp: i64,
        target: &str,
    ) -> HttpRequest {
        let mut signer = RsaSigner::from_pem(key_pem, serial).expect("key");
        let mut buf = [0u8; AUTHORIZATION_CAPACITY];
        let input = SigningInput {
            mchid,
            method: Method::Get,
            target,
            body: b"",
            timestamp: u64::try_from(timestamp).expect("positive"),
            nonce: "593BEC0C930BF1AFEB40B4A08C8FB242",
        };
        let authorization = sign::authorization(&mut signer, &input, &mut buf)
            .expect("signs")
            .to_owned();
        HttpRequest {
            method: "GET".into(),
            target: target.into(),
            headers: vec![
                ("Authorization".into(), authorization),
                ("Accept".into(), "application/json".into()),
                ("User-Agent".into(), "test".into()),
            ],
            body: Vec::new(),
        }
    }

    fn demo_request() -> HttpRequest {
        signed(
            demo::MERCHANT_KEY_PEM,
            demo::MERCHANT_SERIAL,
            demo::MCHID,
            NOW,
            TARGET,
        )
    }

    fn code_of(response: &HttpResponse) -> (u16, String) {
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
        (
            response.status,
            body["code"].as_str().unwrap_or_default().to_owned(),
        )
    }

    #[test]
    fn authentication_table() {
        let emulator = Emulator::demo();
        let without = |name: &str| {
            let mut r = demo_request();
            r.headers.retain(|(n, _)| n != name);
            r
        };
        let mut tampered_target = demo_request();
        tampered_target.target = TARGET.replace("500001", "500002");
        let mut unknown_serial_header = demo_request();
        unknown_serial_header
            .headers
            .push(("Wechatpay-Serial".into(), "PUB_KEY_ID_X".into()));
        #[rustfmt::skip]
        let cases: Vec<(&str, HttpRequest, (u16, &str))> = vec![
            ("ok",                 demo_request(), (200, "")),
            ("no User-Agent",      without("User-Agent"), (400, "INVALID_REQUEST")),
            ("no Accept",          without("Accept"), (400, "INVALID_REQUEST")),
            ("no Authorization",   without("Authorization"), (401, "SIGN_ERROR")),
            ("other mchid",        signed(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL, "1230000110", NOW, TARGET), (401, "SIGN_ERROR")),
            ("other serial",       signed(demo::MERCHANT_KEY_PEM, "5DF34429A8561CBBC19AE88B111C34BE5C2ACD30", demo::MCHID, NOW, TARGET), (401, "SIGN_ERROR")),
            ("wrong key",          signed(demo::PLATFORM_KEY_PEM, demo::MERCHANT_SERIAL, demo::MCHID, NOW, TARGET), (401, "SIGN_ERROR")),
            ("301 s old",          signed(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL, demo::MCHID, NOW - 301, TARGET), (401, "SIGN_ERROR")),
            ("299 s ahead",        signed(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL, demo::MCHID, NOW + 299, TARGET), (200, "")),
            ("target changed",     tampered_target, (401, "SIGN_ERROR")),
            ("unknown key id",     unknown_serial_header, (400, "PARAM_ERROR")),
        ];
        for (name, request, (status, code)) in cases {
            let response = emulator.handle(&request, NOW);
            assert_eq!(code_of(&response), (status, code.to_owned()), "{name}");
            assert!(
                response.header("Wechatpay-Signature").is_some(),
                "{name}: signed"
            );
        }
    }

    #[test]
    fn fault_names_round_trip() {
        for (name, fault) in Fault::ALL {
            assert_eq!(Fault::from_name(name), Some(*fault));
        }
        assert_eq!(Fault::from_name("bad-signature"), Some(Fault::BadSignature));
        assert_eq!(Fault::from_name("delay-2"), Some(Fault::Delay(2)));
        assert_eq!(Fault::from_name("nope"), None);
    }

    struct Fixed(i64);
    impl Clock for Fixed {
        fn unix_seconds(&self) -> i64 {
            self.0
        }
    }

    #[test]
    fn in_process_transport_serves_the_core_client() {
        let emulator = Arc::new(Emulator::demo());
        let transport = EmulatorTransport::new(Arc::clone(&emulator)).with_time(NOW);
        let signer =
            RsaSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL).expect("key");
        let keys: PlatformKeys<RsaVerifier> = PlatformKeys::with_key(
            demo::PLATFORM_KEY_ID,
            RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("key"),
        )
        .expect("fits");
        let mut client = Client::new(transport, signer, keys, Fixed(NOW), OsRandom, demo::MCHID)
            .expect("client");
        let mut body = [0u8; 2048];
        let record = client
            .authorization_by_code("a|b*c", demo::SERVICE_ID, &mut body)
            .expect("record");
        assert_eq!(record.authorization_code.as_deref(), Some("a|b*c"));
        let mut body = [0u8; 2048];
        assert_eq!(
            client.authorization_by_code("FAULT_TRUNCATED_BODY", demo::SERVICE_ID, &mut body),
            Err(ClientError::Transport(EmulatorTransportError::Truncated))
        );
        emulator.set_fault(Some(Fault::BadSignature));
        let mut body = [0u8; 2048];
        assert!(matches!(
            client.authorization_by_code(demo::AUTHORIZATION_CODE, demo::SERVICE_ID, &mut body),
            Err(ClientError::Verify { .. })
        ));
    }
}
