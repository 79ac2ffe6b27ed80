//! A small client gluing transport, signer, platform keys, clock and nonce source together:
//! target → digest → header → transport → verify → parse, in one call.

use heapless::String;

use crate::api::permissions::{
    self, ApplyPermissionsToken, AuthorizationRecord, PreAuthorization, TerminateByCode,
    TerminateByOpenid,
};
use crate::api_error::ApiError;
use crate::error::{ClientError, Error, ParseError, RequestId};
use crate::nonce::{Nonce, RandomSource};
use crate::sign::{
    self, AUTHORIZATION_CAPACITY, MCHID_CAPACITY, SERIAL_CAPACITY, Signer, SigningInput,
};
use crate::transport::{Method, Request, ResponseHead, Transport, USER_AGENT};
use crate::verify::{self, PlatformKeys, Verifier};

/// The caller's clock, in Unix seconds. The core never reads a clock itself.
pub trait Clock {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn unix_seconds(&self) -> i64;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn unix_seconds(&self) -> i64 {
        (**self).unix_seconds()
    }
}

/// A 2xx response whose signature verified. Only [`Client::send`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedResponse<'b> {
    /// HTTP status (2xx).
    pub status: u16,
    /// The raw body bytes that were verified (empty for 204).
    pub body: &'b [u8],
    /// The `Request-ID` header.
    pub request_id: Option<RequestId>,
}

impl VerifiedResponse<'_> {
    /// Parses the verified body with `parse`, keeping the `Request-ID` on failure.
    pub fn parse<T, E>(
        &self,
        parse: impl FnOnce(&[u8]) -> Result<T, ParseError>,
    ) -> Result<T, ClientError<E>> {
        parse(self.body).map_err(|error| ClientError::Parse {
            error,
            request_id: self.request_id.clone(),
        })
    }
}

/// The response half of [`Client::send`], for hosts that do the I/O themselves (sans-io).
///
/// `body` is the whole raw body and `now` the caller's clock when it arrived. A non-2xx answer
/// is [`ClientError::Api`] (with `signature_verified` set when it carried valid `Wechatpay-*`
/// headers); a 2xx answer is returned only if its signature verified over the raw bytes.
pub fn check_response<'b, V: Verifier, const K: usize, E>(
    platform_keys: &PlatformKeys<V, K>,
    head: ResponseHead,
    body: &'b [u8],
    now: i64,
) -> Result<VerifiedResponse<'b>, ClientError<E>> {
    let verified = verify::verify_response(platform_keys, &head.headers, body, now);
    if !(200..300).contains(&head.status) {
        let mut error = ApiError::from_response(head.status, &head.headers, body);
        error.signature_verified = head.headers.has_signature_headers() && verified.is_ok();
        return Err(ClientError::Api(error));
    }
    let request_id = head.headers.request_id;
    if let Err(error) = verified {
        return Err(ClientError::Verify { error, request_id });
    }
    Ok(VerifiedResponse {
        status: head.status,
        body,
        request_id,
    })
}

/// A WeChat Pay APIv3 client over any [`Transport`].
///
/// `K` is the capacity of the platform key set (2: a certificate beside a `PUB_KEY_ID_`).
#[derive(Debug)]
pub struct Client<T, S, V, C, R, const K: usize = 2> {
    transport: T,
    signer: S,
    platform_keys: PlatformKeys<V, K>,
    clock: C,
    random: R,
    mchid: String<MCHID_CAPACITY>,
    wechatpay_serial: Option<String<SERIAL_CAPACITY>>,
    user_agent: &'static str,
}

impl<T, S, V, C, R, const K: usize> Client<T, S, V, C, R, K>
where
    T: Transport,
    S: Signer,
    V: Verifier,
    C: Clock,
    R: RandomSource,
{
    /// A client for merchant `mchid`.
    pub fn new(
        transport: T,
        signer: S,
        platform_keys: PlatformKeys<V, K>,
        clock: C,
        random: R,
        mchid: &str,
    ) -> Result<Self, Error> {
        Ok(Client {
            transport,
            signer,
            platform_keys,
            clock,
            random,
            mchid: String::try_from(mchid).map_err(|_| Error::TooLong {
                what: "mchid",
                max: MCHID_CAPACITY,
            })?,
            wechatpay_serial: None,
            user_agent: USER_AGENT,
        })
    }

    /// Public-key mode: send `Wechatpay-Serial: PUB_KEY_ID_…` so the server signs responses
    /// with that key. The key should be in the platform key set.
    pub fn with_wechatpay_serial(mut self, public_key_id: &str) -> Result<Self, Error> {
        self.wechatpay_serial =
            Some(String::try_from(public_key_id).map_err(|_| Error::TooLong {
                what: "Wechatpay-Serial",
                max: SERIAL_CAPACITY,
            })?);
        Ok(self)
    }

    /// Replaces the default `User-Agent` (which names this crate and version).
    pub fn with_user_agent(mut self, user_agent: &'static str) -> Self {
        self.user_agent = user_agent;
        self
    }

    /// The transport, e.g. to change timeouts.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The platform keys, e.g. to rotate one in.
    pub fn platform_keys_mut(&mut self) -> &mut PlatformKeys<V, K> {
        &mut self.platform_keys
    }

    /// Signs and sends one request, then verifies the response.
    ///
    /// `target` must come from [`TargetBuilder`](crate::path::TargetBuilder) (already encoded);
    /// `body` is sent and signed exactly as given. A non-2xx answer is [`ClientError::Api`]; a
    /// 2xx answer is returned only if its signature verified.
    pub fn send<'b>(
        &mut self,
        method: Method,
        target: &str,
        body: &[u8],
        response_body: &'b mut [u8],
    ) -> Result<VerifiedResponse<'b>, ClientError<T::Error>> {
        let (head, now) = self.exchange(method, target, body, response_body)?;
        let received = response_body.get(..head.body_len).unwrap_or_default();
        check_response(&self.platform_keys, head, received, now)
    }

    /// The platform keys held.
    pub fn platform_keys(&self) -> &PlatformKeys<V, K> {
        &self.platform_keys
    }

    /// Signs and sends one request and returns the answer's head **unverified**, with the
    /// clock when it arrived. Only for crate code that verifies the answer itself (the
    /// certificates download, whose keys may come from its own body).
    pub(crate) fn exchange(
        &mut self,
        method: Method,
        target: &str,
        body: &[u8],
        response_body: &mut [u8],
    ) -> Result<(ResponseHead, i64), ClientError<T::Error>> {
        let now = self.clock.unix_seconds();
        let timestamp = u64::try_from(now).map_err(|_| Error::InvalidInput {
            what: "clock is before 1970",
        })?;
        let nonce = Nonce::generate(&mut self.random)?;
        let mut authorization = [0u8; AUTHORIZATION_CAPACITY];
        let authorization = sign::authorization(
            &mut self.signer,
            &SigningInput {
                mchid: &self.mchid,
                method,
                target,
                body,
                timestamp,
                nonce: nonce.as_str(),
            },
            &mut authorization,
        )?;
        let request = Request {
            method,
            target,
            authorization,
            user_agent: self.user_agent,
            wechatpay_serial: self.wechatpay_serial.as_deref(),
            body,
        };
        let head = self
            .transport
            .execute(&request, response_body)
            .map_err(ClientError::Transport)?;
        // The clock is read again: the window applies to when the response arrived.
        Ok((head, self.clock.unix_seconds()))
    }

    /// Queries a user's authorization record by authorization code (raw; encoded here).
    ///
    /// `response_body` receives the raw body; 2 KiB holds any record. A user who never
    /// authorised gives an error for which [`ClientError::is_not_found`] is true.
    pub fn authorization_by_code(
        &mut self,
        authorization_code: &str,
        service_id: &str,
        response_body: &mut [u8],
    ) -> Result<AuthorizationRecord, ClientError<T::Error>> {
        let mut target = [0u8; permissions::TARGET_CAPACITY];
        let target = permissions::target_by_code(&mut target, authorization_code, service_id)?;
        let response = self.send(Method::Get, target, b"", response_body)?;
        response.parse(AuthorizationRecord::from_json)
    }

    /// Queries a user's authorization record by openid.
    pub fn authorization_by_openid(
        &mut self,
        openid: &str,
        appid: &str,
        service_id: &str,
        response_body: &mut [u8],
    ) -> Result<AuthorizationRecord, ClientError<T::Error>> {
        let mut target = [0u8; permissions::TARGET_CAPACITY];
        let target = permissions::target_by_openid(&mut target, openid, appid, service_id)?;
        let response = self.send(Method::Get, target, b"", response_body)?;
        response.parse(AuthorizationRecord::from_json)
    }

    /// Pre-authorises: the record starts in `UNBINDUSER` until a user accepts.
    pub fn pre_authorize(
        &mut self,
        request: &PreAuthorization<'_>,
        response_body: &mut [u8],
    ) -> Result<ApplyPermissionsToken, ClientError<T::Error>> {
        let mut body = [0u8; permissions::BODY_CAPACITY];
        let body = request.to_json(&mut body)?;
        let response = self.send(
            Method::Post,
            permissions::PERMISSIONS_PATH,
            body.as_bytes(),
            response_body,
        )?;
        response.parse(ApplyPermissionsToken::from_json)
    }

    /// Ends an authorization by authorization code (answered `204 No Content`, verified like
    /// any response). A reason over 50 characters is refused before anything is sent.
    pub fn terminate_by_code(
        &mut self,
        authorization_code: &str,
        request: &TerminateByCode<'_>,
        response_body: &mut [u8],
    ) -> Result<(), ClientError<T::Error>> {
        let mut body = [0u8; permissions::BODY_CAPACITY];
        let body = request.to_json(&mut body)?;
        let mut target = [0u8; permissions::TARGET_CAPACITY];
        let target = permissions::target_terminate_by_code(&mut target, authorization_code)?;
        self.post_expecting_no_body(target, body, response_body)
    }

    /// Ends an authorization by openid (`204 No Content`).
    pub fn terminate_by_openid(
        &mut self,
        openid: &str,
        request: &TerminateByOpenid<'_>,
        response_body: &mut [u8],
    ) -> Result<(), ClientError<T::Error>> {
        let mut body = [0u8; permissions::BODY_CAPACITY];
        let body = request.to_json(&mut body)?;
        let mut target = [0u8; permissions::TARGET_CAPACITY];
        let target = permissions::target_terminate_by_openid(&mut target, openid)?;
        self.post_expecting_no_body(target, body, response_body)
    }

    /// POSTs a JSON body to a call answered `204 No Content` (any verified 2xx is accepted).
    fn post_expecting_no_body(
        &mut self,
        target: &str,
        body: &str,
        response_body: &mut [u8],
    ) -> Result<(), ClientError<T::Error>> {
        self.send(Method::Post, target, body.as_bytes(), response_body)
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::VerifyError;
    use crate::sign::{SIGNATURE_LEN, Sha256Digest, parse_authorization};
    use crate::transport::ResponseHeaders;
    use crate::verify::response_digest;
    use base64ct::{Base64, Encoding};
    use std::prelude::rust_2024::*;
    use std::string::String;

    struct ZeroSigner;
    impl Signer for ZeroSigner {
        type Error = ();
        fn serial_no(&self) -> &str {
            "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29"
        }
        fn sign_prehash(
            &mut self,
            _: &Sha256Digest,
            out: &mut [u8; SIGNATURE_LEN],
        ) -> Result<(), ()> {
            out.fill(0);
            Ok(())
        }
    }

    /// Accepts a signature whose bytes all equal the digest's first byte.
    struct Echo;
    impl Verifier for Echo {
        fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
            signature.iter().all(|b| Some(b) == digest.first())
        }
    }

    struct FixedClock(i64);
    impl Clock for FixedClock {
        fn unix_seconds(&self) -> i64 {
            self.0
        }
    }

    struct Counter(u8);
    impl RandomSource for Counter {
        fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
            for b in dest {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
            Ok(())
        }
    }

    const NOW: i64 = 1_700_000_000;

    /// Plays back one response, signed "Echo"-style unless told otherwise, and keeps the request.
    struct Playback {
        status: u16,
        body: Vec<u8>,
        signed: bool,
        seen: Vec<(String, String, Vec<(String, String)>)>,
        fail: bool,
    }

    impl Playback {
        fn new(status: u16, body: &str, signed: bool) -> Self {
            Playback {
                status,
                body: body.as_bytes().to_vec(),
                signed,
                seen: Vec::new(),
                fail: false,
            }
        }
    }

    impl Transport for Playback {
        type Error = &'static str;
        fn execute(
            &mut self,
            req: &Request<'_>,
            out: &mut [u8],
        ) -> Result<ResponseHead, &'static str> {
            self.seen.push((
                req.method.to_string(),
                req.target.to_string(),
                req.headers()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            ));
            if self.fail {
                return Err("connection refused");
            }
            let dst = out.get_mut(..self.body.len()).ok_or("body too large")?;
            dst.copy_from_slice(&self.body);
            let mut headers = ResponseHeaders::default();
            headers.capture("Request-ID", b"REQ-1");
            if self.signed {
                let ts = NOW.to_string();
                let digest = response_digest(&ts, "n", &self.body);
                let mut b64 = [0u8; 344];
                let sig = Base64::encode(&[digest[0]; 256], &mut b64).unwrap_or_default();
                headers.capture("Wechatpay-Timestamp", ts.as_bytes());
                headers.capture("Wechatpay-Nonce", b"n");
                headers.capture("Wechatpay-Signature", sig.as_bytes());
                headers.capture("Wechatpay-Serial", b"PUB_KEY_ID_1");
            }
            Ok(ResponseHead {
                status: self.status,
                headers,
                body_len: self.body.len(),
            })
        }
    }

    type TestClient = Client<Playback, ZeroSigner, Echo, FixedClock, Counter>;

    fn client(playback: Playback) -> TestClient {
        let keys = PlatformKeys::with_key("PUB_KEY_ID_1", Echo).unwrap_or_default();
        Client::new(
            playback,
            ZeroSigner,
            keys,
            FixedClock(NOW),
            Counter(0),
            "1230000109",
        )
        .and_then(|c| c.with_wechatpay_serial("PUB_KEY_ID_1"))
        .expect("client builds")
    }

    const RECORD: &str = r#"{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1230000109","authorization_code":"a|b*c","authorization_state":"AVAILABLE"}"#;

    #[test]
    fn happy_path_sends_what_it_signed() {
        let mut c = client(Playback::new(200, RECORD, true));
        let mut buf = [0u8; 2048];
        let record = c.authorization_by_code("a|b*c", "500001", &mut buf);
        assert_eq!(
            record.map(|r| r.authorization_state),
            Ok(Some(crate::AuthorizationState::Available))
        );
        let (method, target, headers) = &c.transport_mut().seen[0];
        assert_eq!(method, "GET");
        assert_eq!(
            target,
            "/v3/payscore/permissions/authorization-code/a%7Cb%2Ac?service_id=500001"
        );
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("Accept"), Some("application/json"));
        assert_eq!(header("Wechatpay-Serial"), Some("PUB_KEY_ID_1"));
        assert!(header("User-Agent").is_some_and(|ua| ua.starts_with("wxpay-core/")));
        assert_eq!(header("Content-Type"), None);
        let auth = parse_authorization(header("Authorization").unwrap_or_default());
        assert_eq!(
            auth.map(|a| (a.mchid, a.timestamp)),
            Ok(("1230000109", "1700000000"))
        );
    }

    #[test]
    fn outcomes_table() {
        type Outcome = Result<(), ClientError<&'static str>>;
        let not_found = r#"{"code":"ORDER_NOT_EXIST","message":"no record"}"#;
        #[rustfmt::skip]
        let cases: &[(u16, &str, bool, fn(&Outcome) -> bool)] = &[
            (404, not_found, false, |o| matches!(o, Err(e) if e.is_not_found())),
            (404, not_found, true,  |o| matches!(o, Err(ClientError::Api(e)) if e.signature_verified && e.is_not_found())),
            (500, r#"{"code":"SYSTEM_ERROR","message":"retry"}"#, false, |o| matches!(o, Err(ClientError::Api(e)) if e.is_retryable() && e.request_id.as_deref() == Some("REQ-1"))),
            (200, RECORD, false, |o| matches!(o, Err(ClientError::Verify { error: VerifyError::MissingHeader { name: "Wechatpay-Timestamp" }, request_id: Some(id) }) if id == "REQ-1")),
            (200, "not json", true, |o| matches!(o, Err(ClientError::Parse { error: ParseError::NotAnObject, .. }))),
            (200, r#"{"service_id":"1"}"#, true, |o| matches!(o, Err(ClientError::Parse { error: ParseError::MissingField { field: "appid" }, .. }))),
        ];
        for (status, body, signed, check) in cases {
            let mut c = client(Playback::new(*status, body, *signed));
            let mut buf = [0u8; 2048];
            let outcome = c.authorization_by_code("X", "500001", &mut buf).map(|_| ());
            assert!(check(&outcome), "{status} {body}: {outcome:?}");
        }
    }

    #[test]
    fn tampered_body_is_never_parsed() {
        let mut playback = Playback::new(200, RECORD, true);
        playback.body = RECORD.replace("AVAILABLE", "UNAVAILABLE").into_bytes();
        // The signature was made over RECORD: re-sign against it and swap the body.
        struct Swap(Playback);
        impl Transport for Swap {
            type Error = &'static str;
            fn execute(
                &mut self,
                req: &Request<'_>,
                out: &mut [u8],
            ) -> Result<ResponseHead, &'static str> {
                let tampered = core::mem::replace(&mut self.0.body, RECORD.as_bytes().to_vec());
                let mut head = self.0.execute(req, out)?;
                out[..tampered.len()].copy_from_slice(&tampered);
                head.body_len = tampered.len();
                Ok(head)
            }
        }
        let keys = PlatformKeys::with_key("PUB_KEY_ID_1", Echo).unwrap_or_default();
        let mut c: Client<Swap, ZeroSigner, Echo, FixedClock, Counter> = Client::new(
            Swap(playback),
            ZeroSigner,
            keys,
            FixedClock(NOW),
            Counter(0),
            "1",
        )
        .expect("client builds");
        let mut buf = [0u8; 2048];
        assert_eq!(
            c.authorization_by_code("X", "1", &mut buf),
            Err(ClientError::Verify {
                error: VerifyError::BadSignature,
                request_id: heapless::String::try_from("REQ-1").ok()
            })
        );
    }

    #[test]
    fn transport_and_request_errors() {
        let mut failing = Playback::new(200, RECORD, true);
        failing.fail = true;
        let mut c = client(failing);
        let mut buf = [0u8; 2048];
        assert_eq!(
            c.authorization_by_code("X", "1", &mut buf),
            Err(ClientError::Transport("connection refused"))
        );

        let mut c = client(Playback::new(200, RECORD, true));
        assert_eq!(
            c.authorization_by_code("", "1", &mut buf),
            Err(ClientError::Request(Error::InvalidInput {
                what: "path segment is empty"
            }))
        );
        assert!(
            c.transport_mut().seen.is_empty(),
            "nothing is sent for a bad input"
        );
        let mut small = [0u8; 16];
        assert_eq!(
            c.authorization_by_code("X", "1", &mut small),
            Err(ClientError::Transport("body too large"))
        );
    }

    #[test]
    fn clock_skew_on_success_is_a_verification_failure() {
        let keys = PlatformKeys::with_key("PUB_KEY_ID_1", Echo).unwrap_or_default();
        let mut c: TestClient = Client::new(
            Playback::new(200, RECORD, true),
            ZeroSigner,
            keys,
            FixedClock(NOW + 301),
            Counter(0),
            "1",
        )
        .expect("client builds");
        let mut buf = [0u8; 2048];
        assert_eq!(
            c.authorization_by_code("X", "1", &mut buf),
            Err(ClientError::Verify {
                error: VerifyError::ClockSkew { skew_secs: 301 },
                request_id: heapless::String::try_from("REQ-1").ok()
            })
        );
    }
}
