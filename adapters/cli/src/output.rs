//! JSON output: values exactly as received; fields the server omitted are omitted.

use serde_json::{Map, Value};
use wxpay_core::AuthorizationRecord;

/// An authorization record as one JSON object, in the API's field order.
pub fn record(r: &AuthorizationRecord) -> Value {
    let mut out = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            out.insert(key.to_owned(), value);
        }
    };
    put("service_id", Some(r.service_id.as_str().into()));
    put("appid", Some(r.appid.as_str().into()));
    put("mchid", Some(r.mchid.as_str().into()));
    put("openid", r.openid.as_deref().map(Into::into));
    put(
        "authorization_code",
        r.authorization_code.as_deref().map(Into::into),
    );
    put(
        "authorization_state",
        r.authorization_state.as_ref().map(|s| s.as_str().into()),
    );
    put("notify_url", r.notify_url.as_deref().map(Into::into));
    put(
        "cancel_authorization_time",
        r.cancel_authorization_time
            .as_ref()
            .map(|t| t.as_str().into()),
    );
    put(
        "authorization_success_time",
        r.authorization_success_time
            .as_ref()
            .map(|t| t.as_str().into()),
    );
    put("user_risk_level", r.user_risk_level.map(Into::into));
    put("risk_level_version", r.risk_level_version.map(Into::into));
    Value::Object(out)
}
