//! The boundary to the HTTP I/O: a request the core has built, the response head a transport
//! hands back, and the blocking [`Transport`] trait adapters implement.

use core::fmt;

use heapless::String;

/// HTTP methods WeChat Pay APIv3 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// Upper-case name, as signed and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Parses an upper-case method name.
    pub fn parse(name: &str) -> Option<Method> {
        Some(match name {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `User-Agent` sent by default: this crate and its version.
pub const USER_AGENT: &str = concat!("wxpay-core/", env!("CARGO_PKG_VERSION"));
/// Every request accepts JSON; without `Accept` the server answers `400 INVALID_REQUEST`.
pub const ACCEPT_JSON: &str = "application/json";

/// A signed request, ready for the wire. Transports add `Host` (and `Content-Length`) and send
/// [`Request::headers`] as they are; the `target` must go out byte for byte.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Method.
    pub method: Method,
    /// Path and query, already percent-encoded; never re-encode it.
    pub target: &'a str,
    /// The `Authorization` value.
    pub authorization: &'a str,
    /// `User-Agent`, by default [`USER_AGENT`].
    pub user_agent: &'a str,
    /// `Wechatpay-Serial` in public-key mode: the key id responses should be signed for.
    pub wechatpay_serial: Option<&'a str>,
    /// The body exactly as signed; empty for GET.
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    /// Every header the request needs, besides `Host` and `Content-Length`.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &'a str)> + use<'a> {
        let content_type = (!self.body.is_empty()).then_some(("Content-Type", ACCEPT_JSON));
        [
            Some(("Authorization", self.authorization)),
            Some(("Accept", ACCEPT_JSON)),
            Some(("User-Agent", self.user_agent)),
            content_type,
            self.wechatpay_serial.map(|s| ("Wechatpay-Serial", s)),
        ]
        .into_iter()
        .flatten()
    }
}

/// Names of the response headers the core reads.
pub mod header {
    /// Signing time, Unix seconds.
    pub const TIMESTAMP: &str = "Wechatpay-Timestamp";
    /// Signing nonce.
    pub const NONCE: &str = "Wechatpay-Nonce";
    /// Base64 signature.
    pub const SIGNATURE: &str = "Wechatpay-Signature";
    /// Platform certificate serial or `PUB_KEY_ID_…`.
    pub const SERIAL: &str = "Wechatpay-Serial";
    /// `WECHATPAY2-SHA256-RSA2048`.
    pub const SIGNATURE_TYPE: &str = "Wechatpay-Signature-Type";
    /// Server's request id, wanted by support for every error.
    pub const REQUEST_ID: &str = "Request-ID";
}

/// The response headers the core needs, captured into fixed storage.
///
/// A transport calls [`ResponseHeaders::capture`] with every header it receives; names are
/// matched case-insensitively and other headers are ignored. A value too long for its slot, or a
/// repeated header, is remembered and fails verification rather than being truncated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHeaders {
    /// `Wechatpay-Timestamp`.
    pub timestamp: Option<String<20>>,
    /// `Wechatpay-Nonce`.
    pub nonce: Option<String<64>>,
    /// `Wechatpay-Signature`.
    pub signature: Option<String<384>>,
    /// `Wechatpay-Serial`.
    pub serial: Option<String<64>>,
    /// `Wechatpay-Signature-Type`.
    pub signature_type: Option<String<32>>,
    /// `Request-ID`.
    pub request_id: Option<String<64>>,
    /// The first signed header that was repeated or too long, if any.
    pub malformed: Option<&'static str>,
}

impl ResponseHeaders {
    /// Records one header if it is one the core reads. Values that are not UTF-8 count as
    /// malformed.
    pub fn capture(&mut self, name: &str, value: &[u8]) {
        // All but one of the headers the core keeps start with "Wechatpay-": a cheap first
        // test skips most others without comparing whole names.
        if !name
            .get(..1)
            .is_some_and(|c| c.eq_ignore_ascii_case("w") || c.eq_ignore_ascii_case("r"))
        {
            return;
        }
        let eq = |h: &str| h.eq_ignore_ascii_case(name);
        if eq(header::TIMESTAMP) {
            store(
                &mut self.timestamp,
                value,
                header::TIMESTAMP,
                &mut self.malformed,
            );
        } else if eq(header::NONCE) {
            store(&mut self.nonce, value, header::NONCE, &mut self.malformed);
        } else if eq(header::SIGNATURE) {
            store(
                &mut self.signature,
                value,
                header::SIGNATURE,
                &mut self.malformed,
            );
        } else if eq(header::SERIAL) {
            store(&mut self.serial, value, header::SERIAL, &mut self.malformed);
        } else if eq(header::SIGNATURE_TYPE) {
            store(
                &mut self.signature_type,
                value,
                header::SIGNATURE_TYPE,
                &mut self.malformed,
            );
        } else if eq(header::REQUEST_ID) {
            // Not signed: a bad value is dropped rather than shown cut short.
            let mut ignored = None;
            store(
                &mut self.request_id,
                value,
                header::REQUEST_ID,
                &mut ignored,
            );
            if ignored.is_some() {
                self.request_id = None;
            }
        }
    }

    /// True when any `Wechatpay-*` signature header is present.
    pub fn has_signature_headers(&self) -> bool {
        self.signature.is_some() || self.timestamp.is_some() || self.serial.is_some()
    }
}

fn store<const N: usize>(
    slot: &mut Option<String<N>>,
    value: &[u8],
    name: &'static str,
    malformed: &mut Option<&'static str>,
) {
    // Only the values kept are checked for UTF-8; the rest are never looked at. Spaces and
    // tabs are trimmed as bytes first (the same text: they are ASCII, and UTF-8 is valid or
    // not whatever is cut off its ends; `str::trim_matches` with a char set cost 330 bytes).
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value
        .iter()
        .position(|b| !is_blank(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_blank(b))
        .map_or(start, |i| i + 1);
    if slot.is_some() {
        malformed.get_or_insert(name);
        return;
    }
    // Copied straight into the slot: building the string apart and moving it in copied the
    // whole capacity (384 bytes for the signature) a second time.
    let text = value
        .get(start..end)
        .and_then(|v| core::str::from_utf8(v).ok());
    let kept = slot.insert(String::new());
    let fits = match text {
        Some(text) => kept.push_str(text).is_ok(),
        None => false,
    };
    if !fits {
        *slot = None;
        malformed.get_or_insert(name);
    }
}

/// What a transport hands back besides the body bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHead {
    /// HTTP status code.
    pub status: u16,
    /// The headers the core reads.
    pub headers: ResponseHeaders,
    /// Number of body bytes written to the caller's buffer: the whole body.
    pub body_len: usize,
}

/// One blocking request/response exchange. TLS, `Host` and connection reuse belong to the
/// implementor. The whole body goes into `response_body`; a larger body is an error of the
/// transport, never a truncated success.
pub trait Transport {
    /// The transport's own error.
    type Error: fmt::Debug;
    /// Sends `request` and reads the response.
    fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, Self::Error>;

    /// Whether `error` says the answer's body was larger than the caller's buffer: the client
    /// reports that as [`ClientError::ResponseTooLarge`](crate::ClientError::ResponseTooLarge),
    /// the caller's own problem, not a transport failure. The default is `false`.
    fn body_too_large(error: &Self::Error) -> bool {
        let _ = error;
        false
    }
}

/// One async request/response exchange: the twin of [`Transport`] for embassy
/// (`embedded-io-async`) and tokio hosts. TLS belongs to the implementor.
///
/// Dropping the future at any await point must leave the transport usable (a half-read
/// connection is closed, not reused).
#[allow(async_fn_in_trait)]
pub trait AsyncTransport {
    /// The transport's own error.
    type Error: fmt::Debug;
    /// Sends `request` and reads the response.
    async fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, Self::Error>;

    /// As [`Transport::body_too_large`].
    fn body_too_large(error: &Self::Error) -> bool {
        let _ = error;
        false
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    type Error = T::Error;
    fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, Self::Error> {
        (**self).execute(request, response_body)
    }
    fn body_too_large(error: &Self::Error) -> bool {
        T::body_too_large(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2024::*;

    #[test]
    fn captures_case_insensitively() {
        let mut h = ResponseHeaders::default();
        for (name, value) in [
            ("wechatpay-timestamp", "1554208460"),
            ("WECHATPAY-NONCE", "abc"),
            ("Wechatpay-Serial", " PUB_KEY_ID_1 "),
            ("request-id", "08F78BB5AF0610D302"),
            ("Content-Type", "application/json"),
        ] {
            h.capture(name, value.as_bytes());
        }
        assert_eq!(h.timestamp.as_deref(), Some("1554208460"));
        assert_eq!(h.nonce.as_deref(), Some("abc"));
        assert_eq!(h.serial.as_deref(), Some("PUB_KEY_ID_1"));
        assert_eq!(h.request_id.as_deref(), Some("08F78BB5AF0610D302"));
        assert_eq!(h.malformed, None);
    }

    /// Values are kept with spaces and tabs trimmed from both ends, exactly as `str::trim`
    /// of those two characters would; anything not UTF-8 is malformed.
    #[test]
    fn values_are_trimmed_of_spaces_and_tabs() {
        #[rustfmt::skip]
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"abc",             Some("abc")),
            (b" \tabc\t ",       Some("abc")),
            (b"a b\tc",          Some("a b\tc")),
            (b"   ",             Some("")),
            (b"",                Some("")),
            (b" \xe4\xb8\xad ",   Some("\u{4e2d}")),
            (b"\r\nx\x0c",        Some("\r\nx\x0c")),
            (b" \xff ",          None),
            (b"\xe4\xb8",         None),
        ];
        for (value, want) in cases {
            let mut h = ResponseHeaders::default();
            h.capture("Wechatpay-Nonce", value);
            assert_eq!(h.nonce.as_deref(), *want, "{value:?}");
            assert_eq!(h.malformed.is_some(), want.is_none(), "{value:?}");
            let old = core::str::from_utf8(value)
                .ok()
                .map(|v| v.trim_matches([' ', '\t']));
            assert_eq!(old, *want, "{value:?}");
        }
    }

    #[test]
    fn repeated_or_long_is_malformed() {
        let mut h = ResponseHeaders::default();
        h.capture("Wechatpay-Nonce", b"a");
        h.capture("Wechatpay-Nonce", b"b");
        assert_eq!(h.malformed, Some(header::NONCE));
        assert_eq!(h.nonce.as_deref(), Some("a"));

        let mut h = ResponseHeaders::default();
        h.capture("Wechatpay-Timestamp", b"123456789012345678901");
        assert_eq!(h.malformed, Some(header::TIMESTAMP));
        assert_eq!(h.timestamp, None, "a value too long is not kept in part");

        let mut h = ResponseHeaders::default();
        h.capture("Wechatpay-Timestamp", b"12345678901234567890");
        assert_eq!(h.timestamp.as_deref(), Some("12345678901234567890"));
        assert_eq!(h.malformed, None, "exactly the capacity fits");

        let mut h = ResponseHeaders::default();
        h.capture("Wechatpay-Signature", b"\xff");
        h.capture("Wechatpay-Signature", b"abc");
        assert_eq!(
            h.malformed,
            Some(header::SIGNATURE),
            "the bad first value is remembered"
        );

        let mut h = ResponseHeaders::default();
        h.capture("Request-ID", &[b'x'; 65]);
        assert_eq!((h.request_id, h.malformed), (None, None));
    }

    #[test]
    fn request_headers() {
        let req = Request {
            method: Method::Post,
            target: "/v3/x",
            authorization: "A",
            user_agent: USER_AGENT,
            wechatpay_serial: Some("PUB_KEY_ID_1"),
            body: b"{}",
        };
        let names: std::vec::Vec<_> = req.headers().map(|(n, _)| n).collect();
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
        let get = Request {
            body: b"",
            wechatpay_serial: None,
            ..req
        };
        assert_eq!(get.headers().count(), 3);
    }
}
