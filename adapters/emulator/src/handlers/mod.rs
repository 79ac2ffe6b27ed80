//! API handlers, one module per API family. Each family has a `route` function that answers
//! the paths it owns and returns `None` for the rest; [`crate::router`] tries them in turn, so
//! a new family is one new module and one line there.

use std::collections::HashMap;

use wxpay_core::time::{BEIJING_OFFSET_MINUTES, DateTime};

pub(crate) mod certificates;
pub(crate) mod permissions;
pub(crate) mod serviceorder;

/// An authenticated API request, split for routing.
pub(crate) struct ApiCall<'a> {
    /// Method as sent.
    pub method: &'a str,
    /// The path's segments after the leading `/`, still percent-encoded.
    pub segments: &'a [&'a str],
    /// The decoded query parameters.
    pub query: &'a HashMap<String, String>,
    /// The raw body.
    pub body: &'a [u8],
    /// Unix seconds the request is handled at.
    pub now: i64,
}

/// Status and body before signing.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json(status: u16, value: serde_json::Value) -> Answer {
        Answer {
            status,
            body: value.to_string().into_bytes(),
        }
    }

    pub(crate) fn error(status: u16, code: &str, message: &str) -> Answer {
        Answer::json(
            status,
            serde_json::json!({ "code": code, "message": message }),
        )
    }
}

/// A record rendered by its declaration.
pub(crate) fn render<R: wxpay_core::model::Record>(record: &R) -> Answer {
    let mut size = 4096;
    loop {
        let mut buf = vec![0u8; size];
        match record.write_json(&mut buf) {
            Ok(json) => {
                return Answer {
                    status: 200,
                    body: json.as_bytes().to_vec(),
                };
            }
            Err(wxpay_core::Error::BufferTooSmall { needed }) if needed > size => size = needed,
            Err(e) => return Answer::error(500, "SYSTEM_ERROR", &e.to_string()),
        }
    }
}

/// `now` as RFC 3339 in Beijing time, as the API writes times.
pub(crate) fn beijing_rfc3339(now: i64) -> String {
    DateTime::from_unix_seconds(now, BEIJING_OFFSET_MINUTES).to_string()
}

pub(crate) fn random_alnum(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut raw = vec![0u8; len];
    if getrandom::fill(&mut raw).is_err() {
        raw.fill(0);
    }
    raw.iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}
