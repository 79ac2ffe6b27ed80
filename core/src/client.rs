//! A small client gluing transport, signer, platform keys, clock and nonce source together:
//! target → digest → header → transport → verify → parse, in one call.

use core::fmt;

use heapless::String;

use crate::api_error::ApiError;
use crate::call::Call;
use crate::error::{Error, ParseError, VerifyError};
use crate::nonce::{Nonce, RandomSource};
use crate::sign::{
    self, AUTHORIZATION_CAPACITY, MCHID_CAPACITY, SERIAL_CAPACITY, Signer, SigningInput,
};
use crate::transport::{AsyncTransport, Method, Request, ResponseHead, Transport, USER_AGENT};
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
    check_head(platform_keys, &head, body, now)
}

/// [`check_response`] with the head borrowed: the client's own calls keep the head (about
/// 700 bytes) where the transport wrote it instead of moving it once more on the stack.
fn check_head<'b, V: Verifier, const K: usize, E>(
    platform_keys: &PlatformKeys<V, K>,
    head: &ResponseHead,
    body: &'b [u8],
    now: i64,
) -> Result<VerifiedResponse<'b>, ClientError<E>> {
    let verified = verify::verify_response(platform_keys, &head.headers, body, now);
    if !(200..300).contains(&head.status) {
        let mut error = ApiError::from_response(head.status, &head.headers, body);
        error.signature_verified = head.headers.has_signature_headers() && verified.is_ok();
        return Err(ClientError::Api(error));
    }
    let request_id = head.headers.request_id.clone();
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

    /// The merchant id this client signs for.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The transport, e.g. to change timeouts.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The platform keys, e.g. to rotate one in.
    pub fn platform_keys_mut(&mut self) -> &mut PlatformKeys<V, K> {
        &mut self.platform_keys
    }

    /// The platform keys.
    pub fn platform_keys(&self) -> &PlatformKeys<V, K> {
        &self.platform_keys
    }

    /// The request half, sans-io: timestamp, nonce and the signed `Authorization` header
    /// (written into `authorization`), gathered into the [`Request`] a transport sends.
    ///
    /// `target` must come from [`TargetBuilder`](crate::path::TargetBuilder) (already
    /// encoded); `body` is signed exactly as given and must be sent unchanged.
    pub fn prepare<'s, E>(
        &mut self,
        method: Method,
        target: &'s str,
        body: &'s [u8],
        scratch: &'s mut RequestScratch,
    ) -> Result<Request<'s>, ClientError<E>> {
        let now = self.clock.unix_seconds();
        let timestamp = u64::try_from(now).map_err(|_| Error::InvalidInput {
            what: "clock is before 1970",
        })?;
        let nonce = Nonce::generate(&mut self.random)?;
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
            &mut scratch.authorization,
        )?;
        scratch.wechatpay_serial.clone_from(&self.wechatpay_serial);
        Ok(Request {
            method,
            target,
            authorization,
            user_agent: self.user_agent,
            wechatpay_serial: scratch.wechatpay_serial.as_deref(),
            body,
        })
    }

    /// The response half, sans-io: the clock is read again (the ±300 s window applies to
    /// when the answer arrived) and the answer is checked by [`check_response`]. `body` is the
    /// whole raw body.
    pub fn finish<'b, E>(
        &self,
        head: ResponseHead,
        body: &'b [u8],
    ) -> Result<VerifiedResponse<'b>, ClientError<E>> {
        let now = self.clock.unix_seconds();
        check_response(&self.platform_keys, head, body, now)
    }

    /// Accepts a verified answer as the answer to `call`: parsed into its type, then bound to
    /// the request (identifiers equal to the ones asked for), or an error.
    pub fn accept<Q: Call, E>(
        &self,
        call: &Q,
        verified: &VerifiedResponse<'_>,
    ) -> Result<Q::Response, ClientError<E>> {
        let answer = verified.parse(|body| call.parse(body))?;
        call.check(&answer, &self.mchid)
            .map_err(|error| ClientError::Verify {
                error,
                request_id: verified.request_id.clone(),
            })?;
        Ok(answer)
    }
}

/// Where [`Client::prepare`] writes what a [`Request`] borrows besides target and body: the
/// signed `Authorization` value and a copy of the `Wechatpay-Serial`.
#[derive(Debug)]
pub struct RequestScratch {
    authorization: [u8; AUTHORIZATION_CAPACITY],
    wechatpay_serial: Option<String<SERIAL_CAPACITY>>,
}

impl RequestScratch {
    /// Empty scratch space (about 600 bytes).
    pub const fn new() -> Self {
        RequestScratch {
            authorization: [0; AUTHORIZATION_CAPACITY],
            wechatpay_serial: None,
        }
    }
}

impl Default for RequestScratch {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, S, V, C, R, const K: usize> Client<T, S, V, C, R, K>
where
    S: Signer,
    V: Verifier,
    C: Clock,
    R: RandomSource,
{
    /// [`Client::accept`] into the caller's `out`.
    pub fn accept_into<Q: Call, E>(
        &self,
        call: &Q,
        verified: &VerifiedResponse<'_>,
        out: &mut Q::Response,
    ) -> Result<(), ClientError<E>> {
        call.parse_into(verified.body, out)
            .map_err(|error| ClientError::Parse {
                error,
                request_id: verified.request_id.clone(),
            })?;
        call.check(out, &self.mchid)
            .map_err(|error| ClientError::Verify {
                error,
                request_id: verified.request_id.clone(),
            })
    }
}

/// A transport's error as the client reports it: a body larger than the caller's buffer
/// (`capacity` bytes; `body_too_large` is the transport's own test) is
/// [`ClientError::ResponseTooLarge`], anything else `Transport`. Blocking and async alike.
fn transport_error<E>(error: E, body_too_large: fn(&E) -> bool, capacity: usize) -> ClientError<E> {
    if body_too_large(&error) {
        ClientError::ResponseTooLarge { capacity }
    } else {
        ClientError::Transport(error)
    }
}

/// Writes `call`'s target and then its body at the start of `work`; returns their lengths.
/// `BufferTooSmall { needed }` counts both.
fn write_request<Q: Call>(call: &Q, work: &mut [u8]) -> Result<(usize, usize), Error> {
    let target_len = call.target(work)?.len();
    let rest = work.get_mut(target_len..).unwrap_or_default();
    let body_len = call
        .body(rest)
        .map_err(|e| match e {
            Error::BufferTooSmall { needed } => Error::BufferTooSmall {
                needed: target_len + needed,
            },
            other => other,
        })?
        .len();
    Ok((target_len, body_len))
}

/// Splits `work` after [`write_request`]: the target, the body, and the room left for the
/// response.
fn split_request(
    work: &mut [u8],
    (target_len, body_len): (usize, usize),
) -> Result<(&str, &[u8], &mut [u8]), Error> {
    let (request, response) = work.split_at_mut(target_len + body_len);
    let (target, body) = request.split_at(target_len);
    let target = core::str::from_utf8(target).map_err(|_| Error::InvalidInput {
        what: "target is not UTF-8",
    })?;
    Ok((target, body, response))
}

impl<T, S, V, C, R, const K: usize> Client<T, S, V, C, R, K>
where
    T: Transport,
    S: Signer,
    V: Verifier,
    C: Clock,
    R: RandomSource,
{
    /// Signs and sends one request, then verifies the response: the documented escape hatch
    /// for endpoints without a model.
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
        // `exchange`'s steps, with the head checked where the transport returned it: moving
        // it (about 700 bytes) out of the `Result` and on through `exchange` cost four copies.
        let mut scratch = RequestScratch::new();
        let request = self.prepare(method, target, body, &mut scratch)?;
        let capacity = response_body.len();
        let executed = self.transport.execute(&request, response_body);
        let head = match executed {
            Ok(ref head) => head,
            Err(e) => return Err(transport_error(e, T::body_too_large, capacity)),
        };
        // The clock is read again: the window applies to when the response arrived.
        let now = self.clock.unix_seconds();
        let received = response_body.get(..head.body_len).unwrap_or_default();
        check_head(&self.platform_keys, head, received, now)
    }

    /// Signs and sends one request and returns the answer's head **unverified**, with the
    /// clock when it arrived. Only for crate code that verifies the answer itself (the
    /// certificates download, whose keys may come from its own body).
    #[cfg(feature = "certificates")]
    pub(crate) fn exchange(
        &mut self,
        method: Method,
        target: &str,
        body: &[u8],
        response_body: &mut [u8],
    ) -> Result<(ResponseHead, i64), ClientError<T::Error>> {
        let mut scratch = RequestScratch::new();
        let request = self.prepare(method, target, body, &mut scratch)?;
        let capacity = response_body.len();
        let head = self
            .transport
            .execute(&request, response_body)
            .map_err(|e| transport_error(e, T::body_too_large, capacity))?;
        // The clock is read again: the window applies to when the response arrived.
        Ok((head, self.clock.unix_seconds()))
    }

    /// Sends one typed [`Call`] and returns its verified answer, bound to the request.
    ///
    /// `work` holds the target, the request body and then the raw response: 4 KiB suits the
    /// permissions family; a service order with many fee items wants more (a short buffer is
    /// `BufferTooSmall { needed }` before anything is sent, or a transport error for the
    /// response). A user who never authorised gives an error for which
    /// [`ClientError::is_not_found`] is true.
    pub fn call<Q: Call>(
        &mut self,
        call: &Q,
        work: &mut [u8],
    ) -> Result<Q::Response, ClientError<T::Error>> {
        let lengths = write_request(call, work)?;
        let (target, body, response) = split_request(work, lengths)?;
        let verified = self.send(Q::METHOD, target, body, response)?;
        self.accept(call, &verified)
    }

    /// [`Client::call`] into the caller's `out`: the answer is parsed where it will live, so a
    /// large record (a service order) is never copied through `Result` layers on a small stack.
    /// On an error `out` holds nothing usable (it may be partly written).
    pub fn call_into<Q: Call>(
        &mut self,
        call: &Q,
        work: &mut [u8],
        out: &mut Q::Response,
    ) -> Result<(), ClientError<T::Error>> {
        let lengths = write_request(call, work)?;
        let (target, body, response) = split_request(work, lengths)?;
        let verified = self.send(Q::METHOD, target, body, response)?;
        self.accept_into(call, &verified, out)
    }
}

impl<T, S, V, C, R, const K: usize> Client<T, S, V, C, R, K>
where
    T: AsyncTransport,
    S: Signer,
    V: Verifier,
    C: Clock,
    R: RandomSource,
{
    /// [`Client::call_async`] into the caller's `out`.
    pub async fn call_into_async<Q: Call>(
        &mut self,
        call: &Q,
        work: &mut [u8],
        out: &mut Q::Response,
    ) -> Result<(), ClientError<T::Error>> {
        let lengths = write_request(call, work)?;
        let (target, body, response) = split_request(work, lengths)?;
        let verified = self.send_async(Q::METHOD, target, body, response).await?;
        self.accept_into(call, &verified, out)
    }

    /// [`Client::send`] over an [`AsyncTransport`]: the same steps, awaited.
    ///
    /// Dropping the future at any await point sends nothing more and returns nothing: the
    /// client stays usable, and no partial or unverified answer can escape.
    pub async fn send_async<'b>(
        &mut self,
        method: Method,
        target: &str,
        body: &[u8],
        response_body: &'b mut [u8],
    ) -> Result<VerifiedResponse<'b>, ClientError<T::Error>> {
        let mut scratch = RequestScratch::new();
        let request = self.prepare(method, target, body, &mut scratch)?;
        let capacity = response_body.len();
        // As `send`: the head is checked where the transport returned it, not moved on.
        let executed = self.transport.execute(&request, response_body).await;
        let head = match executed {
            Ok(ref head) => head,
            Err(e) => return Err(transport_error(e, T::body_too_large, capacity)),
        };
        let now = self.clock.unix_seconds();
        let received = response_body.get(..head.body_len).unwrap_or_default();
        check_head(&self.platform_keys, head, received, now)
    }

    /// [`Client::call`] over an [`AsyncTransport`].
    pub async fn call_async<Q: Call>(
        &mut self,
        call: &Q,
        work: &mut [u8],
    ) -> Result<Q::Response, ClientError<T::Error>> {
        let lengths = write_request(call, work)?;
        let (target, body, response) = split_request(work, lengths)?;
        let verified = self.send_async(Q::METHOD, target, body, response).await?;
        self.accept(call, &verified)
    }
}

/// Everything a [`Client`] call can fail with.
///
/// `T` is the transport's own error type.
///
/// [`ApiError`] is held by value (a few hundred bytes) so no allocator is needed; the `Ok` side
/// of a record query is larger still, so boxing it would save no stack.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ClientError<T> {
    /// The request could not be built (bad input, small buffer, signer or nonce failure).
    Request(Error),
    /// The transport failed: connect, TLS, timeout, I/O, or a malformed response.
    Transport(T),
    /// The answer's body is larger than the caller's buffer: nothing of it was verified or
    /// used. A buffer of the documented size (or larger) is the fix, not a retry.
    ResponseTooLarge {
        /// The buffer's size in bytes.
        capacity: usize,
    },
    /// The server answered with a non-2xx status. See [`ApiError::is_not_found`].
    Api(ApiError),
    /// A 2xx response failed verification. Its body was discarded.
    Verify {
        /// Why.
        error: VerifyError,
        /// The response's `Request-ID`, for support.
        request_id: Option<RequestId>,
    },
    /// A verified 2xx body did not parse into the expected type.
    Parse {
        /// Why.
        error: ParseError,
        /// The response's `Request-ID`, for support.
        request_id: Option<RequestId>,
    },
}

/// A `Request-ID` header value.
pub type RequestId = heapless::String<{ crate::api_error::REQUEST_ID_CAPACITY }>;

impl<T> ClientError<T> {
    /// True for `404 ORDER_NOT_EXIST`, e.g. a user who never authorised: a normal outcome.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ClientError::Api(e) if e.is_not_found())
    }

    /// The response's `Request-ID`, when a response arrived.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ClientError::Api(e) => e.request_id.as_deref(),
            ClientError::Verify { request_id, .. } | ClientError::Parse { request_id, .. } => {
                request_id.as_deref()
            }
            ClientError::Request(_)
            | ClientError::Transport(_)
            | ClientError::ResponseTooLarge { .. } => None,
        }
    }
}

impl<T> From<Error> for ClientError<T> {
    fn from(e: Error) -> Self {
        ClientError::Request(e)
    }
}

impl<T: fmt::Display> fmt::Display for ClientError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Request(e) => write!(f, "request: {e}"),
            ClientError::Transport(e) => write!(f, "transport: {e}"),
            ClientError::ResponseTooLarge { capacity } => write!(
                f,
                "the answer is larger than the {capacity}-byte response buffer; it was not verified or used"
            ),
            ClientError::Api(e) => write!(f, "{e}"),
            ClientError::Verify { error, .. } => {
                write!(
                    f,
                    "response verification failed: {error}; the response was discarded"
                )
            }
            ClientError::Parse { error, .. } => write!(f, "verified response body: {error}"),
        }?;
        match self.request_id() {
            Some(id) if !matches!(self, ClientError::Api(_)) => write!(f, " (Request-ID {id})"),
            _ => Ok(()),
        }
    }
}

/// `source()` is the core error inside (request, API, verification, parse). A transport's
/// error is shown in the line but not chained: `T` need not implement `Error` (no_std
/// transports often use `&'static str`).
impl<T: fmt::Debug + fmt::Display> core::error::Error for ClientError<T> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ClientError::Request(e) => Some(e),
            ClientError::Api(e) => Some(e),
            ClientError::Verify { error, .. } => Some(error),
            ClientError::Parse { error, .. } => Some(error),
            ClientError::Transport(_) | ClientError::ResponseTooLarge { .. } => None,
        }
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
        fn body_too_large(error: &&'static str) -> bool {
            *error == "body too large"
        }
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

    fn by_code(code: &str, service_id: &str) -> crate::api::permissions::QueryByCode {
        crate::api::permissions::QueryByCode::new(code, service_id).expect("fits")
    }

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

    const RECORD_OTHER_SERVICE: &str = r#"{"service_id":"500002","appid":"wxd678efh567hg6787","mchid":"1230000109","authorization_code":"X"}"#;
    const RECORD: &str = r#"{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1230000109","authorization_code":"a|b*c","authorization_state":"AVAILABLE"}"#;

    #[test]
    fn happy_path_sends_what_it_signed() {
        let mut c = client(Playback::new(200, RECORD, true));
        let mut buf = [0u8; 2048];
        let record = c.call(&by_code("a|b*c", "500001"), &mut buf);
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
            // A verified record for another service is not the answer to this query.
            (200, RECORD_OTHER_SERVICE, true, |o| matches!(o, Err(ClientError::Verify { error: VerifyError::Mismatch { field: "service_id" }, request_id: Some(id) }) if id == "REQ-1")),
        ];
        for (status, body, signed, check) in cases {
            let mut c = client(Playback::new(*status, body, *signed));
            let mut buf = [0u8; 2048];
            let outcome = c.call(&by_code("X", "500001"), &mut buf).map(|_| ());
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
                let mut head = Transport::execute(&mut self.0, req, out)?;
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
            c.call(&by_code("X", "1"), &mut buf),
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
            c.call(&by_code("X", "1"), &mut buf),
            Err(ClientError::Transport("connection refused"))
        );

        let mut c = client(Playback::new(200, RECORD, true));
        assert_eq!(
            c.call(&by_code("", "1"), &mut buf),
            Err(ClientError::Request(Error::Invalid {
                field: "authorization_code",
                problem: crate::error::Problem::Empty
            }))
        );
        assert!(
            c.transport_mut().seen.is_empty(),
            "nothing is sent for a bad input"
        );
        // Too small for the target: refused before anything is signed, with the exact size.
        let mut tiny = [0u8; 16];
        assert_eq!(
            c.call(&by_code("X", "1"), &mut tiny),
            Err(ClientError::Request(Error::BufferTooSmall { needed: 58 }))
        );
        assert!(c.transport_mut().seen.is_empty());
        // Room for the target but not the answer: the caller's buffer, its own error.
        let mut small = [0u8; 80];
        assert_eq!(
            c.call(&by_code("X", "1"), &mut small),
            Err(ClientError::ResponseTooLarge { capacity: 80 - 58 })
        );
    }

    /// The same playback, answering at once through the async trait.
    impl AsyncTransport for Playback {
        type Error = &'static str;
        async fn execute(
            &mut self,
            req: &Request<'_>,
            out: &mut [u8],
        ) -> Result<ResponseHead, &'static str> {
            Transport::execute(self, req, out)
        }
        fn body_too_large(error: &&'static str) -> bool {
            <Playback as Transport>::body_too_large(error)
        }
    }

    /// Runs a future that never waits (the playback answers at once).
    fn now_or_never<F: core::future::Future>(future: F) -> F::Output {
        let mut future = core::pin::pin!(future);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            core::task::Poll::Ready(output) => output,
            core::task::Poll::Pending => std::panic!("the playback never waits"),
        }
    }

    /// `call_async` reports transport failures as `call` does: an answer larger than the
    /// caller's buffer is `ResponseTooLarge`, any other failure `Transport`.
    #[test]
    fn async_calls_report_transport_failures_as_blocking_ones() {
        let mut small = [0u8; 80];
        let mut c = client(Playback::new(200, RECORD, true));
        let blocking = c.call(&by_code("X", "1"), &mut small);
        let async_ = now_or_never(c.call_async(&by_code("X", "1"), &mut small));
        assert_eq!(
            blocking,
            Err(ClientError::ResponseTooLarge { capacity: 80 - 58 })
        );
        assert_eq!(async_, blocking);
        let mut failing = Playback::new(200, RECORD, true);
        failing.fail = true;
        let mut c = client(failing);
        let mut buf = [0u8; 1024];
        assert_eq!(
            now_or_never(c.call_async(&by_code("X", "1"), &mut buf)),
            Err(ClientError::Transport("connection refused"))
        );
        let mut c = client(Playback::new(200, RECORD, true));
        let answer = now_or_never(c.call_async(&by_code("a|b*c", "500001"), &mut buf));
        assert_eq!(answer, c.call(&by_code("a|b*c", "500001"), &mut buf));
        assert!(answer.is_ok(), "{answer:?}");
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
            c.call(&by_code("X", "1"), &mut buf),
            Err(ClientError::Verify {
                error: VerifyError::ClockSkew { skew_secs: 301 },
                request_id: heapless::String::try_from("REQ-1").ok()
            })
        );
    }

    #[test]
    fn client_errors_chain_their_source() {
        use core::error::Error as _;
        use std::string::ToString;
        let api = crate::api_error::ApiError::from_response(
            404,
            &crate::ResponseHeaders::default(),
            b"{}",
        );
        #[rustfmt::skip]
        let cases: &[(ClientError<&str>, Option<&str>)] = &[
            (ClientError::Request(Error::Random), Some("the random source failed")),
            (ClientError::Api(api.clone()),       Some("API error: HTTP 404: {} (no Request-ID)")),
            (ClientError::Verify { error: VerifyError::BadSignature, request_id: None },
                                                  Some("signature does not match")),
            (ClientError::Parse { error: ParseError::NotAnObject, request_id: None },
                                                  Some(&ParseError::NotAnObject.to_string())),
            (ClientError::Transport("refused"),   None),
        ];
        for (error, source) in cases {
            assert_eq!(
                error.source().map(|s| s.to_string()).as_deref(),
                *source,
                "{error}"
            );
        }
    }

    /// `call_into` parses into the caller's record and gives what `call` gives.
    #[test]
    fn call_into_matches_call() {
        use crate::model::Value;
        let mut c = client(Playback::new(200, RECORD, true));
        let mut buf = [0u8; 2048];
        let by_value = c.call(&by_code("a|b*c", "500001"), &mut buf);
        let mut c = client(Playback::new(200, RECORD, true));
        let mut out = crate::AuthorizationRecord::placeholder();
        let into = c.call_into(&by_code("a|b*c", "500001"), &mut buf, &mut out);
        assert_eq!(into, Ok(()));
        assert_eq!(by_value, Ok(out));
        // A mismatched answer is refused the same way.
        let mut c = client(Playback::new(200, RECORD_OTHER_SERVICE, true));
        let mut out = crate::AuthorizationRecord::placeholder();
        assert!(matches!(
            c.call_into(&by_code("X", "500001"), &mut buf, &mut out),
            Err(ClientError::Verify {
                error: VerifyError::Mismatch {
                    field: "service_id"
                },
                ..
            })
        ));
    }
}
