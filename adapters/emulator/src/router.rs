//! Method and path dispatch: test hooks under `/emulator/`, then each API family in
//! [`crate::handlers`] in turn.

use std::collections::HashMap;

use wxpay_core::path::percent_decode;

use crate::handlers::{self, Answer, ApiCall};
use crate::{Emulator, Fault, HttpRequest, HttpResponse};

impl Emulator {
    /// Dispatches an authenticated request. Returns the answer and a fault named by the code.
    pub(crate) fn route(&self, request: &HttpRequest, now: i64) -> (Answer, Option<Fault>) {
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((request.target.as_str(), ""));
        let Some(query) = decode_query(query) else {
            return (
                Answer::error(400, "PARAM_ERROR", "malformed query string"),
                None,
            );
        };
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let call = ApiCall {
            method: request.method.as_str(),
            segments: &segments,
            query: &query,
            body: &request.body,
            now,
        };
        if let Some(routed) = handlers::certificates::route(self, &call) {
            return routed;
        }
        if let Some(routed) = handlers::permissions::route(self, &call) {
            return routed;
        }
        if let Some(routed) = handlers::serviceorder::route(self, &call) {
            return routed;
        }
        (Answer::error(404, "NOT_FOUND", "no such API"), None)
    }

    /// Test hooks outside the API: `POST /emulator/bind {"authorization_code","openid"}`
    /// binds a user as if they accepted in WeChat; the service-order hooks are in
    /// [`handlers::serviceorder`].
    pub(crate) fn test_hook(&self, request: &HttpRequest, now: i64) -> HttpResponse {
        let answer = match (request.method.as_str(), request.target.as_str()) {
            ("POST", "/emulator/bind") => {
                let body: serde_json::Value =
                    serde_json::from_slice(&request.body).unwrap_or_default();
                match (body["authorization_code"].as_str(), body["openid"].as_str()) {
                    (Some(code), Some(openid)) => match self.bind_user(code, openid, now) {
                        Ok(()) => Answer {
                            status: 204,
                            body: Vec::new(),
                        },
                        Err(why) => Answer::error(400, "INVALID_ORDER_STATE", &why),
                    },
                    _ => Answer::error(
                        400,
                        "PARAM_ERROR",
                        "authorization_code and openid are required",
                    ),
                }
            }
            ("POST", "/emulator/rotate") => self.rotate_hook(),
            ("POST", target) => handlers::serviceorder::hook(self, target, &request.body, now)
                .unwrap_or_else(|| Answer::error(404, "NOT_FOUND", "no such test hook")),
            _ => Answer::error(404, "NOT_FOUND", "no such test hook"),
        };
        self.finish(answer, None, now)
    }
}

/// Percent-decodes one path segment or query component; `None` if malformed.
pub(crate) fn decode(component: &str) -> Option<String> {
    let mut out = vec![0u8; component.len()];
    percent_decode(component, &mut out).ok().map(str::to_owned)
}

fn decode_query(query: &str) -> Option<HashMap<String, String>> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((decode(key)?, decode(value)?))
        })
        .collect()
}
