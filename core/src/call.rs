//! One [`Call`] per endpoint: what the client needs to send a typed request and to accept its
//! answer. A call value is declared beside its types in `api/`; the client imports no family.

use crate::error::{Error, ParseError, VerifyError};
use crate::transport::Method;

/// What a successful answer looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    /// 200 with a JSON body.
    Body,
    /// 204 No Content (verified over `TIMESTAMP\nNONCE\n\n`).
    NoContent,
}

/// The answer of a call whose success is `204 No Content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoContent;

/// Room for any request target of the declared families: a path, ids of up to 128
/// characters that may need `%XX` escaping three times over, and the query values.
pub const TARGET_CAPACITY: usize = 1024;

/// One endpoint: method, target, body, success shape and response type, and the binding of
/// the answer to the request.
pub trait Call {
    /// The HTTP method.
    const METHOD: Method;
    /// 200 with a body, or 204.
    const SUCCESS: Success;
    /// What the verified answer parses into.
    type Response;

    /// The encoded request target (path and query) into `buf`. Path and query inputs are
    /// checked here, with the field named.
    fn target<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error>;

    /// The JSON body into `buf` (`""` for GET). Every value is validated first, so nothing
    /// invalid is ever signed.
    fn body<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        let _ = buf;
        Ok("")
    }

    /// Parses a **verified** body (`b""` for 204).
    fn parse(&self, body: &[u8]) -> Result<Self::Response, ParseError>;

    /// Parses a **verified** body into the caller's `out` (no copy of a large answer through
    /// `Result` layers; see [`Client::call_into`](crate::Client::call_into)). On error `out`
    /// is unspecified.
    fn parse_into(&self, body: &[u8], out: &mut Self::Response) -> Result<(), ParseError> {
        *out = self.parse(body)?;
        Ok(())
    }

    /// Binds the answer to the request: every identifier the answer carries must equal the
    /// one asked for (`mchid` is the client's). A mismatch is
    /// [`VerifyError::Mismatch`]: the answer is discarded, never returned.
    fn check(&self, answer: &Self::Response, mchid: &str) -> Result<(), VerifyError>;
}

/// `Ok` when `answer` equals `asked`, else a mismatch naming `field`.
pub fn bind(field: &'static str, answer: &str, asked: &str) -> Result<(), VerifyError> {
    if answer == asked {
        Ok(())
    } else {
        Err(VerifyError::Mismatch { field })
    }
}

/// [`bind`] for an identifier the answer may leave out: absent is accepted.
pub fn bind_opt(field: &'static str, answer: Option<&str>, asked: &str) -> Result<(), VerifyError> {
    match answer {
        Some(answer) => bind(field, answer, asked),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding() {
        assert_eq!(bind("appid", "a", "a"), Ok(()));
        assert_eq!(
            bind("appid", "a", "b"),
            Err(VerifyError::Mismatch { field: "appid" })
        );
        assert_eq!(bind_opt("openid", None, "o"), Ok(()));
        assert_eq!(
            bind_opt("openid", Some("x"), "o"),
            Err(VerifyError::Mismatch { field: "openid" })
        );
    }
}
