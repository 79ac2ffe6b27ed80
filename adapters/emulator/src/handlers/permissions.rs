//! The Payscore authorization API (`/v3/payscore/permissions…`): pre-authorise, query by
//! code or openid, terminate, and binding a user as WeChat does when they accept.

use wxpay_core::callback;

use wxpay_core::api::permissions::{AuthorizationRecord, AuthorizationState};
use wxpay_core::error::Problem;
use wxpay_core::model::text;
use wxpay_core::time::Timestamp;

use super::{Answer, ApiCall, beijing_rfc3339, random_alnum, render};
use crate::router::decode;
use crate::{Emulator, Fault, StoredRecord, demo, read, system_now, write};

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
        let mut records = write(&self.records);
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
            Some(record) => self.record_answer(&record),
            None => Answer::error(
                404,
                "ORDER_NOT_EXIST",
                "no authorization record for this openid",
            ),
        }
    }

    /// The user's record for this app and service: the authorised one if any, else the latest.
    fn find_by_openid(&self, openid: &str, appid: &str, service_id: &str) -> Option<StoredRecord> {
        let records = read(&self.records);
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
            let mut records = write(&self.records);
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
            let mut records = write(&self.records);
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
        match read(&self.records).get(code) {
            Some(record) if record.service_id == service_id => self.record_answer(record),
            _ => Answer::error(
                404,
                "ORDER_NOT_EXIST",
                "no authorization record for this code",
            ),
        }
    }

    /// The record as the API answers it, rendered by its declaration
    /// ([`AuthorizationRecord`]), with fields the API omits left out. A stored value its
    /// declared capacity refuses is a 500 naming the field (faults that must send such a value
    /// splice it into the rendered text instead: [`Emulator::fault_record`]).
    pub(crate) fn record_answer(&self, record: &StoredRecord) -> Answer {
        match self.declared_record(record) {
            Ok(declared) => render(&declared),
            Err(e) => Answer::error(500, "SYSTEM_ERROR", &e.to_string()),
        }
    }

    fn declared_record(
        &self,
        record: &StoredRecord,
    ) -> Result<AuthorizationRecord, wxpay_core::Error> {
        fn time(field: &'static str, value: &str) -> Result<Timestamp, wxpay_core::Error> {
            Timestamp::new(text(field, value)?).ok_or(wxpay_core::Error::Invalid {
                field,
                problem: Problem::Time { format: "RFC 3339" },
            })
        }
        let opt_time = |field, value: &Option<String>| value.as_deref().map(|v| time(field, v));
        Ok(AuthorizationRecord {
            service_id: text("service_id", &record.service_id)?,
            appid: text("appid", &record.appid)?,
            mchid: text("mchid", &self.mchid)?,
            openid: record
                .openid
                .as_deref()
                .map(|v| text("openid", v))
                .transpose()?,
            authorization_code: Some(text("authorization_code", &record.authorization_code)?),
            authorization_state: Some(AuthorizationState::from_text(text(
                "authorization_state",
                &record.authorization_state,
            )?)),
            notify_url: record
                .notify_url
                .as_deref()
                .map(|v| text("notify_url", v))
                .transpose()?,
            cancel_authorization_time: opt_time(
                "cancel_authorization_time",
                &record.cancel_authorization_time,
            )
            .transpose()?,
            authorization_success_time: opt_time(
                "authorization_success_time",
                &record.authorization_success_time,
            )
            .transpose()?,
            user_risk_level: None,
            risk_level_version: None,
        })
    }
}
