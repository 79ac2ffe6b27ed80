//! Payscore permissions (direct merchant): pre-authorise, query and terminate a user's
//! authorization (PROTOCOL.md §3). Declarations and one [`Call`] per endpoint.
//!
//! | call | method and target | body | success | answer bound to |
//! |---|---|---|---|---|
//! | [`PreAuthorization`] | `POST /v3/payscore/permissions` | itself | [`ApplyPermissionsToken`] | (the token carries no ids) |
//! | [`QueryByCode`] | `GET …/authorization-code/{code}?service_id=` | | [`AuthorizationRecord`] | `mchid`, `service_id`, `authorization_code` |
//! | [`TerminateByCode`] | `POST …/authorization-code/{code}/terminate` | [`TerminateByCodeBody`] | 204 | (no body) |
//! | [`QueryByOpenid`] | `GET …/openid/{openid}?appid=&service_id=` | | [`AuthorizationRecord`] | `mchid`, `appid`, `service_id`, `openid` |
//! | [`TerminateByOpenid`] | `POST …/openid/{openid}/terminate` | [`TerminateByOpenidBody`] | 204 | (no body) |
//!
//! An identifier the answer leaves out (`authorization_code` and `openid` are optional in the
//! record) cannot be compared and is accepted; one that is present must match.

use heapless::String;

use crate::call::{Call, NoContent, Success, bind, bind_opt};
use crate::error::{Error, ParseError, VerifyError};
use crate::model::{Record, Rule, is_code_byte, text};
use crate::path::TargetBuilder;
use crate::time::Timestamp;
use crate::transport::Method;

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
/// Room for any target of this family.
pub const TARGET_CAPACITY: usize = crate::call::TARGET_CAPACITY;

/// `service_id`, `appid`: 1 to 32 bytes.
pub const ID_RULE: Rule = Rule::bytes(1, 32);
/// `authorization_code`: 1 to 32 of `[0-9A-Za-z_-|*]`.
pub const CODE_RULE: Rule = Rule::Charset {
    min: 1,
    max: 32,
    allowed: is_code_byte,
    name: "[0-9A-Za-z_-|*]",
};
/// `openid`: 1 to 128 bytes.
pub const OPENID_RULE: Rule = Rule::bytes(1, 128);
/// `notify_url`: up to 255 bytes.
pub const NOTIFY_URL_RULE: Rule = Rule::bytes(1, 255);
/// `reason`: 1 to 50 characters.
pub const REASON_RULE: Rule = Rule::chars(1, REASON_MAX_CHARS);

crate::text_enum! {
    /// `authorization_state`: where the user's authorization stands.
    pub enum AuthorizationState(16) {
        /// `UNBINDUSER`: pre-authorised, no user bound yet.
        UnbindUser = "UNBINDUSER",
        /// `AVAILABLE`: the user has authorised the service.
        Available = "AVAILABLE",
        /// `UNAVAILABLE`: the user or the merchant ended the authorization.
        Unavailable = "UNAVAILABLE",
    }
}

crate::record! {
    /// A user's Payscore authorization record, as the query by code (or by openid) returns it.
    ///
    /// Capacities are the documented maximum lengths; a longer value is an error naming the
    /// field. Absent optional fields are `None`; unknown fields are ignored.
    pub struct AuthorizationRecord {
        /// `service_id`, string(32).
        service_id: String<32>,
        /// `appid`, string(32).
        appid: String<32>,
        /// `mchid`, string(32).
        mchid: String<32>,
        /// `openid`, string(128); absent while the state is `UNBINDUSER`.
        openid: Option<String<128>>,
        /// `authorization_code`, string(32).
        authorization_code: Option<String<32>>,
        /// `authorization_state`; older records lack it.
        authorization_state: Option<AuthorizationState>,
        /// `notify_url`, string(255).
        notify_url: Option<String<255>>,
        /// `cancel_authorization_time`: absent if never cancelled.
        cancel_authorization_time: Option<Timestamp>,
        /// `authorization_success_time`.
        authorization_success_time: Option<Timestamp>,
        /// `user_risk_level` (newer responses).
        user_risk_level: Option<i64>,
        /// `risk_level_version` (newer responses).
        risk_level_version: Option<i64>,
    }
}

crate::record! {
    /// The result of pre-authorisation: a token (valid one hour) for the mini-program or app.
    pub struct ApplyPermissionsToken {
        /// `apply_permissions_token`, up to 300 characters.
        apply_permissions_token: String<TOKEN_CAPACITY>,
    }
}

impl ApplyPermissionsToken {
    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.apply_permissions_token
    }
}

crate::record! {
    /// Pre-authorise: the body of `POST /v3/payscore/permissions`, and its [`Call`].
    pub struct PreAuthorization {
        /// `service_id`, string(32).
        service_id: String<32> where ID_RULE,
        /// `appid`, string(32).
        appid: String<32> where ID_RULE,
        /// `authorization_code`, string(32): the merchant's own id for this authorization.
        authorization_code: String<32> where CODE_RULE,
        /// `notify_url`, string(255): where open/close callbacks go.
        notify_url: Option<String<255>> where NOTIFY_URL_RULE,
    }
}

impl PreAuthorization {
    /// From borrowed text; a value longer than its capacity is refused with its field named.
    pub fn new(
        service_id: &str,
        appid: &str,
        authorization_code: &str,
        notify_url: Option<&str>,
    ) -> Result<Self, Error> {
        Ok(PreAuthorization {
            service_id: text("service_id", service_id)?,
            appid: text("appid", appid)?,
            authorization_code: text("authorization_code", authorization_code)?,
            notify_url: notify_url.map(|u| text("notify_url", u)).transpose()?,
        })
    }
}

impl Call for PreAuthorization {
    const METHOD: Method = Method::Post;
    const SUCCESS: Success = Success::Body;
    type Response = ApplyPermissionsToken;

    fn target<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        TargetBuilder::new(buf, PERMISSIONS_PATH).finish()
    }
    fn body<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        self.to_json(buf)
    }
    fn parse(&self, body: &[u8]) -> Result<ApplyPermissionsToken, ParseError> {
        ApplyPermissionsToken::from_json(body)
    }
    fn parse_into(&self, body: &[u8], out: &mut ApplyPermissionsToken) -> Result<(), ParseError> {
        Record::parse_into(out, body)
    }
    fn check(&self, _: &ApplyPermissionsToken, _: &str) -> Result<(), VerifyError> {
        Ok(())
    }
}

/// Query a user's authorization record by authorization code (the raw code; encoded here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryByCode {
    /// `authorization_code` (path).
    pub authorization_code: String<32>,
    /// `service_id` (query).
    pub service_id: String<32>,
}

impl QueryByCode {
    /// From borrowed text; a value longer than its capacity is refused with its field named.
    pub fn new(authorization_code: &str, service_id: &str) -> Result<Self, Error> {
        Ok(QueryByCode {
            authorization_code: text("authorization_code", authorization_code)?,
            service_id: text("service_id", service_id)?,
        })
    }
}

impl Call for QueryByCode {
    const METHOD: Method = Method::Get;
    const SUCCESS: Success = Success::Body;
    type Response = AuthorizationRecord;

    /// ```
    /// use wxpay_core::{Call, api::permissions::QueryByCode};
    /// let mut buf = [0u8; 256];
    /// let call = QueryByCode::new("ab|c*", "500001")?;
    /// assert_eq!(call.target(&mut buf)?, "/v3/payscore/permissions/authorization-code/ab%7Cc%2A?service_id=500001");
    /// # Ok::<(), wxpay_core::Error>(())
    /// ```
    fn target<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        CODE_RULE.check_text(&self.authorization_code, "authorization_code")?;
        ID_RULE.check_text(&self.service_id, "service_id")?;
        TargetBuilder::new(buf, BY_CODE_PATH)
            .segment(&self.authorization_code)
            .query("service_id", &self.service_id)
            .finish()
    }
    fn parse(&self, body: &[u8]) -> Result<AuthorizationRecord, ParseError> {
        AuthorizationRecord::from_json(body)
    }
    fn parse_into(&self, body: &[u8], out: &mut AuthorizationRecord) -> Result<(), ParseError> {
        Record::parse_into(out, body)
    }
    fn check(&self, answer: &AuthorizationRecord, mchid: &str) -> Result<(), VerifyError> {
        bind("mchid", &answer.mchid, mchid)?;
        bind("service_id", &answer.service_id, &self.service_id)?;
        bind_opt(
            "authorization_code",
            answer.authorization_code.as_deref(),
            &self.authorization_code,
        )
    }
}

/// Query a user's authorization record by openid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryByOpenid {
    /// `openid` (path).
    pub openid: String<128>,
    /// `appid` (query).
    pub appid: String<32>,
    /// `service_id` (query).
    pub service_id: String<32>,
}

impl QueryByOpenid {
    /// From borrowed text; a value longer than its capacity is refused with its field named.
    pub fn new(openid: &str, appid: &str, service_id: &str) -> Result<Self, Error> {
        Ok(QueryByOpenid {
            openid: text("openid", openid)?,
            appid: text("appid", appid)?,
            service_id: text("service_id", service_id)?,
        })
    }
}

impl Call for QueryByOpenid {
    const METHOD: Method = Method::Get;
    const SUCCESS: Success = Success::Body;
    type Response = AuthorizationRecord;

    fn target<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        crate::model::check_segment(&self.openid, "openid", &OPENID_RULE)?;
        ID_RULE.check_text(&self.appid, "appid")?;
        ID_RULE.check_text(&self.service_id, "service_id")?;
        TargetBuilder::new(buf, BY_OPENID_PATH)
            .segment(&self.openid)
            .query("appid", &self.appid)
            .query("service_id", &self.service_id)
            .finish()
    }
    fn parse(&self, body: &[u8]) -> Result<AuthorizationRecord, ParseError> {
        AuthorizationRecord::from_json(body)
    }
    fn parse_into(&self, body: &[u8], out: &mut AuthorizationRecord) -> Result<(), ParseError> {
        Record::parse_into(out, body)
    }
    fn check(&self, answer: &AuthorizationRecord, mchid: &str) -> Result<(), VerifyError> {
        bind("mchid", &answer.mchid, mchid)?;
        bind("appid", &answer.appid, &self.appid)?;
        bind("service_id", &answer.service_id, &self.service_id)?;
        bind_opt("openid", answer.openid.as_deref(), &self.openid)
    }
}

crate::record! {
    /// The body of terminate by authorization code.
    pub struct TerminateByCodeBody {
        /// `service_id`.
        service_id: String<32> where ID_RULE,
        /// `reason`, at most 50 characters.
        reason: String<150> where REASON_RULE,
    }
}

/// Terminate by authorization code: `POST …/authorization-code/{code}/terminate`, answered 204.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminateByCode {
    /// `authorization_code` (path).
    pub authorization_code: String<32>,
    /// The body.
    pub body: TerminateByCodeBody,
}

impl TerminateByCode {
    /// From borrowed text; a value longer than its capacity is refused with its field named.
    pub fn new(authorization_code: &str, service_id: &str, reason: &str) -> Result<Self, Error> {
        Ok(TerminateByCode {
            authorization_code: text("authorization_code", authorization_code)?,
            body: TerminateByCodeBody {
                service_id: text("service_id", service_id)?,
                reason: text_chars("reason", reason)?,
            },
        })
    }
}

impl Call for TerminateByCode {
    const METHOD: Method = Method::Post;
    const SUCCESS: Success = Success::NoContent;
    type Response = NoContent;

    fn target<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        CODE_RULE.check_text(&self.authorization_code, "authorization_code")?;
        TargetBuilder::new(buf, BY_CODE_PATH)
            .segment(&self.authorization_code)
            .segment("terminate")
            .finish()
    }
    fn body<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        self.body.to_json(buf)
    }
    fn parse(&self, _: &[u8]) -> Result<NoContent, ParseError> {
        Ok(NoContent)
    }
    fn check(&self, _: &NoContent, _: &str) -> Result<(), VerifyError> {
        Ok(())
    }
}

crate::record! {
    /// The body of terminate by openid.
    pub struct TerminateByOpenidBody {
        /// `service_id`.
        service_id: String<32> where ID_RULE,
        /// `appid`.
        appid: String<32> where ID_RULE,
        /// `reason`, at most 50 characters.
        reason: String<150> where REASON_RULE,
    }
}

/// Terminate by openid: `POST …/openid/{openid}/terminate`, answered 204.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminateByOpenid {
    /// `openid` (path).
    pub openid: String<128>,
    /// The body.
    pub body: TerminateByOpenidBody,
}

impl TerminateByOpenid {
    /// From borrowed text; a value longer than its capacity is refused with its field named.
    pub fn new(openid: &str, appid: &str, service_id: &str, reason: &str) -> Result<Self, Error> {
        Ok(TerminateByOpenid {
            openid: text("openid", openid)?,
            body: TerminateByOpenidBody {
                service_id: text("service_id", service_id)?,
                appid: text("appid", appid)?,
                reason: text_chars("reason", reason)?,
            },
        })
    }
}

impl Call for TerminateByOpenid {
    const METHOD: Method = Method::Post;
    const SUCCESS: Success = Success::NoContent;
    type Response = NoContent;

    fn target<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        crate::model::check_segment(&self.openid, "openid", &OPENID_RULE)?;
        TargetBuilder::new(buf, BY_OPENID_PATH)
            .segment(&self.openid)
            .segment("terminate")
            .finish()
    }
    fn body<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        self.body.to_json(buf)
    }
    fn parse(&self, _: &[u8]) -> Result<NoContent, ParseError> {
        Ok(NoContent)
    }
    fn check(&self, _: &NoContent, _: &str) -> Result<(), VerifyError> {
        Ok(())
    }
}

/// A reason: a longer text than its byte capacity is reported in characters (the documented
/// unit), so the error says what the user can fix.
fn text_chars(field: &'static str, value: &str) -> Result<String<150>, Error> {
    REASON_RULE.check_text(value, field)?;
    text(field, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Problem;
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

    fn target_of(call: &impl Call) -> Result<std::string::String, Error> {
        let mut buf = [0u8; TARGET_CAPACITY];
        call.target(&mut buf).map(Into::into)
    }

    fn body_of(call: &impl Call) -> Result<std::string::String, Error> {
        let mut buf = [0u8; BODY_CAPACITY];
        call.body(&mut buf).map(Into::into)
    }

    fn invalid(field: &'static str, problem: Problem) -> Error {
        Error::Invalid { field, problem }
    }

    #[test]
    fn family_targets() {
        fn ok<T>(r: Result<T, Error>) -> T {
            r.unwrap_or_else(|e| std::panic!("{e}"))
        }
        #[rustfmt::skip]
        let cases: &[(Result<std::string::String, Error>, Result<&str, Error>)] = &[
            (target_of(&ok(QueryByCode::new("1234323JKHDFE1243252", "500001"))),
             Ok("/v3/payscore/permissions/authorization-code/1234323JKHDFE1243252?service_id=500001")),
            (target_of(&ok(QueryByCode::new("ab|c*", "500001"))),
             Ok("/v3/payscore/permissions/authorization-code/ab%7Cc%2A?service_id=500001")),
            (target_of(&ok(QueryByOpenid::new("oUpF8uMu/AJO", "wxd678efh567hg6787", "500001"))),
             Ok("/v3/payscore/permissions/openid/oUpF8uMu%2FAJO?appid=wxd678efh567hg6787&service_id=500001")),
            (target_of(&ok(TerminateByCode::new("a|b", "1", "r"))),
             Ok("/v3/payscore/permissions/authorization-code/a%7Cb/terminate")),
            (target_of(&ok(TerminateByOpenid::new("o 1", "a", "1", "r"))),
             Ok("/v3/payscore/permissions/openid/o%201/terminate")),
            (target_of(&ok(PreAuthorization::new("1", "a", "c", None))), Ok(PERMISSIONS_PATH)),
            // Refused before anything is signed, with the field named.
            (target_of(&ok(QueryByCode::new("", "500001"))),     Err(invalid("authorization_code", Problem::Empty))),
            (target_of(&ok(QueryByCode::new("x", ""))),          Err(invalid("service_id", Problem::Empty))),
            (target_of(&ok(QueryByCode::new("a/b", "1"))),       Err(invalid("authorization_code", Problem::Charset { allowed: "[0-9A-Za-z_-|*]" }))),
            (target_of(&ok(QueryByCode::new("..", "1"))),        Err(invalid("authorization_code", Problem::Charset { allowed: "[0-9A-Za-z_-|*]" }))),
            (target_of(&ok(QueryByOpenid::new("o", "", "1"))),   Err(invalid("appid", Problem::Empty))),
            (target_of(&ok(QueryByOpenid::new("..", "a", "1"))), Err(invalid("openid", Problem::DotSegment))),
            (target_of(&ok(TerminateByOpenid::new(".", "a", "1", "r"))), Err(invalid("openid", Problem::DotSegment))),
            (target_of(&ok(TerminateByOpenid::new("", "a", "1", "r"))), Err(invalid("openid", Problem::Empty))),
        ];
        for (i, (got, want)) in cases.iter().enumerate() {
            assert_eq!(
                got.as_deref().map_err(|e| *e),
                want.map_err(|e| e),
                "case {i}"
            );
        }
        // A 33-character code is refused by every entry point alike.
        let long = "1".repeat(33);
        let over = Err(invalid(
            "authorization_code",
            Problem::TooManyBytes { max: 32 },
        ));
        assert_eq!(QueryByCode::new(&long, "1").map(|_| ()), over);
        assert_eq!(
            PreAuthorization::new("1", "a", &long, None).map(|_| ()),
            over
        );
        assert_eq!(TerminateByCode::new(&long, "1", "r").map(|_| ()), over);
    }

    #[test]
    fn bodies() {
        let pre = PreAuthorization::new(
            "500001",
            "wxd678efh567hg6787",
            "1234323JKHDFE1243252",
            Some("https://商户.example.com/支付分/通知"),
        )
        .unwrap_or_else(|e| std::panic!("{e}"));
        // The shared vector post-json-chinese-literal's body, byte for byte.
        assert_eq!(
            body_of(&pre).as_deref(),
            Ok(
                r#"{"service_id":"500001","appid":"wxd678efh567hg6787","authorization_code":"1234323JKHDFE1243252","notify_url":"https://商户.example.com/支付分/通知"}"#
            )
        );
        let no_url = PreAuthorization {
            notify_url: None,
            ..pre.clone()
        };
        assert!(body_of(&no_url).is_ok_and(|b| !b.contains("notify_url")));
        let long_url = "x".repeat(256);
        assert_eq!(
            PreAuthorization::new("1", "a", "c", Some(&long_url)).map(|_| ()),
            Err(invalid("notify_url", Problem::TooManyBytes { max: 255 }))
        );
        let bad_code = PreAuthorization {
            authorization_code: String::try_from("a b").unwrap_or_default(),
            ..pre
        };
        assert_eq!(
            body_of(&bad_code),
            Err(invalid(
                "authorization_code",
                Problem::Charset {
                    allowed: "[0-9A-Za-z_-|*]"
                }
            ))
        );

        let fifty = "退".repeat(50); // 150 bytes, 50 characters: allowed
        assert!(
            TerminateByCode::new("c", "1", &fifty)
                .map(|t| body_of(&t))
                .is_ok_and(|b| b.is_ok())
        );
        let fifty_one = "退".repeat(51);
        assert_eq!(
            TerminateByCode::new("c", "1", &fifty_one).map(|_| ()),
            Err(invalid("reason", Problem::TooManyChars { max: 50 }))
        );
        assert_eq!(
            TerminateByOpenid::new("o", "a", "1", "用户要求").map(|t| body_of(&t)),
            Ok(Ok(
                r#"{"service_id":"1","appid":"a","reason":"用户要求"}"#.into()
            ))
        );
        assert_eq!(
            TerminateByOpenid::new("o", "a", "1", "").map(|_| ()),
            Err(invalid("reason", Problem::Empty))
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

    /// Each query binds the identifiers its answer carries; a mismatch names the field.
    #[test]
    fn answers_are_bound_to_requests() {
        let record =
            AuthorizationRecord::from_json(FULL.as_bytes()).unwrap_or_else(|e| std::panic!("{e}"));
        let by_code = |code: &str, service: &str| {
            QueryByCode::new(code, service).unwrap_or_else(|e| std::panic!("{e}"))
        };
        let by_openid = |openid: &str, appid: &str, service: &str| {
            QueryByOpenid::new(openid, appid, service).unwrap_or_else(|e| std::panic!("{e}"))
        };
        let mismatch = |field| Err(VerifyError::Mismatch { field });
        #[rustfmt::skip]
        let cases: &[(Result<(), VerifyError>, Result<(), VerifyError>)] = &[
            (by_code("1234323JKHDFE1243252", "500001").check(&record, "1230000109"), Ok(())),
            (by_code("1234323JKHDFE1243252", "500001").check(&record, "1900000000"), mismatch("mchid")),
            (by_code("1234323JKHDFE1243252", "500002").check(&record, "1230000109"), mismatch("service_id")),
            (by_code("OTHERCODE", "500001").check(&record, "1230000109"),            mismatch("authorization_code")),
            (by_openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "wxd678efh567hg6787", "500001").check(&record, "1230000109"), Ok(())),
            (by_openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "wxother", "500001").check(&record, "1230000109"), mismatch("appid")),
            (by_openid("someone-else", "wxd678efh567hg6787", "500001").check(&record, "1230000109"), mismatch("openid")),
        ];
        for (i, (got, want)) in cases.iter().enumerate() {
            assert_eq!(got, want, "case {i}");
        }
        // An answer without the optional identifier cannot be compared and is accepted.
        let unbound = AuthorizationRecord {
            authorization_code: None,
            openid: None,
            ..record
        };
        assert_eq!(
            by_code("ANY", "500001").check(&unbound, "1230000109"),
            Ok(())
        );
    }

    /// `parse_into` (in place, what `Client::call_into` uses) gives what `parse` gives, errors
    /// included, for each call that answers with a body.
    #[test]
    fn parse_into_matches_parse() {
        use crate::model::Value;
        let by_code = QueryByCode::new("X", "500001").unwrap_or_else(|e| std::panic!("{e}"));
        let by_openid =
            QueryByOpenid::new("o", "a", "500001").unwrap_or_else(|e| std::panic!("{e}"));
        let pre = PreAuthorization::new("500001", "a", "AUTH123", None)
            .unwrap_or_else(|e| std::panic!("{e}"));
        for body in [
            FULL,
            r#"{"service_id":"s","appid":"a","mchid":"m"}"#,
            r#"{"service_id":"s","mchid":"m"}"#,
            r#"{"apply_permissions_token":"1LEMWZu7WZPNWd"}"#,
            r#"{"apply_permissions_token":"x","apply_permissions_token":"y"}"#,
            "not json",
        ] {
            let body = body.as_bytes();
            let mut out = AuthorizationRecord::placeholder();
            let into = by_code.parse_into(body, &mut out).map(|()| out);
            assert_eq!(into, by_code.parse(body), "{body:?}");
            let mut out = AuthorizationRecord::placeholder();
            let into = by_openid.parse_into(body, &mut out).map(|()| out);
            assert_eq!(into, by_openid.parse(body), "{body:?}");
            let mut out = ApplyPermissionsToken::placeholder();
            let into = pre.parse_into(body, &mut out).map(|()| out);
            assert_eq!(into, pre.parse(body), "{body:?}");
        }
    }

    /// Rendering a record gives back the same record.
    #[test]
    fn render_round_trips() {
        let record =
            AuthorizationRecord::from_json(FULL.as_bytes()).unwrap_or_else(|e| std::panic!("{e}"));
        let mut buf = [0u8; 1024];
        let rendered = record.write_json(&mut buf).map(std::string::String::from);
        assert_eq!(rendered.as_deref(), Ok(FULL));
    }
}
