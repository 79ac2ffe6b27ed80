//! Error types. All are small and `Copy`, so they cost little on thumb targets.

use core::fmt;

use crate::api_error::ApiError;

/// A request could not be built: a target, a header or a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The caller's buffer is too small; a buffer of `needed` bytes succeeds.
    BufferTooSmall {
        /// The exact number of bytes the whole output needs.
        needed: usize,
    },
    /// An input value is not allowed; `what` says which value and why.
    InvalidInput {
        /// A short description, e.g. `"path segment is empty"`.
        what: &'static str,
    },
    /// A capacity-limited value (mchid, serial, key id) is longer than its capacity.
    TooLong {
        /// Which value.
        what: &'static str,
        /// Its capacity in bytes.
        max: usize,
    },
    /// The random source failed or kept returning unusable bytes.
    Random,
    /// The [`Signer`](crate::sign::Signer) failed.
    Signer,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BufferTooSmall { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
            Error::InvalidInput { what } => write!(f, "invalid input: {what}"),
            Error::TooLong { what, max } => write!(f, "{what} is longer than {max} bytes"),
            Error::Random => f.write_str("the random source failed"),
            Error::Signer => f.write_str("the signer failed"),
        }
    }
}

/// A response, or a callback, did not pass signature verification.
///
/// Whatever the variant, the body must not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum VerifyError {
    /// A required `Wechatpay-*` header is absent.
    MissingHeader {
        /// The header's name.
        name: &'static str,
    },
    /// A header value is longer than this client keeps, or appears twice.
    MalformedHeader {
        /// The header's name.
        name: &'static str,
    },
    /// `Wechatpay-Timestamp` is not a decimal number of seconds.
    BadTimestamp,
    /// The response is more than [`MAX_CLOCK_SKEW_SECS`](crate::verify::MAX_CLOCK_SKEW_SECS)
    /// away from the caller's clock (a replay, or a wrong clock).
    ClockSkew {
        /// `now - Wechatpay-Timestamp`, in seconds.
        skew_secs: i64,
    },
    /// `Wechatpay-Serial` names no key this client holds.
    UnknownSerial,
    /// `Wechatpay-Signature-Type` names an algorithm other than `WECHATPAY2-SHA256-RSA2048`.
    UnsupportedSignatureType,
    /// A `WECHATPAY/SIGNTEST/` probe signature: WeChat Pay checks that clients reject it.
    SignatureProbe,
    /// The signature is not base64 of exactly 256 bytes.
    MalformedSignature,
    /// The signature does not match the message.
    BadSignature,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::MissingHeader { name } => write!(f, "missing header {name}"),
            VerifyError::MalformedHeader { name } => {
                write!(f, "header {name} is repeated or too long")
            }
            VerifyError::BadTimestamp => f.write_str("Wechatpay-Timestamp is not a number"),
            VerifyError::ClockSkew { skew_secs } => {
                write!(f, "response timestamp is {skew_secs} s off the local clock")
            }
            VerifyError::UnknownSerial => f.write_str("Wechatpay-Serial names no known key"),
            VerifyError::UnsupportedSignatureType => {
                f.write_str("unsupported Wechatpay-Signature-Type")
            }
            VerifyError::SignatureProbe => f.write_str("signature is a WECHATPAY/SIGNTEST probe"),
            VerifyError::MalformedSignature => f.write_str("signature is not base64 of 256 bytes"),
            VerifyError::BadSignature => f.write_str("signature does not match"),
        }
    }
}

/// A JSON body could not be read into a typed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ParseError {
    /// Not well-formed JSON (or not UTF-8) at this byte offset.
    Syntax {
        /// Byte offset into the body.
        offset: usize,
    },
    /// Nesting deeper than [`MAX_DEPTH`](crate::json::MAX_DEPTH).
    TooDeep {
        /// Byte offset into the body.
        offset: usize,
    },
    /// The top-level value is not an object.
    NotAnObject,
    /// A required field is absent.
    MissingField {
        /// The JSON key.
        field: &'static str,
    },
    /// A field appears twice.
    DuplicateField {
        /// The JSON key.
        field: &'static str,
    },
    /// A field has the wrong JSON type (or a number out of range).
    WrongType {
        /// The JSON key.
        field: &'static str,
    },
    /// A field's value is longer than its documented maximum; nothing was truncated.
    FieldTooLong {
        /// The JSON key.
        field: &'static str,
        /// The capacity in bytes (UTF-8, after unescaping).
        max: usize,
    },
    /// A field's value is not one this client accepts (e.g. a malformed time).
    InvalidValue {
        /// The JSON key.
        field: &'static str,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Syntax { offset } => write!(f, "malformed JSON at byte {offset}"),
            ParseError::TooDeep { offset } => write!(f, "JSON nested too deeply at byte {offset}"),
            ParseError::NotAnObject => f.write_str("JSON body is not an object"),
            ParseError::MissingField { field } => write!(f, "field `{field}` is missing"),
            ParseError::DuplicateField { field } => write!(f, "field `{field}` appears twice"),
            ParseError::WrongType { field } => write!(f, "field `{field}` has the wrong type"),
            ParseError::FieldTooLong { field, max } => {
                write!(f, "field `{field}` is longer than {max} bytes")
            }
            ParseError::InvalidValue { field } => write!(f, "field `{field}` has an invalid value"),
        }
    }
}

/// Everything a [`Client`](crate::client::Client) call can fail with.
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
    /// The transport failed: connect, TLS, timeout, I/O, or a malformed or oversized response.
    Transport(T),
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
            ClientError::Request(_) | ClientError::Transport(_) => None,
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

impl core::error::Error for Error {}
impl core::error::Error for VerifyError {}
impl core::error::Error for ParseError {}
impl<T: fmt::Debug + fmt::Display> core::error::Error for ClientError<T> {}
