//! Payscore permissions (direct merchant): pre-authorise, query and terminate a user's
//! authorization (PROTOCOL.md §3).
//!
//! | call | method and target | body | success |
//! |---|---|---|---|
//! | pre-authorise | `POST /v3/payscore/permissions` | [`PreAuthorization`] | [`ApplyPermissionsToken`] |
//! | query by code | `GET …/authorization-code/{code}?service_id=` | | [`AuthorizationRecord`] |
//! | terminate by code | `POST …/authorization-code/{code}/terminate` | [`TerminateByCode`] | 204 |
//! | query by openid | `GET …/openid/{openid}?appid=&service_id=` | | [`AuthorizationRecord`] |
//! | terminate by openid | `POST …/openid/{openid}/terminate` | [`TerminateByOpenid`] | 204 |

use core::fmt;

use heapless::String;

use crate::error::{Error, ParseError};
use crate::json::{ObjectWriter, Reader, Seen, required};
use crate::path::TargetBuilder;
use crate::time::{TIME_CAPACITY, Timestamp};

/// Fixed path of the permissions family.
pub const PERMISSIONS_PATH: &str = "/v3/payscore/permissions";
/// Fixed path of the lookups by authorization code.
pub const BY_CODE_PATH: &str = "/v3/payscore/permissions/authorization-code";

/// Fixed path of the lookups by openid.
pub const BY_OPENID_PATH: &str = "/v3/payscore/permissions/openid";
/// Longest termination reason, in characters (not bytes).
pub const REASON_MAX_CHARS: usize = 50;
/// Room for any request body of this family whose fields hold no control characters (each
/// of those is escaped to six bytes, `\u00XX`; a longer body is `BufferTooSmall { needed }`).
pub const BODY_CAPACITY: usize = 1024;
/// Capacity of an `apply_permissions_token`.
pub const TOKEN_CAPACITY: usize = 300;

/// Room for any target of this family: a path, a 32-character id that may need `%XX` escaping
/// three times over, and query values of 32 characters likewise.
pub const TARGET_CAPACITY: usize = 512;

/// Builds `/v3/payscore/permissions/authorization-code/{code}?service_id={service_id}`.
///
/// `authorization_code` is the raw code; it is percent-encoded here (`|` → `%7C`, `*` → `%2A`).
///
/// ```
/// let mut buf = [0u8; wxpay_core::api::permissions::TARGET_CAPACITY];
/// let target = wxpay_core::api::permissions::target_by_code(&mut buf, "ab|c*", "500001")?;
/// assert_eq!(target, "/v3/payscore/permissions/authorization-code/ab%7Cc%2A?service_id=500001");
/// # Ok::<(), wxpay_core::Error>(())
/// ```
pub fn target_by_code<'b>(
    buf: &'b mut [u8],
    authorization_code: &str,
    service_id: &str,
) -> Result<&'b str, Error> {
    if service_id.is_empty() {
        return Err(Error::InvalidInput {
            what: "service_id is empty",
        });
    }
    TargetBuilder::new(buf, BY_CODE_PATH)
        .segment(authorization_code)
        .query("service_id", service_id)
        .finish()
}

/// Builds `/v3/payscore/permissions/openid/{openid}?appid={appid}&service_id={service_id}`.
pub fn target_by_openid<'b>(
    buf: &'b mut [u8],
    openid: &str,
    appid: &str,
    service_id: &str,
) -> Result<&'b str, Error> {
    non_empty("appid", appid)?;
    non_empty("service_id", service_id)?;
    TargetBuilder::new(buf, BY_OPENID_PATH)
        .segment(openid)
        .query("appid", appid)
        .query("service_id", service_id)
        .finish()
}

/// Builds `/v3/payscore/permissions/authorization-code/{code}/terminate`.
pub fn target_terminate_by_code<'b>(
    buf: &'b mut [u8],
    authorization_code: &str,
) -> Result<&'b str, Error> {
    TargetBuilder::new(buf, BY_CODE_PATH)
        .segment(authorization_code)
        .segment("terminate")
        .finish()
}

/// Builds `/v3/payscore/permissions/openid/{openid}/terminate`.
pub fn target_terminate_by_openid<'b>(buf: &'b mut [u8], openid: &str) -> Result<&'b str, Error> {
    TargetBuilder::new(buf, BY_OPENID_PATH)
        .segment(openid)
        .segment("terminate")
        .finish()
}

fn non_empty(what: &'static str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        Err(Error::InvalidInput { what })
    } else {
        Ok(())
    }
}

/// Checks a documented maximum length in bytes.
fn within(what: &'static str, value: &str, max: usize) -> Result<(), Error> {
    if value.len() > max {
        Err(Error::TooLong { what, max })
    } else {
        Ok(())
    }
}

/// A termination reason: 1 to 50 characters (counted as characters, not bytes).
pub fn check_reason(reason: &str) -> Result<(), Error> {
    if reason.is_empty() {
        return Err(Error::InvalidInput {
            what: "reason is empty",
        });
    }
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err(Error::TooLong {
            what: "reason (characters)",
            max: REASON_MAX_CHARS,
        });
    }
    Ok(())
}

/// Pre-authorise: the body of `POST /v3/payscore/permissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreAuthorization<'a> {
    /// `service_id`, string(32).
    pub service_id: &'a str,
    /// `appid`, string(32).
    pub appid: &'a str,
    /// `authorization_code`, string(32): the merchant's own id for this authorization.
    pub authorization_code: &'a str,
    /// `notify_url`, string(255): where open/close callbacks go.
    pub notify_url: Option<&'a str>,
}

impl PreAuthorization<'_> {
    /// The JSON body, checked against the documented lengths, written into `buf`.
    pub fn to_json<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        for (what, value) in [
            ("service_id", self.service_id),
            ("appid", self.appid),
            ("authorization_code", self.authorization_code),
        ] {
            non_empty(what, value)?;
            within(what, value, 32)?;
        }
        if let Some(url) = self.notify_url {
            within("notify_url", url, 255)?;
        }
        ObjectWriter::new(buf)
            .string("service_id", self.service_id)
            .string("appid", self.appid)
            .string("authorization_code", self.authorization_code)
            .optional("notify_url", self.notify_url)
            .finish()
    }
}

/// Terminate by authorization code: the body of `POST …/authorization-code/{code}/terminate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminateByCode<'a> {
    /// `service_id`.
    pub service_id: &'a str,
    /// `reason`, at most 50 characters.
    pub reason: &'a str,
}

impl TerminateByCode<'_> {
    /// The JSON body; a reason over 50 characters is refused here, before anything is sent.
    pub fn to_json<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        non_empty("service_id", self.service_id)?;
        within("service_id", self.service_id, 32)?;
        check_reason(self.reason)?;
        ObjectWriter::new(buf)
            .string("service_id", self.service_id)
            .string("reason", self.reason)
            .finish()
    }
}

/// Terminate by openid: the body of `POST …/openid/{openid}/terminate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminateByOpenid<'a> {
    /// `service_id`.
    pub service_id: &'a str,
    /// `appid`.
    pub appid: &'a str,
    /// `reason`, at most 50 characters.
    pub reason: &'a str,
}

impl TerminateByOpenid<'_> {
    /// The JSON body; a reason over 50 characters is refused here, before anything is sent.
    pub fn to_json<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        for (what, value) in [("service_id", self.service_id), ("appid", self.appid)] {
            non_empty(what, value)?;
            within(what, value, 32)?;
        }
        check_reason(self.reason)?;
        ObjectWriter::new(buf)
            .string("service_id", self.service_id)
            .string("appid", self.appid)
            .string("reason", self.reason)
            .finish()
    }
}

/// The result of pre-authorisation: a token (valid one hour) for the mini-program or app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyPermissionsToken(pub String<TOKEN_CAPACITY>);

impl ApplyPermissionsToken {
    /// Parses a **verified** `{"apply_permissions_token": "…"}` body.
    pub fn from_json(body: &[u8]) -> Result<Self, ParseError> {
        let mut token = None;
        let mut seen = Seen::default();
        Reader::object(body, |key, r| {
            if key == "apply_permissions_token" {
                seen.mark(0, "apply_permissions_token")?;
                token = Some(r.read_str("apply_permissions_token")?);
                Ok(())
            } else {
                r.skip_value()
            }
        })?;
        required(token, "apply_permissions_token").map(ApplyPermissionsToken)
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `authorization_state`: where the user's authorization stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthorizationState {
    /// `UNBINDUSER`: pre-authorised, no user bound yet.
    UnbindUser,
    /// `AVAILABLE`: the user has authorised the service.
    Available,
    /// `UNAVAILABLE`: the user or the merchant ended the authorization.
    Unavailable,
    /// A value this client does not know yet, kept as received.
    Other(String<16>),
}

impl AuthorizationState {
    /// Classifies a received value.
    pub fn from_text(text: String<16>) -> Self {
        match text.as_str() {
            "UNBINDUSER" => AuthorizationState::UnbindUser,
            "AVAILABLE" => AuthorizationState::Available,
            "UNAVAILABLE" => AuthorizationState::Unavailable,
            _ => AuthorizationState::Other(text),
        }
    }

    /// The value as the API writes it.
    pub fn as_str(&self) -> &str {
        match self {
            AuthorizationState::UnbindUser => "UNBINDUSER",
            AuthorizationState::Available => "AVAILABLE",
            AuthorizationState::Unavailable => "UNAVAILABLE",
            AuthorizationState::Other(text) => text,
        }
    }
}

impl fmt::Display for AuthorizationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's Payscore authorization record, as the query by code (or by openid) returns it.
///
/// Capacities are the documented maximum lengths; a longer value is an error naming the field.
/// Absent optional fields are `None`; unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRecord {
    /// `service_id`, string(32).
    pub service_id: String<32>,
    /// `appid`, string(32).
    pub appid: String<32>,
    /// `mchid`, string(32).
    pub mchid: String<32>,
    /// `openid`, string(128); absent while the state is `UNBINDUSER`.
    pub openid: Option<String<128>>,
    /// `authorization_code`, string(32).
    pub authorization_code: Option<String<32>>,
    /// `authorization_state`; older records lack it.
    pub authorization_state: Option<AuthorizationState>,
    /// `notify_url`, string(255).
    pub notify_url: Option<String<255>>,
    /// `cancel_authorization_time`: absent if never cancelled.
    pub cancel_authorization_time: Option<Timestamp>,
    /// `authorization_success_time`.
    pub authorization_success_time: Option<Timestamp>,
    /// `user_risk_level` (newer responses).
    pub user_risk_level: Option<i64>,
    /// `risk_level_version` (newer responses).
    pub risk_level_version: Option<i64>,
}

impl AuthorizationRecord {
    /// Parses a **verified** response body. Key order is free; escapes are decoded; `null`
    /// counts as absent for optional fields; a repeated field is an error.
    pub fn from_json(body: &[u8]) -> Result<Self, ParseError> {
        let mut seen = Seen::default();
        let mut service_id = None;
        let mut appid = None;
        let mut mchid = None;
        let mut record = AuthorizationRecord {
            service_id: String::new(),
            appid: String::new(),
            mchid: String::new(),
            openid: None,
            authorization_code: None,
            authorization_state: None,
            notify_url: None,
            cancel_authorization_time: None,
            authorization_success_time: None,
            user_risk_level: None,
            risk_level_version: None,
        };
        Reader::object(body, |key, r| {
            match key {
                "service_id" => {
                    seen.mark(0, "service_id")?;
                    service_id = Some(r.read_str("service_id")?);
                }
                "appid" => {
                    seen.mark(1, "appid")?;
                    appid = Some(r.read_str("appid")?);
                }
                "mchid" => {
                    seen.mark(2, "mchid")?;
                    mchid = Some(r.read_str("mchid")?);
                }
                "openid" => {
                    seen.mark(3, "openid")?;
                    record.openid = r.read_opt_str("openid")?;
                }
                "authorization_code" => {
                    seen.mark(4, "authorization_code")?;
                    record.authorization_code = r.read_opt_str("authorization_code")?;
                }
                "authorization_state" => {
                    seen.mark(5, "authorization_state")?;
                    record.authorization_state = r
                        .read_opt_str("authorization_state")?
                        .map(AuthorizationState::from_text);
                }
                "notify_url" => {
                    seen.mark(6, "notify_url")?;
                    record.notify_url = r.read_opt_str("notify_url")?;
                }
                "cancel_authorization_time" => {
                    seen.mark(7, "cancel_authorization_time")?;
                    record.cancel_authorization_time = read_time(r, "cancel_authorization_time")?;
                }
                "authorization_success_time" => {
                    seen.mark(8, "authorization_success_time")?;
                    record.authorization_success_time = read_time(r, "authorization_success_time")?;
                }
                "user_risk_level" => {
                    seen.mark(9, "user_risk_level")?;
                    record.user_risk_level = r.read_opt_i64("user_risk_level")?;
                }
                "risk_level_version" => {
                    seen.mark(10, "risk_level_version")?;
                    record.risk_level_version = r.read_opt_i64("risk_level_version")?;
                }
                _ => r.skip_value()?,
            }
            Ok(())
        })?;
        record.service_id = required(service_id, "service_id")?;
        record.appid = required(appid, "appid")?;
        record.mchid = required(mchid, "mchid")?;
        Ok(record)
    }
}

/// Reads an optional RFC 3339 time, keeping its exact text.
pub(crate) fn read_time(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<Option<Timestamp>, ParseError> {
    match r.read_opt_str::<TIME_CAPACITY>(field)? {
        None => Ok(None),
        Some(text) => Timestamp::new(text)
            .map(Some)
            .ok_or(ParseError::InvalidValue { field }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapless::String;
    use std::prelude::rust_2024::*;

    const FULL: &str = r#"{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1230000109","openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","authorization_code":"1234323JKHDFE1243252","authorization_state":"AVAILABLE","notify_url":"https://api.test.com/payscore/notify","cancel_authorization_time":"2015-05-21T08:00:01+08:00","authorization_success_time":"2015-05-20T13:29:35.120+08:00","user_risk_level":2,"risk_level_version":1}"#;

    #[test]
    fn full_record() {
        let r = AuthorizationRecord::from_json(FULL.as_bytes());
        let r = r.as_ref().map_err(|e| *e);
        assert_eq!(r.map(|r| r.service_id.as_str()), Ok("500001"));
        let r = r.ok();
        assert_eq!(r.map(|r| r.appid.as_str()), Some("wxd678efh567hg6787"));
        assert_eq!(r.map(|r| r.mchid.as_str()), Some("1230000109"));
        assert_eq!(
            r.and_then(|r| r.openid.as_deref()),
            Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        );
        assert_eq!(
            r.and_then(|r| r.authorization_state.clone()),
            Some(AuthorizationState::Available)
        );
        assert_eq!(
            r.and_then(|r| r.authorization_success_time.as_ref())
                .map(|t| (t.as_str(), t.parse().nanosecond)),
            Some(("2015-05-20T13:29:35.120+08:00", 120_000_000))
        );
        assert_eq!(r.and_then(|r| r.user_risk_level), Some(2));
        assert_eq!(r.and_then(|r| r.risk_level_version), Some(1));
    }

    #[test]
    fn minimal_record_has_every_optional_absent() {
        let r = AuthorizationRecord::from_json(br#"{"mchid":"1","appid":"a","service_id":"s"}"#);
        assert_eq!(
            r,
            Ok(AuthorizationRecord {
                service_id: String::try_from("s").unwrap_or_default(),
                appid: String::try_from("a").unwrap_or_default(),
                mchid: String::try_from("1").unwrap_or_default(),
                openid: None,
                authorization_code: None,
                authorization_state: None,
                notify_url: None,
                cancel_authorization_time: None,
                authorization_success_time: None,
                user_risk_level: None,
                risk_level_version: None,
            })
        );
    }

    #[test]
    fn tolerant_of_unknown_nested_and_null() {
        let body = r#"{"x_nested":{"a":[1,{"b":null}]},"service_id":"s","appid":"a","mchid":"m",
            "openid":null,"authorization_state":"FROZEN","risk":{"level":"HIGH"},"z":[true,false]}"#;
        let r = AuthorizationRecord::from_json(body.as_bytes());
        assert_eq!(r.as_ref().map(|r| r.openid.is_none()), Ok(true));
        assert_eq!(
            r.map(|r| r.authorization_state),
            Ok(Some(AuthorizationState::Other(
                String::try_from("FROZEN").unwrap_or_default()
            )))
        );
    }

    #[test]
    fn escapes_are_decoded() {
        let body = r#"{"service_id":"s","appid":"a","mchid":"m","notify_url":"https:\/\/商户.example.com\/回调?from=\u4e2d\u6587&e=\ud83d\ude00"}"#;
        let r = AuthorizationRecord::from_json(body.as_bytes());
        assert_eq!(
            r.map(|r| r.notify_url),
            Ok(String::try_from("https://商户.example.com/回调?from=中文&e=😀").ok())
        );
    }

    /// Each field one byte over capacity is an error naming it; at capacity it parses.
    #[test]
    fn each_field_over_capacity() {
        #[rustfmt::skip]
        let fields: &[(&str, usize)] = &[
            ("service_id", 32), ("appid", 32), ("mchid", 32), ("openid", 128),
            ("authorization_code", 32), ("authorization_state", 16), ("notify_url", 255),
        ];
        for (field, max) in fields {
            let body = |len: usize| {
                let mut fields = vec![
                    format!(r#""service_id":"s""#),
                    format!(r#""appid":"a""#),
                    format!(r#""mchid":"m""#),
                ];
                fields.retain(|f| !f.starts_with(&format!("\"{field}\"")));
                fields.push(format!(r#""{field}":"{}""#, "x".repeat(len)));
                format!("{{{}}}", fields.join(","))
            };
            assert!(
                AuthorizationRecord::from_json(body(*max).as_bytes()).is_ok(),
                "{field} at {max}"
            );
            assert_eq!(
                AuthorizationRecord::from_json(body(max + 1).as_bytes()),
                Err(ParseError::FieldTooLong { field, max: *max }),
                "{field}"
            );
        }
        let long_time = format!(
            r#"{{"service_id":"s","appid":"a","mchid":"m","cancel_authorization_time":"2015-05-20T13:29:35.{}+08:00"}}"#,
            "1".repeat(40)
        );
        assert_eq!(
            AuthorizationRecord::from_json(long_time.as_bytes()),
            Err(ParseError::FieldTooLong {
                field: "cancel_authorization_time",
                max: 64
            })
        );
    }

    #[test]
    fn errors_table() {
        #[rustfmt::skip]
        let cases: &[(&str, ParseError)] = &[
            (r#"{"appid":"a","mchid":"m"}"#,                          ParseError::MissingField { field: "service_id" }),
            (r#"{"service_id":"s","mchid":"m"}"#,                     ParseError::MissingField { field: "appid" }),
            (r#"{"service_id":"s","appid":"a"}"#,                     ParseError::MissingField { field: "mchid" }),
            (r#"{"service_id":"s","service_id":"t","appid":"a","mchid":"m"}"#, ParseError::DuplicateField { field: "service_id" }),
            (r#"{"service_id":5,"appid":"a","mchid":"m"}"#,           ParseError::WrongType { field: "service_id" }),
            (r#"{"service_id":"s","appid":"a","mchid":"m","user_risk_level":"2"}"#, ParseError::WrongType { field: "user_risk_level" }),
            (r#"{"service_id":"s","appid":"a","mchid":"m","openid":{}}"#, ParseError::WrongType { field: "openid" }),
            (r#"{"service_id":"s","appid":"a","mchid":"m","authorization_success_time":"yesterday"}"#, ParseError::InvalidValue { field: "authorization_success_time" }),
            (r#"["service_id"]"#,                                      ParseError::NotAnObject),
            (r#"{"service_id":"s""#,                                   ParseError::Syntax { offset: 17 }),
        ];
        for (body, want) in cases {
            assert_eq!(
                AuthorizationRecord::from_json(body.as_bytes()),
                Err(*want),
                "{body}"
            );
        }
    }

    #[test]
    fn times_with_millis_and_z() {
        for t in [
            "2015-05-20T13:29:35+08:00",
            "2015-05-20T05:29:35Z",
            "2015-05-20T05:29:35.999Z",
        ] {
            let body = format!(
                r#"{{"service_id":"s","appid":"a","mchid":"m","authorization_success_time":"{t}"}}"#
            );
            let r = AuthorizationRecord::from_json(body.as_bytes());
            let time = r.ok().and_then(|r| r.authorization_success_time);
            assert_eq!(time.as_ref().map(|t| t.as_str()), Some(t));
            assert_eq!(time.map(|t| t.parse().unix_seconds()), Some(1_432_099_775));
        }
    }

    #[test]
    fn family_targets() {
        let mut buf = [0u8; TARGET_CAPACITY];
        assert_eq!(
            target_by_openid(&mut buf, "oUpF8uMu/AJO", "wxd678efh567hg6787", "500001"),
            Ok(
                "/v3/payscore/permissions/openid/oUpF8uMu%2FAJO?appid=wxd678efh567hg6787&service_id=500001"
            )
        );
        assert_eq!(
            target_terminate_by_code(&mut buf, "a|b"),
            Ok("/v3/payscore/permissions/authorization-code/a%7Cb/terminate")
        );
        assert_eq!(
            target_terminate_by_openid(&mut buf, "o 1"),
            Ok("/v3/payscore/permissions/openid/o%201/terminate")
        );
        assert!(target_by_openid(&mut buf, "o", "", "1").is_err());
        assert!(target_terminate_by_openid(&mut buf, "").is_err());
    }

    #[test]
    fn bodies() {
        let mut buf = [0u8; BODY_CAPACITY];
        let pre = PreAuthorization {
            service_id: "500001",
            appid: "wxd678efh567hg6787",
            authorization_code: "1234323JKHDFE1243252",
            notify_url: Some("https://商户.example.com/支付分/通知"),
        };
        // The shared vector post-json-chinese-literal's body, byte for byte.
        assert_eq!(
            pre.to_json(&mut buf),
            Ok(
                r#"{"service_id":"500001","appid":"wxd678efh567hg6787","authorization_code":"1234323JKHDFE1243252","notify_url":"https://商户.example.com/支付分/通知"}"#
            )
        );
        let no_url = PreAuthorization {
            notify_url: None,
            ..pre
        };
        assert!(
            no_url
                .to_json(&mut buf)
                .is_ok_and(|b| !b.contains("notify_url"))
        );
        let long_code = PreAuthorization {
            authorization_code: "123456789012345678901234567890123",
            ..pre
        };
        assert_eq!(
            long_code.to_json(&mut buf),
            Err(Error::TooLong {
                what: "authorization_code",
                max: 32
            })
        );
        let long_url = "x".repeat(256);
        let long = PreAuthorization {
            notify_url: Some(&long_url),
            ..pre
        };
        assert_eq!(
            long.to_json(&mut buf),
            Err(Error::TooLong {
                what: "notify_url",
                max: 255
            })
        );

        let fifty = "退".repeat(50); // 150 bytes, 50 characters: allowed
        assert!(
            TerminateByCode {
                service_id: "1",
                reason: &fifty
            }
            .to_json(&mut buf)
            .is_ok()
        );
        let fifty_one = "退".repeat(51);
        assert_eq!(
            TerminateByCode {
                service_id: "1",
                reason: &fifty_one
            }
            .to_json(&mut buf),
            Err(Error::TooLong {
                what: "reason (characters)",
                max: 50
            })
        );
        assert_eq!(
            TerminateByOpenid {
                service_id: "1",
                appid: "a",
                reason: "用户要求"
            }
            .to_json(&mut buf),
            Ok(r#"{"service_id":"1","appid":"a","reason":"用户要求"}"#)
        );
        assert!(
            TerminateByOpenid {
                service_id: "1",
                appid: "a",
                reason: ""
            }
            .to_json(&mut buf)
            .is_err()
        );
    }

    #[test]
    fn token() {
        let t =
            ApplyPermissionsToken::from_json(br#"{"apply_permissions_token":"1LEMWZu7WZPNWd"}"#);
        assert_eq!(t.as_ref().map(|t| t.as_str()), Ok("1LEMWZu7WZPNWd"));
        assert_eq!(
            ApplyPermissionsToken::from_json(b"{}"),
            Err(ParseError::MissingField {
                field: "apply_permissions_token"
            })
        );
        let long = format!(r#"{{"apply_permissions_token":"{}"}}"#, "t".repeat(301));
        assert_eq!(
            ApplyPermissionsToken::from_json(long.as_bytes()),
            Err(ParseError::FieldTooLong {
                field: "apply_permissions_token",
                max: 300
            })
        );
    }

    #[test]
    fn target() {
        let mut buf = [0u8; TARGET_CAPACITY];
        assert_eq!(
            target_by_code(&mut buf, "1234323JKHDFE1243252", "500001"),
            Ok(
                "/v3/payscore/permissions/authorization-code/1234323JKHDFE1243252?service_id=500001"
            )
        );
        assert!(target_by_code(&mut buf, "", "500001").is_err());
        assert!(target_by_code(&mut buf, "x", "").is_err());
    }
}
