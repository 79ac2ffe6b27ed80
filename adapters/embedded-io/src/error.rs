//! The adapter's one error type, generic over the stream's own error.

use core::fmt;

/// Everything an exchange over [`HttpClient`](crate::HttpClient) can fail with.
///
/// `E` is the stream's error (`embedded_io::ErrorType::Error`). Every limit has its own
/// variant, and every variant means no response was handed back: a truncated, oversized or
/// malformed response is never a partial success. After any error the connection is not
/// reused ([`Error::NotReusable`] until [`HttpClient::reconnect`](crate::HttpClient::reconnect)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E> {
    /// The stream failed (TLS, socket, timeout: whatever the caller's stack reports).
    Io(E),
    /// The stream broke its contract: `read` claimed more bytes than the buffer holds, or
    /// `write` accepted none of a non-empty buffer.
    StreamMisbehaved,
    /// The request head does not fit in the scratch buffer; one of `needed` bytes does.
    RequestTooLarge {
        /// Exact size of the request head in bytes.
        needed: usize,
    },
    /// The request cannot go on the wire as it is (a control character or space where none
    /// may be). `what` names the offending part.
    InvalidRequest {
        /// `"target"`, `"Host"` or the header's name.
        what: &'static str,
    },
    /// The peer closed the connection before sending a single byte of the response. On a
    /// reused connection this usually means the server timed it out; a fresh stream may retry.
    Closed,
    /// The peer closed the connection in the middle of the response.
    Truncated,
    /// The response head (or a chunked body's trailer section) is larger than the limit: the
    /// scratch buffer's length.
    HeadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The response has more header lines than the header table holds.
    TooManyHeaders {
        /// The limit (the client's `MAX_HEADERS`).
        limit: usize,
    },
    /// The body does not fit in the caller's buffer.
    BodyTooLarge {
        /// The exact body size when `Content-Length` announced it; `None` for chunked and
        /// close-delimited bodies, whose size is unknown until the end.
        needed: Option<usize>,
    },
    /// The status line or a header line is not valid HTTP/1.x.
    MalformedHead,
    /// The body's framing is not one this client trusts: a `Content-Length` that is not a
    /// number or that disagrees with another, both `Content-Length` and `Transfer-Encoding`,
    /// a transfer coding other than `chunked`, or too many interim (1xx) responses.
    MalformedFraming,
    /// A chunked body breaks the chunk syntax (size line, line ends, trailer).
    MalformedChunk,
    /// The previous exchange left the connection unusable (`Connection: close`, a body
    /// delimited by close, an error, extra bytes): supply a fresh stream with
    /// [`HttpClient::reconnect`](crate::HttpClient::reconnect).
    NotReusable,
}

impl<E> Error<E> {
    /// True when a fresh stream may help: the peer closed before answering, or the connection
    /// had already been used up.
    pub fn needs_new_connection(&self) -> bool {
        matches!(self, Error::Closed | Error::NotReusable)
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "stream error: {e}"),
            Error::StreamMisbehaved => f.write_str("the stream broke the embedded-io contract"),
            Error::RequestTooLarge { needed } => {
                write!(f, "request head needs a {needed}-byte scratch buffer")
            }
            Error::InvalidRequest { what } => write!(f, "{what} cannot be sent as it is"),
            Error::Closed => f.write_str("connection closed before the response"),
            Error::Truncated => f.write_str("connection closed in the middle of the response"),
            Error::HeadTooLarge { limit } => {
                write!(f, "response head is larger than {limit} bytes")
            }
            Error::TooManyHeaders { limit } => {
                write!(f, "response has more than {limit} header lines")
            }
            Error::BodyTooLarge { needed: Some(n) } => {
                write!(f, "response body of {n} bytes does not fit the buffer")
            }
            Error::BodyTooLarge { needed: None } => {
                f.write_str("response body does not fit the buffer")
            }
            Error::MalformedHead => f.write_str("malformed response head"),
            Error::MalformedFraming => f.write_str("malformed or unsupported body framing"),
            Error::MalformedChunk => f.write_str("malformed chunked body"),
            Error::NotReusable => f.write_str("connection cannot be reused; reconnect"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for Error<E> {}
