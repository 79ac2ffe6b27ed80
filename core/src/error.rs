//! Error types. All are small and `Copy`, so they cost little on thumb targets.

use core::fmt;

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
    /// A value that goes into the request path as one segment is empty, `.` or `..` (a
    /// normalising proxy would resolve `..` to another endpoint); `what` names the field.
    InvalidSegment {
        /// The field, e.g. `"openid"`.
        what: &'static str,
    },
    /// A capacity-limited value (mchid, serial, key id) is longer than its capacity.
    TooLong {
        /// Which value.
        what: &'static str,
        /// Its capacity in bytes.
        max: usize,
    },
    /// A request value breaks a documented rule; nothing was signed or sent.
    Invalid {
        /// The JSON key (or path/query name) of the value.
        field: &'static str,
        /// Which rule it breaks.
        problem: Problem,
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
            Error::InvalidSegment { what } => write!(
                f,
                "invalid input: {what} cannot be empty, `.` or `..` (it is a path segment)"
            ),
            Error::TooLong { what, max } => write!(f, "{what} is longer than {max} bytes"),
            Error::Invalid { field, problem } => write!(f, "`{field}` {problem}"),
            Error::Random => f.write_str("the random source failed"),
            Error::Signer => f.write_str("the signer failed"),
        }
    }
}

/// The rule a request value breaks (see [`Error::Invalid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Problem {
    /// It is empty (or absent) where a value is required.
    Empty,
    /// Longer than the documented maximum in characters (a CJK character counts as one).
    TooManyChars {
        /// The documented maximum.
        max: usize,
    },
    /// Longer than the documented maximum in bytes.
    TooManyBytes {
        /// The documented maximum.
        max: usize,
    },
    /// A character outside the documented set.
    Charset {
        /// The allowed set, e.g. `"[0-9A-Za-z_-|*]"`.
        allowed: &'static str,
    },
    /// A number outside the documented range.
    OutOfRange {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// Fewer array items than required.
    TooFew {
        /// The minimum.
        min: usize,
    },
    /// More array items than allowed.
    TooMany {
        /// The maximum.
        max: usize,
    },
    /// Not one of the documented values.
    NotInSet {
        /// The allowed values, e.g. `"DEPOSIT, ADVANCE"`.
        allowed: &'static str,
    },
    /// Not in the documented time format.
    Time {
        /// The format, e.g. `"yyyyMMddHHmmss"`.
        format: &'static str,
    },
    /// Two items share a value that must be unique (e.g. fee item names in one order).
    NotUnique,
    /// Disagrees with other fields (e.g. `total_amount` is not the sum of the fee items).
    Inconsistent {
        /// What it must equal or satisfy.
        rule: &'static str,
    },
    /// A path segment that is `.` or `..` (a normalising proxy would resolve it).
    DotSegment,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Empty => f.write_str("is empty or missing"),
            Problem::TooManyChars { max } => write!(f, "is longer than {max} characters"),
            Problem::TooManyBytes { max } => write!(f, "is longer than {max} bytes"),
            Problem::Charset { allowed } => write!(f, "has characters outside {allowed}"),
            Problem::OutOfRange { min, max } => write!(f, "is outside {min}..={max}"),
            Problem::TooFew { min } => write!(f, "needs at least {min} items"),
            Problem::TooMany { max } => write!(f, "has more than {max} items"),
            Problem::NotInSet { allowed } => write!(f, "is not one of {allowed}"),
            Problem::Time { format } => write!(f, "is not a time of the form {format}"),
            Problem::NotUnique => f.write_str("repeats a value that must be unique"),
            Problem::Inconsistent { rule } => write!(f, "is inconsistent: {rule}"),
            Problem::DotSegment => f.write_str("is `.` or `..`, which proxies would resolve"),
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
    /// The answer verified but does not answer the request that was sent: an identifier in
    /// it differs from the one asked for (a replayed or misrouted answer).
    Mismatch {
        /// The JSON key that differs.
        field: &'static str,
    },
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
            VerifyError::Mismatch { field } => {
                write!(f, "the answer's `{field}` differs from the request's")
            }
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
    /// An array has more items than its capacity; nothing was dropped.
    TooMany {
        /// The JSON key.
        field: &'static str,
        /// The capacity.
        max: usize,
    },
    /// A member no declaration knows, where unknown members are refused (a request body a
    /// user wrote: a typo must not be dropped silently). `offset` is where its key starts.
    UnknownField {
        /// Byte offset of the key.
        offset: usize,
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
            ParseError::TooMany { field, max } => {
                write!(f, "field `{field}` has more than {max} items")
            }
            ParseError::UnknownField { offset } => write!(f, "unknown field at byte {offset}"),
        }
    }
}

impl core::error::Error for Error {}
impl core::error::Error for VerifyError {}
impl core::error::Error for ParseError {}
