//! Fault injection: the faults a request can ask for (`FAULT_<NAME>` codes or
//! [`Emulator::set_fault`]) and the answers they start from.

use crate::handlers::Answer;
use crate::{Emulator, StoredRecord, demo, read};

/// A fault to inject into a response. A request whose authorization code is `FAULT_<NAME>`
/// (e.g. `FAULT_BAD_SIGNATURE`) gets that fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer after this many seconds.
    Delay(u64),
    /// Declare the full `Content-Length`, send half the body, close.
    TruncatedBody,
    /// Chunked encoding with a chunk boundary inside a UTF-8 character (the body is still valid).
    ChunkedSplitUtf8,
    /// A signature that does not match.
    BadSignature,
    /// `Wechatpay-Serial` names a key the client does not hold.
    UnknownSerial,
    /// Signed correctly, ten minutes ago.
    StaleTimestamp,
    /// A `WECHATPAY/SIGNTEST/` probe signature.
    SignTestProbe,
    /// A correctly signed record whose `openid` is one byte over its documented 128.
    OversizeField,
    /// A correctly signed 200 whose body is not JSON.
    NonJsonBody,
    /// `503 SERVICE_UNAVAILABLE` without any `Wechatpay-*` header.
    UnsignedError,
    /// A signed `500 SYSTEM_ERROR`.
    SystemError,
}

impl Fault {
    /// Every fault with its name, as used in `FAULT_<NAME>` codes and `--fault`.
    pub const ALL: &'static [(&'static str, Fault)] = &[
        ("DELAY_5", Fault::Delay(5)),
        ("TRUNCATED_BODY", Fault::TruncatedBody),
        ("CHUNKED_SPLIT_UTF8", Fault::ChunkedSplitUtf8),
        ("BAD_SIGNATURE", Fault::BadSignature),
        ("UNKNOWN_SERIAL", Fault::UnknownSerial),
        ("STALE_TIMESTAMP", Fault::StaleTimestamp),
        ("SIGNTEST_PROBE", Fault::SignTestProbe),
        ("OVERSIZE_FIELD", Fault::OversizeField),
        ("NON_JSON_BODY", Fault::NonJsonBody),
        ("UNSIGNED_ERROR", Fault::UnsignedError),
        ("SYSTEM_ERROR", Fault::SystemError),
    ];

    /// Parses a name such as `BAD_SIGNATURE` or `bad-signature`; `DELAY_<secs>` takes seconds.
    pub fn from_name(name: &str) -> Option<Fault> {
        let name = name.to_ascii_uppercase().replace('-', "_");
        if let Some(secs) = name.strip_prefix("DELAY_") {
            return secs.parse().ok().map(Fault::Delay);
        }
        Fault::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}

impl Emulator {
    /// The answer a fault starts from: the demo record, answering the query for `code`
    /// (clients bind the answer's code to the one they asked for).
    pub(crate) fn fault_record(&self, fault: Fault, code: &str, service_id: &str) -> Answer {
        let mut record = read(&self.records)
            .get(demo::AUTHORIZATION_CODE)
            .cloned()
            .unwrap_or_else(|| StoredRecord {
                service_id: service_id.to_owned(),
                appid: demo::APPID.to_owned(),
                openid: None,
                authorization_code: String::new(),
                authorization_state: "AVAILABLE".to_owned(),
                notify_url: None,
                authorization_success_time: None,
                cancel_authorization_time: None,
            });
        record.service_id = service_id.to_owned();
        code.clone_into(&mut record.authorization_code);
        match fault {
            // One byte past `openid`'s declared capacity (string(128)): the declared record
            // cannot hold it, so it is spliced into the rendered text as the member before
            // all others (the rendered object always has `service_id`, so a comma follows).
            Fault::OversizeField => {
                record.openid = None;
                let mut answer = self.record_answer(&record);
                let oversize = format!(r#"{{"openid":"{}","#, "o".repeat(129));
                if answer.status == 200 && answer.body.first() == Some(&b'{') {
                    answer.body.splice(..1, oversize.into_bytes());
                }
                return answer;
            }
            // A multi-byte character near the middle of the body, where the chunk splits.
            Fault::ChunkedSplitUtf8 => {
                record.notify_url = Some("https://商户.example.com/支付分/通知/回调".to_owned());
            }
            Fault::NonJsonBody => {
                return Answer {
                    status: 200,
                    body: b"<html>not json</html>".to_vec(),
                };
            }
            Fault::UnsignedError => {
                return Answer::error(
                    503,
                    "SERVICE_UNAVAILABLE",
                    "service unavailable, retry later",
                );
            }
            Fault::SystemError => {
                return Answer::error(500, "SYSTEM_ERROR", "system error, retry later");
            }
            _ => {}
        }
        self.record_answer(&record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_names_round_trip() {
        for (name, fault) in Fault::ALL {
            assert_eq!(Fault::from_name(name), Some(*fault));
        }
        assert_eq!(Fault::from_name("bad-signature"), Some(Fault::BadSignature));
        assert_eq!(Fault::from_name("delay-2"), Some(Fault::Delay(2)));
        assert_eq!(Fault::from_name("nope"), None);
    }

    #[test]
    fn records_are_rendered_by_their_declaration() {
        use wxpay_core::ParseError;
        use wxpay_core::api::permissions::AuthorizationRecord;
        let emulator = Emulator::demo();
        let code = demo::AUTHORIZATION_CODE;
        let plain = emulator.fault_record(Fault::BadSignature, code, demo::SERVICE_ID);
        let record = AuthorizationRecord::from_json(&plain.body).expect("the record parses");
        assert_eq!(record.authorization_code.as_deref(), Some(code));
        assert_eq!(record.mchid.as_str(), demo::MCHID);
        // OVERSIZE_FIELD: valid JSON, one byte past the declared capacity, refused by name.
        let oversize = emulator.fault_record(Fault::OversizeField, code, demo::SERVICE_ID);
        let json: serde_json::Value = serde_json::from_slice(&oversize.body).expect("JSON");
        assert_eq!(json["openid"].as_str().map(str::len), Some(129));
        assert_eq!(json["authorization_code"], code);
        assert_eq!(
            AuthorizationRecord::from_json(&oversize.body),
            Err(ParseError::FieldTooLong {
                field: "openid",
                max: 128
            })
        );
    }
}
