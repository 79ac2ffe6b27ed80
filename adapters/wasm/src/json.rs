//! What the module hands the host: one JSON text per call, `{"ok": …}` or `{"error": {…}}`.
//!
//! Errors are typed objects with a `kind` (`config`, `request`, `api`, `verify`, `parse`), a
//! stable snake_case `reason` where there is one, a one-line `message`, and the `requestId`
//! whenever a response arrived. Records keep the API's field names and values exactly as
//! received; fields the server omitted are omitted.

use std::fmt::Write;

use wxpay_core::crypto::rsa::KeyError;
use wxpay_core::model::Record;
use wxpay_core::{ClientError, Error, ParseError, VerifyError};

use crate::{Failure, Prepared};

/// `{"ok":{"method","target","headers":{…},"body"}}`.
pub fn prepared(p: &Prepared) -> String {
    envelope("ok", |o| {
        o.str("method", p.method.as_str());
        o.str("target", &p.target);
        o.key("headers");
        let mut headers = Object::new(o.out);
        for (name, value) in &p.headers {
            headers.str(name, value);
        }
        headers.close();
        o.str("body", &p.body);
    })
}

/// A record rendered by its declaration (the API's field names, values exactly as received,
/// absent fields left out). The renderer writes well-formed JSON; a failure would be a bug,
/// so it shows as `null`.
pub fn render<R: Record>(r: &R) -> String {
    let mut rendered = vec![0u8; 4096];
    let text = match r.write_json(&mut rendered) {
        Err(Error::BufferTooSmall { needed }) => {
            rendered = vec![0u8; needed];
            r.write_json(&mut rendered).map(str::to_owned)
        }
        other => other.map(str::to_owned),
    };
    text.unwrap_or_else(|_| "null".to_owned())
}

/// `{"ok":{"record":{…},"requestId":…}}`.
pub fn record<R: Record>(r: &R, request_id: Option<&str>) -> String {
    answer("record", &render(r), request_id)
}

/// `{"ok":{KEY:…,"requestId":…}}` around already rendered JSON.
pub fn answer(key: &str, rendered: &str, request_id: Option<&str>) -> String {
    envelope("ok", |o| {
        o.key(key);
        o.out.push_str(rendered);
        o.nullable_str("requestId", request_id);
    })
}

/// `{"ok":{"handle":N}}` and other small answers.
pub fn ok_number(key: &str, n: i64) -> String {
    envelope("ok", |o| o.num(key, n))
}

/// `{"error":{"kind",…}}`.
pub fn failure(f: &Failure) -> String {
    envelope("error", |o| failure_fields(o, f))
}

fn failure_fields(o: &mut Object<'_>, f: &Failure) {
    match f {
        Failure::Key { error, .. } => {
            o.str("kind", "config");
            o.str("reason", key_reason(*error));
        }
        Failure::Request(e) => request(o, e),
        Failure::Response(e) => match e {
            ClientError::Request(e) => request(o, e),
            ClientError::Transport(never) => match *never {},
            ClientError::Api(e) => {
                o.str("kind", "api");
                o.num("status", i64::from(e.status));
                o.str("code", &e.code);
                o.bool("notFound", e.is_not_found());
                o.bool("retryable", e.is_retryable());
                o.bool("signatureVerified", e.signature_verified);
                o.bool("messageTruncated", e.message_truncated);
                o.str("apiMessage", &e.message);
            }
            ClientError::Verify { error, .. } => {
                o.str("kind", "verify");
                verify(o, error);
            }
            ClientError::Parse { error, .. } => {
                o.str("kind", "parse");
                parse(o, error);
            }
            _ => o.str("kind", "internal"),
        },
    }
    o.str("message", &one_line(&f.to_string()));
    if let Failure::Response(e) = f {
        o.nullable_str("requestId", e.request_id());
    }
}

/// `{"<tag>":{…}}`, the object written by `fields`.
fn envelope(tag: &str, fields: impl FnOnce(&mut Object<'_>)) -> String {
    let mut out = String::from("{");
    escape(&mut out, tag);
    out.push(':');
    let mut o = Object::new(&mut out);
    fields(&mut o);
    o.close();
    out.push('}');
    out
}

fn request(o: &mut Object<'_>, e: &Error) {
    o.str("kind", "request");
    match e {
        Error::BufferTooSmall { needed } => {
            o.str("reason", "buffer_too_small");
            o.num("needed", to_i64(*needed));
        }
        Error::InvalidInput { .. } => o.str("reason", "invalid_input"),
        Error::TooLong { what, max } => {
            o.str("reason", "too_long");
            o.str("what", what);
            o.num("max", to_i64(*max));
        }
        // A documented rule broken (before anything was signed): the field and the rule.
        Error::Invalid { field, problem } => {
            o.str("reason", "invalid_value");
            o.str("field", field);
            o.str("problem", &problem.to_string());
        }
        Error::Random => o.str("reason", "random"),
        Error::Signer => o.str("reason", "signer"),
        _ => o.str("reason", "other"),
    }
}

fn key_reason(e: KeyError) -> &'static str {
    match e {
        KeyError::Unreadable => "unreadable_key",
        KeyError::WrongSize => "wrong_key_size",
        KeyError::BadSerial => "bad_serial",
        _ => "other",
    }
}

fn verify(o: &mut Object<'_>, e: &VerifyError) {
    let reason = match e {
        VerifyError::MissingHeader { name } => {
            o.str("header", name);
            "missing_header"
        }
        VerifyError::MalformedHeader { name } => {
            o.str("header", name);
            "malformed_header"
        }
        VerifyError::BadTimestamp => "bad_timestamp",
        VerifyError::ClockSkew { skew_secs } => {
            o.num("skewSecs", *skew_secs);
            "clock_skew"
        }
        VerifyError::UnknownSerial => "unknown_serial",
        VerifyError::UnsupportedSignatureType => "unsupported_signature_type",
        VerifyError::SignatureProbe => "signature_probe",
        VerifyError::MalformedSignature => "malformed_signature",
        VerifyError::BadSignature => "bad_signature",
        _ => "other",
    };
    o.str("reason", reason);
}

fn parse(o: &mut Object<'_>, e: &ParseError) {
    let reason = match e {
        ParseError::Syntax { offset } => {
            o.num("offset", to_i64(*offset));
            "syntax"
        }
        ParseError::TooDeep { offset } => {
            o.num("offset", to_i64(*offset));
            "too_deep"
        }
        ParseError::NotAnObject => "not_an_object",
        ParseError::MissingField { field } => {
            o.str("field", field);
            "missing_field"
        }
        ParseError::DuplicateField { field } => {
            o.str("field", field);
            "duplicate_field"
        }
        ParseError::WrongType { field } => {
            o.str("field", field);
            "wrong_type"
        }
        ParseError::FieldTooLong { field, max } => {
            o.str("field", field);
            o.num("max", to_i64(*max));
            "field_too_long"
        }
        ParseError::InvalidValue { field } => {
            o.str("field", field);
            "invalid_value"
        }
        _ => "other",
    };
    o.str("reason", reason);
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Control characters become spaces: messages are one line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A JSON object being written into a `String`.
struct Object<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> Object<'o> {
    fn new(out: &'o mut String) -> Self {
        out.push('{');
        Object { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        escape(self.out, key);
        self.out.push(':');
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        escape(self.out, value);
    }

    fn nullable_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(value) => self.str(key, value),
            None => {
                self.key(key);
                self.out.push_str("null");
            }
        }
    }

    fn num(&mut self, key: &str, value: i64) {
        self.key(key);
        let _ = write!(self.out, "{value}");
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
    }

    fn close(self) {
        self.out.push('}');
    }
}

/// A JSON string literal: `"` and `\` escaped, control characters as `\u00XX`.
fn escape(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use wxpay_core::{ApiError, ResponseHeaders};

    fn parse_json(text: &str) -> serde_json::Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    #[test]
    fn escapes_round_trip() {
        for text in [
            "",
            "plain",
            "q\"b\\s",
            "nl\ncr\rtab\t",
            "\u{1}\u{1f}",
            "授权码 😀",
            "\u{2028}",
        ] {
            let mut out = String::new();
            escape(&mut out, text);
            assert_eq!(parse_json(&out), serde_json::Value::from(text), "{out}");
        }
    }

    use wxpay_core::AuthorizationRecord;

    #[test]
    fn record_keeps_values_and_omits_absent_fields() {
        let body = br#"{"service_id":"500001","appid":"wx","mchid":"1","authorization_code":"a\"b","user_risk_level":2,"extra":{"x":1}}"#;
        let r = AuthorizationRecord::from_json(body).expect("parses");
        let json = parse_json(&record(&r, Some("REQ-1")));
        assert_eq!(
            json,
            serde_json::json!({"ok": {
                "record": {"service_id": "500001", "appid": "wx", "mchid": "1",
                           "authorization_code": "a\"b", "user_risk_level": 2},
                "requestId": "REQ-1"
            }})
        );
        let json = parse_json(&record(&r, None));
        assert_eq!(json["ok"]["requestId"], serde_json::Value::Null);
    }

    #[test]
    fn failures_are_typed() {
        let mut headers = ResponseHeaders::default();
        headers.capture("Request-ID", b"REQ-9");
        let api = ApiError::from_response(
            404,
            &headers,
            br#"{"code":"ORDER_NOT_EXIST","message":"no\nrecord"}"#,
        );
        #[rustfmt::skip]
        let cases: Vec<(Failure, serde_json::Value)> = vec![
            (Failure::Response(ClientError::Api(api)),
             serde_json::json!({"kind": "api", "status": 404, "code": "ORDER_NOT_EXIST", "notFound": true,
                                "retryable": false, "signatureVerified": false, "messageTruncated": false,
                                "apiMessage": "no\nrecord",
                                "message": "API error: HTTP 404 ORDER_NOT_EXIST: no record (Request-ID REQ-9)",
                                "requestId": "REQ-9"})),
            (Failure::Response(ClientError::Verify { error: VerifyError::ClockSkew { skew_secs: -400 }, request_id: None }),
             serde_json::json!({"kind": "verify", "reason": "clock_skew", "skewSecs": -400, "requestId": null,
                                "message": "response verification failed: response timestamp is -400 s off the local clock; the response was discarded"})),
            (Failure::Response(ClientError::Parse { error: ParseError::FieldTooLong { field: "openid", max: 128 }, request_id: heapless::String::try_from("R").ok() }),
             serde_json::json!({"kind": "parse", "reason": "field_too_long", "field": "openid", "max": 128, "requestId": "R",
                                "message": "verified response body: field `openid` is longer than 128 bytes (Request-ID R)"})),
            (Failure::Request(Error::TooLong { what: "mchid", max: 32 }),
             serde_json::json!({"kind": "request", "reason": "too_long", "what": "mchid", "max": 32,
                                "message": "request: mchid is longer than 32 bytes"})),
            (Failure::Key { which: "platform public key", error: KeyError::Unreadable },
             serde_json::json!({"kind": "config", "reason": "unreadable_key",
                                "message": "platform public key: not an RSA key in PKCS#8 or PKCS#1 PEM/DER form"})),
        ];
        for (failure, want) in cases {
            assert_eq!(
                parse_json(&super::failure(&failure)),
                serde_json::json!({ "error": want })
            );
        }
    }
}
