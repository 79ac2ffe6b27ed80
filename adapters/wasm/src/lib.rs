//! `wxpay-core` as a WebAssembly module for hosts that do the HTTP I/O themselves.
//!
//! The host (a browser, Node, a worker) supplies three things: the transport (a `fetch`-like
//! function), the clock and random bytes. Everything else happens inside the module: the
//! request target, the nonce, the signature and the headers on the way out; verification over
//! the raw body bytes, the ±300 s window and parsing on the way back. The merchant key is
//! loaded once into the module and never handed back to the host.
//!
//! The API is two steps, sans-io like the core: [`Session::prepare_query`] gives the method,
//! target, headers and body to send; [`Session::finish_query`] takes the status, headers and
//! raw body that came back and gives the verified record or a typed [`Failure`]. The module's
//! ABI (`src/abi.rs`, wasm32 only) marshals strings and bytes through plain exports and two
//! imports (`wxpay.now`, `wxpay.random_fill`); `js/wxpay.mjs` is the hand-written loader.
//! Everything here is plain Rust, so the host runs the same code in `cargo test`.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable
    )
)]

#[cfg(target_arch = "wasm32")]
mod abi;
pub mod calls;
pub mod json;

use std::convert::Infallible;
use std::fmt;

use wxpay_core::api::permissions::{self, QueryByCode};
use wxpay_core::client::check_response;
use wxpay_core::crypto::rsa::{BlindedRsaSigner, KeyError, RsaSigner, RsaVerifier};
use wxpay_core::sign::{self, AUTHORIZATION_CAPACITY, MCHID_CAPACITY, SERIAL_CAPACITY};
use wxpay_core::{
    AuthorizationRecord, Call, ClientError, Error, Method, Nonce, PlatformKeys, RandomSource,
    Request, RequestId, ResponseHead,
};

/// `User-Agent` of this adapter: the core's name and version, then this crate's.
pub const USER_AGENT: &str = concat!(
    "wxpay-core/",
    env!("CARGO_PKG_VERSION"),
    " wxpay-wasm/",
    env!("CARGO_PKG_VERSION")
);

/// Platform keys a session holds: a certificate beside a `PUB_KEY_ID_…` during a migration.
pub const PLATFORM_KEYS: usize = 2;

/// Prefix of WeChat Pay public-key ids; holding such a key turns on public-key mode.
pub const PUBLIC_KEY_ID_PREFIX: &str = "PUB_KEY_ID_";

/// Why a call failed. Every variant reaches the host as a typed JSON object (see [`json`]).
///
/// Not boxed: the `Ok` side of [`Session::finish_query`] (a record) is larger still.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A key did not load; `which` names it.
    Key {
        /// `"merchant private key"` or `"platform public key"`.
        which: &'static str,
        /// Why.
        error: KeyError,
    },
    /// The request could not be built, or an argument is not acceptable.
    Request(Error),
    /// The response: an API error, a verification failure, or a body that does not parse.
    Response(ClientError<Infallible>),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Request(e)
    }
}

impl From<ClientError<Infallible>> for Failure {
    fn from(e: ClientError<Infallible>) -> Self {
        match e {
            ClientError::Request(e) => Failure::Request(e),
            other => Failure::Response(other),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Key { which, error } => write!(f, "{which}: {error}"),
            Failure::Request(e) => write!(f, "request: {e}"),
            Failure::Response(e) => match e {
                ClientError::Transport(never) => match *never {},
                other => fmt::Display::fmt(other, f),
            },
        }
    }
}

/// A signed request for the host to send exactly as given.
///
/// The host sends `target` after its base URL byte for byte (it is already percent-encoded,
/// and a WHATWG URL parser leaves it alone), with these headers and this body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Method.
    pub method: Method,
    /// Path and query, percent-encoded, exactly as signed.
    pub target: String,
    /// Every header to send (`Authorization`, `Accept`, `User-Agent`, …), in order.
    pub headers: Vec<(&'static str, String)>,
    /// The body exactly as signed; empty for GET.
    pub body: String,
}

/// What came back, as the host's HTTP stack reports it.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// HTTP status.
    pub status: u16,
    /// Every header, one `name: value` per line (`\n` or `\r\n`); names in any case.
    pub headers: &'a str,
    /// The raw body bytes, never decoded or re-serialised.
    pub body: &'a [u8],
}

impl Response<'_> {
    fn head(&self) -> ResponseHead {
        let mut head = ResponseHead {
            status: self.status,
            body_len: self.body.len(),
            ..ResponseHead::default()
        };
        for line in self.headers.lines() {
            if let Some((name, value)) = line.split_once(':') {
                head.headers.capture(name.trim(), value.as_bytes());
            }
        }
        head
    }
}

/// One merchant: its private key (blinded with the host's randomness), the platform keys and
/// the ids it signs with. `Debug` shows no key material.
pub struct Session<R> {
    signer: BlindedRsaSigner<R>,
    random: R,
    platform_keys: PlatformKeys<RsaVerifier, PLATFORM_KEYS>,
    mchid: heapless::String<MCHID_CAPACITY>,
    wechatpay_serial: Option<heapless::String<SERIAL_CAPACITY>>,
    /// The query prepared last: its answer must answer it.
    pending: Option<QueryByCode>,
    /// The typed call prepared last by [`Session::prepare_call`].
    pending_call: Option<calls::Pending>,
}

impl<R> fmt::Debug for Session<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("mchid", &self.mchid)
            .field("signer", &self.signer)
            .field("wechatpay_serial", &self.wechatpay_serial)
            .finish_non_exhaustive()
    }
}

impl<R: RandomSource + Clone> Session<R> {
    /// A session for merchant `mchid`, whose API certificate has serial `merchant_serial` and
    /// whose private key is `merchant_key_pem` (PKCS#8 or PKCS#1 PEM).
    pub fn new(
        mchid: &str,
        merchant_serial: &str,
        merchant_key_pem: &str,
        random: R,
    ) -> Result<Self, Failure> {
        let signer = RsaSigner::from_pem(merchant_key_pem, merchant_serial).map_err(|error| {
            Failure::Key {
                which: "merchant private key",
                error,
            }
        })?;
        let mchid = heapless::String::try_from(mchid).map_err(|_| Error::TooLong {
            what: "mchid",
            max: MCHID_CAPACITY,
        })?;
        Ok(Session {
            signer: signer.with_blinding(random.clone()),
            random,
            platform_keys: PlatformKeys::new(),
            mchid,
            wechatpay_serial: None,
            pending: None,
            pending_call: None,
        })
    }

    /// Adds (or replaces) a platform key. The first `PUB_KEY_ID_…` key added turns on
    /// public-key mode: requests then carry `Wechatpay-Serial` with its id.
    pub fn add_platform_key(&mut self, serial: &str, public_key_pem: &str) -> Result<(), Failure> {
        let key = RsaVerifier::from_pem(public_key_pem).map_err(|error| Failure::Key {
            which: "platform public key",
            error,
        })?;
        self.platform_keys.insert(serial, key)?;
        if self.wechatpay_serial.is_none() && serial.starts_with(PUBLIC_KEY_ID_PREFIX) {
            self.wechatpay_serial = heapless::String::try_from(serial).ok();
        }
        Ok(())
    }

    /// Signs any request with the given time and nonce (the shared vectors, or a replay).
    ///
    /// `target` must be already percent-encoded: a leading `/`, printable ASCII only.
    pub fn sign_request(
        &mut self,
        method: &str,
        target: &str,
        body: &str,
        timestamp: u64,
        nonce: &str,
    ) -> Result<Prepared, Failure> {
        let method = Method::parse(method).ok_or(Error::InvalidInput {
            what: "method must be GET, POST, PUT, PATCH or DELETE",
        })?;
        if !target.starts_with('/') || !target.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::InvalidInput {
                what: "target must be an encoded path starting with '/'",
            }
            .into());
        }
        let nonce = Nonce::from_str_checked(nonce)?;
        let mut header = [0u8; AUTHORIZATION_CAPACITY];
        let authorization = sign::authorization(
            &mut self.signer,
            &sign::SigningInput {
                mchid: &self.mchid,
                method,
                target,
                body: body.as_bytes(),
                timestamp,
                nonce: nonce.as_str(),
            },
            &mut header,
        )?;
        let request = Request {
            method,
            target,
            authorization,
            user_agent: USER_AGENT,
            wechatpay_serial: self.wechatpay_serial.as_deref(),
            body: body.as_bytes(),
        };
        Ok(Prepared {
            method,
            target: target.to_owned(),
            headers: request
                .headers()
                .map(|(name, value)| (name, value.to_owned()))
                .collect(),
            body: body.to_owned(),
        })
    }

    /// Step one of a typed call by name (see [`calls`]): the arguments are parsed strictly and
    /// validated, then the request is signed at time `now` with a fresh nonce.
    pub fn prepare_call(&mut self, name: &str, args: &[u8], now: i64) -> Result<Prepared, Failure> {
        let timestamp = u64::try_from(now).map_err(|_| Error::InvalidInput {
            what: "clock is before 1970",
        })?;
        let pending = calls::Pending::new(name, args)?;
        let prepared = pending.with(Prepare {
            session: self,
            timestamp,
        })?;
        self.pending_call = Some(pending);
        Ok(prepared)
    }

    /// Step two of a typed call: the answer, only if it verified over the raw body at time
    /// `now` and answers the prepared call (its identifiers bound), rendered as JSON.
    pub fn finish_call(
        &mut self,
        response: &Response<'_>,
        now: i64,
    ) -> Result<(String, Option<RequestId>), Failure> {
        let pending = self.pending_call.take().ok_or(Error::InvalidInput {
            what: "no call was prepared",
        })?;
        let verified = check_response::<_, PLATFORM_KEYS, Infallible>(
            &self.platform_keys,
            response.head(),
            response.body,
            now,
        )?;
        let rendered = pending.with(Finish {
            verified: &verified,
            mchid: &self.mchid,
        })?;
        Ok((rendered, verified.request_id))
    }

    /// Step one of the query by authorization code: the signed request, at time `now` with a
    /// fresh nonce. `authorization_code` is raw; it is percent-encoded here.
    pub fn prepare_query(
        &mut self,
        authorization_code: &str,
        service_id: &str,
        now: i64,
    ) -> Result<Prepared, Failure> {
        let timestamp = u64::try_from(now).map_err(|_| Error::InvalidInput {
            what: "clock is before 1970",
        })?;
        let call = QueryByCode::new(authorization_code, service_id)?;
        let mut target = [0u8; permissions::TARGET_CAPACITY];
        let target = call.target(&mut target)?;
        let nonce = Nonce::generate(&mut self.random)?;
        let prepared = self.sign_request("GET", target, "", timestamp, nonce.as_str())?;
        self.pending = Some(call);
        Ok(prepared)
    }

    /// Step two: the record, only if the response is a 2xx whose signature verified over the
    /// raw body at time `now` and that answers the prepared query (`mchid`, `service_id`,
    /// `authorization_code` bound); otherwise the API error, the verification failure or the
    /// parse failure, each with the `Request-ID`.
    pub fn finish_query(
        &mut self,
        response: &Response<'_>,
        now: i64,
    ) -> Result<(AuthorizationRecord, Option<RequestId>), Failure> {
        let verified = check_response::<_, PLATFORM_KEYS, Infallible>(
            &self.platform_keys,
            response.head(),
            response.body,
            now,
        )?;
        let call = self.pending.take().ok_or(Error::InvalidInput {
            what: "no query was prepared",
        })?;
        let record = verified.parse(|body| call.parse(body))?;
        call.check(&record, &self.mchid)
            .map_err(|error| ClientError::<Infallible>::Verify {
                error,
                request_id: verified.request_id.clone(),
            })?;
        Ok((record, verified.request_id))
    }
}

/// Signs a typed call's request.
struct Prepare<'s, R> {
    session: &'s mut Session<R>,
    timestamp: u64,
}

impl<R: RandomSource + Clone> calls::CallVisitor for Prepare<'_, R> {
    type Output = Result<Prepared, Failure>;
    fn visit<Q: Call>(self, call: &Q) -> Self::Output {
        let mut target = vec![0u8; wxpay_core::call::TARGET_CAPACITY];
        let target = call.target(&mut target)?;
        let mut body = vec![0u8; 64 * 1024];
        let body = call.body(&mut body)?;
        let nonce = Nonce::generate(&mut self.session.random)?;
        self.session.sign_request(
            Q::METHOD.as_str(),
            target,
            body,
            self.timestamp,
            nonce.as_str(),
        )
    }
}

/// Parses, binds and renders a verified answer.
struct Finish<'v, 'b> {
    verified: &'v wxpay_core::VerifiedResponse<'b>,
    mchid: &'v str,
}

impl calls::CallVisitor for Finish<'_, '_> {
    type Output = Result<String, Failure>;
    fn visit<Q: Call>(self, call: &Q) -> Self::Output
    where
        Q::Response: wxpay_core::model::Record,
    {
        let answer = self.verified.parse(|body| call.parse(body))?;
        call.check(&answer, self.mchid)
            .map_err(|error| ClientError::<Infallible>::Verify {
                error,
                request_id: self.verified.request_id.clone(),
            })?;
        Ok(json::render(&answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wxpay_core::VerifyError;
    use wxpay_emulator::{Emulator, HttpRequest, demo};

    /// Deterministic bytes; fine for tests (the emulator checks format, not entropy).
    #[derive(Clone)]
    struct Counter(u8);
    impl RandomSource for Counter {
        fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
            for b in dest {
                self.0 = self.0.wrapping_mul(31).wrapping_add(7);
                *b = self.0;
            }
            Ok(())
        }
    }

    fn session() -> Session<Counter> {
        let mut s = Session::new(
            demo::MCHID,
            demo::MERCHANT_SERIAL,
            demo::MERCHANT_KEY_PEM,
            Counter(1),
        )
        .expect("demo key loads");
        s.add_platform_key(demo::PLATFORM_KEY_ID, demo::PLATFORM_PUB_PEM)
            .expect("demo platform key loads");
        s
    }

    /// The host's part: send what was prepared, hand back what came.
    fn round_trip(
        emulator: &Emulator,
        session: &mut Session<Counter>,
        code: &str,
    ) -> Result<(AuthorizationRecord, Option<RequestId>), Failure> {
        let now = wxpay_emulator::system_now();
        let prepared = session.prepare_query(code, demo::SERVICE_ID, now)?;
        let (status, headers, body) = exchange(emulator, &prepared, now);
        session.finish_query(
            &Response {
                status,
                headers: &headers,
                body: &body,
            },
            now,
        )
    }

    /// What a host does with a prepared request: send it (here to the in-process emulator) and
    /// hand back the status, the header lines and the raw body.
    fn exchange(emulator: &Emulator, prepared: &Prepared, now: i64) -> (u16, String, Vec<u8>) {
        let request = HttpRequest {
            method: prepared.method.to_string(),
            target: prepared.target.clone(),
            headers: prepared
                .headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect(),
            body: prepared.body.clone().into_bytes(),
        };
        let answer = emulator.handle(&request, now);
        let headers = answer
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}\r\n"))
            .collect();
        (answer.status, headers, answer.body)
    }

    /// The host's part of a typed call by name.
    fn call_round_trip(
        emulator: &Emulator,
        session: &mut Session<Counter>,
        name: &str,
        args: &str,
    ) -> Result<(String, Option<RequestId>), Failure> {
        let now = wxpay_emulator::system_now();
        let prepared = session.prepare_call(name, args.as_bytes(), now)?;
        let (status, headers, body) = exchange(emulator, &prepared, now);
        session.finish_call(
            &Response {
                status,
                headers: &headers,
                body: &body,
            },
            now,
        )
    }

    #[test]
    fn typed_calls_by_name() {
        let emulator = Emulator::demo();
        let mut s = session();
        let (rendered, request_id) = call_round_trip(
            &emulator,
            &mut s,
            "permissions.get",
            r#"{"authorization_code":"a|b*c","service_id":"500001"}"#,
        )
        .expect("verified");
        let json: serde_json::Value = serde_json::from_str(&rendered).expect("JSON");
        assert_eq!(json["authorization_code"], "a|b*c");
        assert!(request_id.is_some());
        // Refused before anything is signed: a typo'd argument, an invalid value, no call.
        #[rustfmt::skip]
        let refused: &[(&str, &str)] = &[
            ("serviceorder.get",      r#"{"out_order_no":"RENT-0001","service_id":"1","appid":"wx","typo":1}"#),
            ("serviceorder.complete", r#"{"out_order_no":"RENT-0001","body":{"appid":"wx","service_id":"1","post_payments":[{"name":"fee","amount":1}],"total_amount":2}}"#),
            ("serviceorder.cancel",   r#"{"out_order_no":"RENT 0001","service_id":"1","appid":"wx","reason":"r"}"#),
        ];
        for (name, args) in refused {
            let outcome = s.prepare_call(name, args.as_bytes(), 1_700_000_000);
            assert!(
                matches!(outcome, Err(Failure::Request(_))),
                "{name}: {outcome:?}"
            );
        }
        let response = Response {
            status: 200,
            headers: "",
            body: b"{}",
        };
        assert!(matches!(
            s.finish_call(&response, 1_700_000_000),
            Err(Failure::Request(Error::InvalidInput { .. }))
        ));
    }

    #[test]
    fn happy_path_through_the_emulator() {
        let emulator = Emulator::demo();
        let mut s = session();
        for code in [demo::AUTHORIZATION_CODE, "a|b*c", "AUTHCODE-001|*"] {
            let (record, request_id) = round_trip(&emulator, &mut s, code).expect("verified");
            assert_eq!(record.authorization_code.as_deref(), Some(code));
            assert_eq!(record.mchid.as_str(), demo::MCHID);
            assert!(request_id.is_some());
        }
    }

    #[test]
    fn outcomes_through_the_emulator() {
        let emulator = Emulator::demo();
        let mut s = session();
        let not_found = round_trip(&emulator, &mut s, "NO_SUCH_CODE");
        assert!(
            matches!(&not_found, Err(Failure::Response(e)) if e.is_not_found() && e.request_id().is_some()),
            "{not_found:?}"
        );
        #[rustfmt::skip]
        let cases: &[(&str, fn(&Failure) -> bool)] = &[
            ("FAULT_BAD_SIGNATURE",    |f| matches!(f, Failure::Response(ClientError::Verify { error: VerifyError::BadSignature, request_id: Some(_) }))),
            ("FAULT_UNKNOWN_SERIAL",   |f| matches!(f, Failure::Response(ClientError::Verify { error: VerifyError::UnknownSerial, .. }))),
            ("FAULT_STALE_TIMESTAMP",  |f| matches!(f, Failure::Response(ClientError::Verify { error: VerifyError::ClockSkew { .. }, .. }))),
            ("FAULT_SIGNTEST_PROBE",   |f| matches!(f, Failure::Response(ClientError::Verify { error: VerifyError::SignatureProbe, .. }))),
            ("FAULT_OVERSIZE_FIELD",   |f| matches!(f, Failure::Response(ClientError::Parse { .. }))),
            ("FAULT_NON_JSON_BODY",    |f| matches!(f, Failure::Response(ClientError::Parse { .. }))),
            ("FAULT_UNSIGNED_ERROR",   |f| matches!(f, Failure::Response(ClientError::Api(e)) if e.status == 503 && !e.signature_verified)),
            ("FAULT_SYSTEM_ERROR",     |f| matches!(f, Failure::Response(ClientError::Api(e)) if e.is_retryable() && e.signature_verified)),
        ];
        for (code, check) in cases {
            let outcome = round_trip(&emulator, &mut s, code);
            assert!(
                matches!(&outcome, Err(f) if check(f)),
                "{code}: {outcome:?}"
            );
        }
    }

    #[test]
    fn request_arguments_are_checked_before_signing() {
        let mut s = session();
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str)] = &[
            ("get",  "/v3/x",     "593BEC0C930BF1AFEB40B4A08C8FB242"),
            ("GET",  "v3/x",      "593BEC0C930BF1AFEB40B4A08C8FB242"),
            ("GET",  "/v3/a b",   "593BEC0C930BF1AFEB40B4A08C8FB242"),
            ("GET",  "/v3/授权",   "593BEC0C930BF1AFEB40B4A08C8FB242"),
            ("GET",  "/v3/x",     "short"),
            ("GET",  "/v3/x",     "593BEC0C930BF1AFEB40B4A08C8FB24!"),
        ];
        for (method, target, nonce) in cases {
            let r = s.sign_request(method, target, "", 1_554_208_460, nonce);
            assert!(
                matches!(r, Err(Failure::Request(Error::InvalidInput { .. }))),
                "{method} {target} {nonce}: {r:?}"
            );
        }
        assert!(matches!(
            s.prepare_query("", "500001", 1_554_208_460),
            Err(Failure::Request(_))
        ));
        assert!(matches!(
            s.prepare_query("X", "500001", -1),
            Err(Failure::Request(_))
        ));
    }

    #[test]
    fn keys_fail_cleanly_and_never_show() {
        let bad = Session::new(demo::MCHID, demo::MERCHANT_SERIAL, "nonsense", Counter(1));
        assert!(matches!(
            bad,
            Err(Failure::Key {
                which: "merchant private key",
                error: KeyError::Unreadable
            })
        ));
        let mut s = session();
        assert!(matches!(
            s.add_platform_key("PUB_KEY_ID_2", demo::MERCHANT_KEY_PEM),
            Err(Failure::Key { .. })
        ));
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("MII") && debug.contains(demo::MCHID),
            "{debug}"
        );
    }

    #[test]
    fn public_key_mode_follows_the_first_key_id() {
        let mut s = Session::new(
            demo::MCHID,
            demo::MERCHANT_SERIAL,
            demo::MERCHANT_KEY_PEM,
            Counter(1),
        )
        .expect("loads");
        let nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
        let has_serial = |p: &Prepared| p.headers.iter().any(|(n, _)| *n == "Wechatpay-Serial");
        let p = s.sign_request("GET", "/v3/x", "", 1, nonce).expect("signs");
        assert!(!has_serial(&p));
        s.add_platform_key(
            "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
            demo::PLATFORM_PUB_PEM,
        )
        .expect("loads");
        let p = s.sign_request("GET", "/v3/x", "", 1, nonce).expect("signs");
        assert!(!has_serial(&p));
        s.add_platform_key(demo::PLATFORM_KEY_ID, demo::PLATFORM_PUB_PEM)
            .expect("loads");
        let p = s
            .sign_request("POST", "/v3/x", "{}", 1, nonce)
            .expect("signs");
        let names: Vec<&str> = p.headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "Authorization",
                "Accept",
                "User-Agent",
                "Content-Type",
                "Wechatpay-Serial"
            ]
        );
    }

    /// The shared request vectors, signed by the same code the module runs.
    #[test]
    fn shared_request_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/vectors.json"
        );
        let all: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("vectors.json"))
                .expect("JSON");
        let s_ = |v: &serde_json::Value, k: &str| v[k].as_str().expect(k).to_owned();
        let keys = &all["keys"];
        let mut s = Session::new(
            &s_(keys, "mchid"),
            &s_(keys, "merchant_serial"),
            &s_(keys, "merchant_private_key_pem"),
            Counter(3),
        )
        .expect("loads");
        let cases = all["request_vectors"].as_array().expect("array");
        assert_eq!(cases.len(), 7);
        for v in cases {
            let p = s
                .sign_request(
                    &s_(v, "method"),
                    &s_(v, "path_with_query"),
                    &s_(v, "body"),
                    s_(v, "timestamp").parse().expect("number"),
                    &s_(v, "nonce"),
                )
                .expect("signs");
            let ours = p
                .headers
                .iter()
                .find(|(n, _)| *n == "Authorization")
                .map(|(_, v)| v.clone())
                .expect("Authorization");
            assert_eq!(
                sign::parse_authorization(&ours),
                sign::parse_authorization(&s_(v, "authorization_node")),
                "{}",
                s_(v, "name")
            );
        }
    }
}
