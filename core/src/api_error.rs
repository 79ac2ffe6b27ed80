//! The API's own errors: non-2xx bodies `{"code", "message", "detail"}` and the `Request-ID`.

use core::fmt;

use heapless::String;

use crate::json::Reader;
use crate::transport::ResponseHeaders;

/// Capacity of `code`.
pub const CODE_CAPACITY: usize = 32;
/// Capacity of `message`; a longer message is cut at a character boundary and flagged.
pub const MESSAGE_CAPACITY: usize = 256;
/// Capacity of `Request-ID`.
pub const REQUEST_ID_CAPACITY: usize = 64;
/// Capacity of `sign_information.method`.
pub const SIGN_METHOD_CAPACITY: usize = 8;
/// Capacity of `sign_information.url`; a longer one is cut at a character boundary.
pub const SIGN_URL_CAPACITY: usize = 128;

/// What a `SIGN_ERROR` answer says the server checked (`detail.sign_information`): compare it
/// with what was signed to find why a signature is refused. Kept small (one-byte lengths):
/// it rides in every [`ApiError`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SignInformation {
    /// The method the server saw.
    pub method: String<SIGN_METHOD_CAPACITY, u8>,
    /// The path and query the server saw (cut at [`SIGN_URL_CAPACITY`] bytes).
    pub url: String<SIGN_URL_CAPACITY, u8>,
    /// True when `url` was cut short.
    pub url_truncated: bool,
    /// Length of the message the server verified the signature over.
    pub sign_message_length: Option<u32>,
}

/// Error codes seen on the Payscore APIs (PROTOCOL.md §4), so callers need not compare strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorCode {
    /// `PARAM_ERROR`
    ParamError,
    /// `INVALID_REQUEST`
    InvalidRequest,
    /// `INVALID_ORDER_STATE`
    InvalidOrderState,
    /// `ORDER_CANCELED`
    OrderCanceled,
    /// `ORDER_DONE`
    OrderDone,
    /// `SIGN_ERROR`: the server did not accept the request signature.
    SignError,
    /// `NO_AUTH`
    NoAuth,
    /// `ORDER_NOT_EXIST`: no such authorization record.
    OrderNotExist,
    /// `RESOURCE_NOT_EXISTS`
    ResourceNotExists,
    /// `FREQUENCY_LIMITED`
    FrequencyLimited,
    /// `RATELIMIT_EXCEEDED`
    RatelimitExceeded,
    /// `SYSTEM_ERROR`
    SystemError,
    /// `SERVICE_UNAVAILABLE`
    ServiceUnavailable,
    /// Any other code, or none (see [`ApiError::code`]).
    Other,
}

impl ErrorCode {
    /// Classifies a code string.
    pub fn from_code(code: &str) -> ErrorCode {
        match code {
            "PARAM_ERROR" => ErrorCode::ParamError,
            "INVALID_REQUEST" => ErrorCode::InvalidRequest,
            "INVALID_ORDER_STATE" => ErrorCode::InvalidOrderState,
            "ORDER_CANCELED" => ErrorCode::OrderCanceled,
            "ORDER_DONE" => ErrorCode::OrderDone,
            "SIGN_ERROR" => ErrorCode::SignError,
            "NO_AUTH" => ErrorCode::NoAuth,
            "ORDER_NOT_EXIST" => ErrorCode::OrderNotExist,
            "RESOURCE_NOT_EXISTS" => ErrorCode::ResourceNotExists,
            "FREQUENCY_LIMITED" => ErrorCode::FrequencyLimited,
            "RATELIMIT_EXCEEDED" => ErrorCode::RatelimitExceeded,
            "SYSTEM_ERROR" => ErrorCode::SystemError,
            "SERVICE_UNAVAILABLE" => ErrorCode::ServiceUnavailable,
            _ => ErrorCode::Other,
        }
    }
}

/// A non-2xx answer from the API.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `code` from the body; empty when the body had none (or was not JSON).
    pub code: String<CODE_CAPACITY>,
    /// `message` from the body (or the start of a non-JSON body).
    pub message: String<MESSAGE_CAPACITY>,
    /// True when `message` was longer than [`MESSAGE_CAPACITY`] and is shown cut short.
    pub message_truncated: bool,
    /// The `Request-ID` header, for support.
    pub request_id: Option<String<REQUEST_ID_CAPACITY>>,
    /// True when the response carried `Wechatpay-*` headers and they verified. Error
    /// responses are often unsigned, so this is information, not a precondition.
    pub signature_verified: bool,
    /// `detail.sign_information` of a `SIGN_ERROR` answer, when it has one.
    pub sign_information: Option<SignInformation>,
}

impl ApiError {
    /// Reads an error body. Never fails: a body that is not the documented JSON keeps as much
    /// text as fits, with an empty `code`. `detail` and unknown fields are skipped.
    pub fn from_response(status: u16, headers: &ResponseHeaders, body: &[u8]) -> ApiError {
        let mut error = ApiError {
            status,
            code: String::new(),
            message: String::new(),
            message_truncated: false,
            request_id: headers.request_id.clone(),
            signature_verified: false,
            sign_information: None,
        };
        let mut code = None;
        let mut message = None;
        let parsed = Reader::object(body, |key, r| match key {
            "code" if code.is_none() => {
                code = Some(r.read_str::<CODE_CAPACITY>("code")?);
                Ok(())
            }
            "message" if message.is_none() => {
                message = Some(r.read_str_truncating::<MESSAGE_CAPACITY>("message")?);
                Ok(())
            }
            _ => r.skip_value(),
        });
        match (parsed, code) {
            (Ok(()), Some(code)) => {
                error.code = code;
                if let Some((text, truncated)) = message {
                    error.message = text;
                    error.message_truncated = truncated;
                }
                // The string itself, not `code()`: no classifier linked for one comparison.
                if error.code == "SIGN_ERROR" {
                    error.sign_information = sign_information(body);
                }
            }
            _ => {
                let text = match core::str::from_utf8(body) {
                    Ok(text) => text,
                    Err(e) => body
                        .get(..e.valid_up_to())
                        .and_then(|b| core::str::from_utf8(b).ok())
                        .unwrap_or_default(),
                };
                let mut cut = text.len().min(MESSAGE_CAPACITY);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                error.message =
                    String::try_from(text.get(..cut).unwrap_or_default()).unwrap_or_default();
                error.message_truncated = cut < body.len();
            }
        }
        error
    }

    /// The code, classified.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::from_code(&self.code)
    }

    /// True for `404 ORDER_NOT_EXIST`: e.g. a user who never authorised. A normal outcome.
    pub fn is_not_found(&self) -> bool {
        self.status == 404 && self.code() == ErrorCode::OrderNotExist
    }

    /// True when the same request may succeed later (429, 5xx, `SYSTEM_ERROR`, rate limits).
    pub fn is_retryable(&self) -> bool {
        self.status == 429
            || self.status >= 500
            || matches!(
                self.code(),
                ErrorCode::SystemError
                    | ErrorCode::ServiceUnavailable
                    | ErrorCode::FrequencyLimited
                    | ErrorCode::RatelimitExceeded
            )
    }
}

impl core::error::Error for ApiError {}

/// `detail.sign_information` of an error body; `None` when absent or not the documented shape
/// (the rest of the error stands either way).
fn sign_information(body: &[u8]) -> Option<SignInformation> {
    let mut info: Option<SignInformation> = None;
    let parsed = Reader::object(body, |key, r| match key {
        "detail" if info.is_none() => r.read_object("detail", |key, r| match key {
            "sign_information" if info.is_none() => {
                let mut found = SignInformation::default();
                r.read_object("sign_information", |key, r| match key {
                    "method" => {
                        let (text, _) = r.read_str_truncating::<SIGN_METHOD_CAPACITY>("method")?;
                        found.method = String::try_from(text.as_str()).unwrap_or_default();
                        Ok(())
                    }
                    "url" => {
                        let (text, cut) = r.read_str_truncating::<SIGN_URL_CAPACITY>("url")?;
                        found.url = String::try_from(text.as_str()).unwrap_or_default();
                        found.url_truncated = cut;
                        Ok(())
                    }
                    "sign_message_length" => {
                        let len = r.read_i64("sign_message_length")?;
                        found.sign_message_length = u32::try_from(len).ok();
                        Ok(())
                    }
                    _ => r.skip_value(),
                })?;
                info = Some(found);
                Ok(())
            }
            _ => r.skip_value(),
        }),
        _ => r.skip_value(),
    });
    parsed.ok().and(info)
}

/// True for characters that must not reach a terminal or log line from a server: control
/// characters, and the Unicode bidi and format characters that reorder or hide text
/// (U+200B–U+200F, U+202A–U+202E, U+2066–U+2069, U+FEFF).
pub fn is_unsafe_in_one_line(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Writes server-supplied text on one line: control, bidi and format characters are shown as
/// spaces.
fn write_one_line(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for c in text.chars() {
        fmt::Write::write_char(f, if is_unsafe_in_one_line(c) { ' ' } else { c })?;
    }
    Ok(())
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, always: the code, the message and the Request-ID all come from the server.
        write!(f, "API error: HTTP {}", self.status)?;
        if !self.code.is_empty() {
            f.write_str(" ")?;
            write_one_line(f, &self.code)?;
        }
        if !self.message.is_empty() {
            f.write_str(": ")?;
            write_one_line(f, &self.message)?;
            if self.message_truncated {
                f.write_str("…")?;
            }
        }
        if let Some(info) = &self.sign_information {
            f.write_str(" (sign_information: method ")?;
            write_one_line(f, &info.method)?;
            f.write_str(", url ")?;
            write_one_line(f, &info.url)?;
            if info.url_truncated {
                f.write_str("…")?;
            }
            if let Some(len) = info.sign_message_length {
                write!(f, ", sign_message_length {len}")?;
            }
            f.write_str(")")?;
        }
        match &self.request_id {
            Some(id) => {
                f.write_str(" (Request-ID ")?;
                write_one_line(f, id)?;
                f.write_str(")")
            }
            None => f.write_str(" (no Request-ID)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2024::*;

    fn headers() -> ResponseHeaders {
        let mut h = ResponseHeaders::default();
        h.capture("Request-ID", b"08F78BB5AF0610D302");
        h
    }

    #[test]
    fn table() {
        #[rustfmt::skip]
        let cases: &[(u16, &str, &str, &str, bool)] = &[
            (404, r#"{"code":"ORDER_NOT_EXIST","message":"用户未授权"}"#, "ORDER_NOT_EXIST", "用户未授权", false),
            (400, r#"{"code":"PARAM_ERROR","message":"bad","detail":{"field":"/service_id","value":"x","issue":"y","location":"body"}}"#, "PARAM_ERROR", "bad", false),
            (401, r#"{"detail":{"sign_information":{"method":"GET","url":"/v3/x","truncated_sign_message":"GET\n/v3/x\n"}},"message":"签名错误","code":"SIGN_ERROR"}"#, "SIGN_ERROR", "签名错误", false),
            (500, r#"{"code":"SYSTEM_ERROR"}"#, "SYSTEM_ERROR", "", false),
            (502, "<html>Bad Gateway</html>", "", "<html>Bad Gateway</html>", false),
            (503, "", "", "", false),
            (400, r#"{"code":"A","message":"\u4e2d"}"#, "A", "中", false),
        ];
        for (status, body, code, message, truncated) in cases {
            let e = ApiError::from_response(*status, &headers(), body.as_bytes());
            assert_eq!(
                (
                    e.status,
                    e.code.as_str(),
                    e.message.as_str(),
                    e.message_truncated
                ),
                (*status, *code, *message, *truncated),
                "{body}"
            );
            assert_eq!(e.request_id.as_deref(), Some("08F78BB5AF0610D302"));
        }
    }

    #[test]
    fn long_message_is_flagged_not_hidden() {
        let long = "错".repeat(100); // 300 bytes
        let body = format!(r#"{{"code":"X","message":"{long}"}}"#);
        let e = ApiError::from_response(400, &headers(), body.as_bytes());
        assert!(e.message_truncated);
        assert_eq!(e.message.len(), 255);
        assert!(e.to_string().ends_with("… (Request-ID 08F78BB5AF0610D302)"));
    }

    /// Found by the `api_error` fuzz target: a `Request-ID` (or a `code`) with control
    /// characters made `Display` span lines, which lets a server forge log lines.
    #[test]
    fn display_is_one_line_whatever_the_server_sends() {
        let mut h = ResponseHeaders::default();
        h.capture("Request-ID", b"x\r\x08\x1b[2J");
        let e = ApiError::from_response(400, &h, br#"{"code":"A\u001b\nB","message":"m\r\n"}"#);
        assert_eq!(e.code.as_str(), "A\u{1b}\nB");
        assert_eq!(
            e.to_string(),
            "API error: HTTP 400 A  B: m   (Request-ID x   [2J)"
        );
    }

    /// `ClientError` holds `ApiError` by value (clippy.toml: large-error-threshold 640).
    #[test]
    fn api_error_stays_small() {
        assert!(
            core::mem::size_of::<ApiError>() <= 560,
            "{}",
            core::mem::size_of::<ApiError>()
        );
    }

    #[test]
    fn sign_error_shows_sign_information() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<&str>)] = &[
            (r#"{"code":"SIGN_ERROR","message":"m","detail":{"detail":{"issue":"sign not match"},"field":"signature","sign_information":{"method":"POST","sign_message_length":151,"truncated_sign_message":"POST\n/v3/x\n","url":"/v3/x?a=1"}}}"#,
             Some(" (sign_information: method POST, url /v3/x?a=1, sign_message_length 151)")),
            (r#"{"detail":{"sign_information":{"url":"/v3/y\u202e\n"}},"code":"SIGN_ERROR"}"#,
             Some(" (sign_information: method , url /v3/y  )")),
            (r#"{"code":"SIGN_ERROR","message":"m"}"#, None),
            (r#"{"code":"SIGN_ERROR","detail":{"sign_information":"not an object"}}"#, None),
            (r#"{"code":"SIGN_ERROR","detail":{"sign_information":{"sign_message_length":"x"}}}"#, None),
            (r#"{"code":"PARAM_ERROR","detail":{"sign_information":{"method":"GET","url":"/v3/x"}}}"#, None),
        ];
        for (body, shown) in cases {
            let e = ApiError::from_response(401, &headers(), body.as_bytes());
            assert!(!e.code.is_empty(), "{body}: the code stands");
            let text = e.to_string();
            match shown {
                Some(part) => assert!(text.contains(part), "{text}"),
                None => {
                    assert!(e.sign_information.is_none(), "{body}");
                    assert!(!text.contains("sign_information"), "{text}");
                }
            }
        }
    }

    /// Bidi and format characters reorder or hide text on a terminal: a server could make a
    /// line read as something else. Each is shown as a space.
    #[test]
    fn display_drops_bidi_and_format_characters() {
        #[rustfmt::skip]
        let cases: &[(char, bool)] = &[
            ('\u{200A}', false), ('\u{200B}', true), ('\u{200D}', true), ('\u{200F}', true),
            ('\u{2010}', false), ('\u{2029}', false), ('\u{202A}', true), ('\u{202E}', true),
            ('\u{202F}', false), ('\u{2065}', false), ('\u{2066}', true), ('\u{2069}', true),
            ('\u{206A}', false), ('\u{FEFF}', true),  ('\u{FEFE}', false), ('中', false),
            ('\n', true), ('\u{7f}', true), ('a', false),
        ];
        for (c, unsafe_) in cases {
            assert_eq!(is_unsafe_in_one_line(*c), *unsafe_, "{:04X}", u32::from(*c));
            let body = format!(r#"{{"code":"A","message":"x{c}y"}}"#);
            let shown = ApiError::from_response(400, &ResponseHeaders::default(), body.as_bytes())
                .to_string();
            let want = if *unsafe_ { " ".into() } else { c.to_string() };
            assert!(shown.contains(&format!("x{want}y")), "{shown:?}");
        }
        let mut h = ResponseHeaders::default();
        h.capture("Request-ID", "id\u{202E}gpj.exe".as_bytes());
        let e = ApiError::from_response(400, &h, b"{}");
        assert!(e.to_string().ends_with("(Request-ID id gpj.exe)"), "{e}");
    }

    #[test]
    fn classification() {
        let e = ApiError::from_response(
            404,
            &headers(),
            br#"{"code":"ORDER_NOT_EXIST","message":"m"}"#,
        );
        assert!(e.is_not_found());
        assert!(!e.is_retryable());
        assert_eq!(
            e.to_string(),
            "API error: HTTP 404 ORDER_NOT_EXIST: m (Request-ID 08F78BB5AF0610D302)"
        );
        let e = ApiError::from_response(
            429,
            &ResponseHeaders::default(),
            br#"{"code":"FREQUENCY_LIMITED","message":"a\nb"}"#,
        );
        assert!(e.is_retryable());
        assert_eq!(
            e.to_string(),
            "API error: HTTP 429 FREQUENCY_LIMITED: a b (no Request-ID)"
        );
    }
}
