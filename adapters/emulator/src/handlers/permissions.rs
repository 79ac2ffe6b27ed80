//! The Payscore authorization API (`/v3/payscore/permissions…`): pre-authorise, query by
//! code or openid, terminate, and binding a user as WeChat does when they accept.

use wxpay_core::callback;

use super::{Answer, ApiCall, beijing_rfc3339, random_alnum};
use crate::router::decode;
use crate::{Emulator, Fault, StoredRecord, demo, lock, system_now};

/// How a terminate request names its record.
enum Lookup<'a> {
    Code(&'a str),
    Openid(&'a str),
}

/// Routes the `/v3/payscore/permissions` family; `None` if the path is not one of its APIs.
pub(crate) fn route(emulator: &Emulator, call: &ApiCall<'_>) -> Option<(Answer, Option<Fault>)> {
    let body = || serde_json::from_slice::<serde_json::Value>(call.body).ok();
    let answer = match (call.method, call.segments) {
        ("GET", ["v3", "payscore", "permissions", "authorization-code", code]) => {
            let Some(code) = decode(code) else {
                return Some((
                    Answer::error(400, "PARAM_ERROR", "malformed authorization_code"),
                    None,
                ));
            };
            let Some(service_id) = call.query.get("service_id") else {
                return Some((
                    Answer::error(400, "PARAM_ERROR", "service_id is required"),
                    None,
                ));
            };
            if let Some(name) = code.strip_prefix("FAULT_") {
                return Some(match Fault::from_name(name) {
                    Some(fault) => (emulator.fault_record(fault, &code, service_id), Some(fault)),
                    None => (Answer::error(400, "PARAM_ERROR", "unknown fault"), None),
                });
            }
            emulator.query_by_code(&code, service_id)
        }
        ("GET", ["v3", "payscore", "permissions", "openid", openid]) => {
            match (
                decode(openid),
                call.query.get("appid"),
                call.query.get("service_id"),
            ) {
                (Some(openid), Some(appid), Some(service_id)) => {
                    emulator.query_by_openid(&openid, appid, service_id)
                }
                _ => Answer::error(
                    400,
                    "PARAM_ERROR",
                    "openid, appid and service_id are required",
                ),
            }
        }
        ("POST", ["v3", "payscore", "permissions"]) => emulator.pre_authorize(body(), call.now),
        (
            "POST",
            [
                "v3",
                "payscore",
                "permissions",
                "authorization-code",
                code,
                "terminate",
            ],
        ) => match decode(code) {
            Some(code) => emulator.terminate(Lookup::Code(&code), body(), call.now),
            None => Answer::error(400, "PARAM_ERROR", "malformed authorization_code"),
        },
        (
            "POST",
            [
                "v3",
                "payscore",
                "permissions",
                "openid",
                openid,
                "terminate",
            ],
        ) => match decode(openid) {
            Some(openid) => emulator.terminate(Lookup::Openid(&openid), body(), call.now),
            None => Answer::error(400, "PARAM_ERROR", "malformed openid"),
        },
        _ => return None,
    };
    Some((answer, None))
}

impl Emulator {
    /// `POST /v3/payscore/permissions`: a new record in `UNBINDUSER`.
    fn pre_authorize(&self, body: Option<serde_json::Value>, _now: i64) -> Answer {
        let Some(body) = body else {
            return Answer::error(400, "PARAM_ERROR", "body is not JSON");
        };
        let field = |name: &str, max: usize| -> Result<Option<String>, Answer> {
            match body.get(name) {
                None => Ok(None),
                Some(serde_json::Value::String(s)) if s.len() <= max => Ok(Some(s.clone())),
                Some(_) => Err(Answer::error(
                    400,
                    "PARAM_ERROR",
                    &format!("{name} is invalid"),
                )),
            }
        };
        let required = |name: &str| -> Result<String, Answer> {
            field(name, 32)?
                .filter(|s| !s.is_empty())
                .ok_or_else(|| Answer::error(400, "PARAM_ERROR", &format!("{name} is required")))
        };
        let parsed = (|| {
            Ok((
                required("service_id")?,
                required("appid")?,
                required("authorization_code")?,
                field("notify_url", 255)?,
            ))
        })();
        let (service_id, appid, code, notify_url) = match parsed {
            Ok(fields) => fields,
            Err(answer) => return answer,
        };
        let mut records = lock(&self.records);
        if records.contains_key(&code) {
            return Answer::error(
                400,
                "INVALID_REQUEST",
                "authorization_code is already in use",
            );
        }
        records.insert(
            code.clone(),
            StoredRecord {
                service_id,
                appid,
                openid: None,
                authorization_code: code,
                authorization_state: "UNBINDUSER".into(),
                notify_url,
                authorization_success_time: None,
                cancel_authorization_time: None,
            },
        );
        Answer::json(
            200,
            serde_json::json!({ "apply_permissions_token": random_alnum(40) }),
        )
    }

    fn query_by_openid(&self, openid: &str, appid: &str, service_id: &str) -> Answer {
        match self.find_by_openid(openid, appid, service_id) {
            Some(record) => Answer::json(200, self.record_json(&record)),
            None => Answer::error(
                404,
                "ORDER_NOT_EXIST",
                "no authorization record for this openid",
            ),
        }
    }

    /// The user's record for this app and service: the authorised one if any, else the latest.
    fn find_by_openid(&self, openid: &str, appid: &str, service_id: &str) -> Option<StoredRecord> {
        let records = lock(&self.records);
        let mut matching: Vec<&StoredRecord> = records
            .values()
            .filter(|r| {
                r.openid.as_deref() == Some(openid)
                    && r.appid == appid
                    && r.service_id == service_id
            })
            .collect();
        matching.sort_by_key(|r| {
            (
                r.authorization_state == "AVAILABLE",
                r.cancel_authorization_time.clone(),
            )
        });
        matching.last().map(|r| (*r).clone())
    }

    /// Ends an authorization: `AVAILABLE` (or `UNBINDUSER`) becomes `UNAVAILABLE`; 204.
    fn terminate(&self, lookup: Lookup<'_>, body: Option<serde_json::Value>, now: i64) -> Answer {
        let Some(body) = body else {
            return Answer::error(400, "PARAM_ERROR", "body is not JSON");
        };
        let text = |name: &str| body.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let Some(service_id) = text("service_id") else {
            return Answer::error(400, "PARAM_ERROR", "service_id is required");
        };
        match text("reason") {
            Some(reason) if (1..=50).contains(&reason.chars().count()) => {}
            _ => return Answer::error(400, "PARAM_ERROR", "reason must be 1 to 50 characters"),
        }
        let code = match lookup {
            Lookup::Code(code) => Some(code.to_owned()),
            Lookup::Openid(openid) => {
                let Some(appid) = text("appid") else {
                    return Answer::error(400, "PARAM_ERROR", "appid is required");
                };
                self.find_by_openid(openid, &appid, &service_id)
                    .map(|r| r.authorization_code)
            }
        };
        let record = {
            let mut records = lock(&self.records);
            let Some(record) = code
                .and_then(|c| records.get_mut(&c))
                .filter(|r| r.service_id == service_id)
            else {
                return Answer::error(404, "ORDER_NOT_EXIST", "no such authorization record");
            };
            if record.authorization_state == "UNAVAILABLE" {
                return Answer::error(
                    400,
                    "INVALID_ORDER_STATE",
                    "the authorization has already ended",
                );
            }
            record.authorization_state = "UNAVAILABLE".into();
            record.cancel_authorization_time = Some(beijing_rfc3339(now));
            record.clone()
        };
        self.emit_callback(callback::USER_CLOSE_SERVICE, &record, now);
        Answer {
            status: 204,
            body: Vec::new(),
        }
    }

    /// Creates a pre-authorised record for `authorization_code` and binds `openid` to it now:
    /// an authorised user and its `USER_OPEN_SERVICE` callback, in one step, for tests.
    pub fn bind_user_for_test(&self, authorization_code: &str, openid: &str) {
        self.insert_record(StoredRecord {
            service_id: demo::SERVICE_ID.to_owned(),
            appid: demo::APPID.to_owned(),
            openid: None,
            authorization_code: authorization_code.to_owned(),
            authorization_state: "UNBINDUSER".to_owned(),
            notify_url: None,
            authorization_success_time: None,
            cancel_authorization_time: None,
        });
        // The record was just created in UNBINDUSER, so binding succeeds.
        let _ = self.bind_user(authorization_code, openid, system_now());
    }

    /// Binds a user to a pre-authorised record (`UNBINDUSER` → `AVAILABLE`) and sends the
    /// `USER_OPEN_SERVICE` callback, as WeChat does when the user accepts.
    pub fn bind_user(
        &self,
        authorization_code: &str,
        openid: &str,
        now: i64,
    ) -> Result<(), String> {
        let record = {
            let mut records = lock(&self.records);
            let record = records
                .get_mut(authorization_code)
                .ok_or_else(|| format!("no record for authorization_code {authorization_code}"))?;
            if record.authorization_state != "UNBINDUSER" {
                return Err(format!(
                    "record is {}, not UNBINDUSER",
                    record.authorization_state
                ));
            }
            record.authorization_state = "AVAILABLE".into();
            record.openid = Some(openid.to_owned());
            record.authorization_success_time = Some(beijing_rfc3339(now));
            record.clone()
        };
        self.emit_callback(callback::USER_OPEN_SERVICE, &record, now);
        Ok(())
    }

    fn query_by_code(&self, code: &str, service_id: &str) -> Answer {
        match lock(&self.records).get(code) {
            Some(record) if record.service_id == service_id => {
                Answer::json(200, self.record_json(record))
            }
            _ => Answer::error(
                404,
                "ORDER_NOT_EXIST",
                "no authorization record for this code",
            ),
        }
    }

    /// The record JSON, with fields the API omits left out.
    pub(crate) fn record_json(&self, record: &StoredRecord) -> serde_json::Value {
        let mut json = serde_json::Map::new();
        json.insert("service_id".into(), record.service_id.clone().into());
        json.insert("appid".into(), record.appid.clone().into());
        json.insert("mchid".into(), self.mchid.clone().into());
        if let Some(openid) = &record.openid {
            json.insert("openid".into(), openid.clone().into());
        }
        json.insert(
            "authorization_code".into(),
            record.authorization_code.clone().into(),
        );
        json.insert(
            "authorization_state".into(),
            record.authorization_state.clone().into(),
        );
        for (key, value) in [
            ("notify_url", &record.notify_url),
            (
                "cancel_authorization_time",
                &record.cancel_authorization_time,
            ),
            (
                "authorization_success_time",
                &record.authorization_success_time,
            ),
        ] {
            if let Some(value) = value {
                json.insert(key.into(), value.clone().into());
            }
        }
        serde_json::Value::Object(json)
    }
}
