//! Callback notifications (PROTOCOL.md §5): the whole `verify_and_decrypt` path, and the two
//! payload parsers on their own.

use std::string::String;
use std::vec::Vec;

use base64ct::{Base64, Encoding};
use serde_json::Value;
use wxpay_core::ParseError;
use wxpay_core::api::permissions::{ApplyPermissionsToken, TOKEN_CAPACITY};
use wxpay_core::api::serviceorder::ServiceOrder;
use wxpay_core::callback::{
    self, ApiV3Key, CallbackError, Event, Notification, USER_CLOSE_SERVICE, USER_OPEN_SERVICE,
    UserServiceEvent,
};
use wxpay_core::time::DateTime;
use wxpay_core::verify::{self, MAX_CLOCK_SKEW_SECS};

use super::{
    FUZZ_NOW, SIGNATURE_MARKER, marker_keys, reference_object, reference_str, split_message,
};

/// The APIv3 key [`callback()`] decrypts with (the seeds in `fuzz/corpus/callback/` were
/// encrypted with it by `fuzz/make_seeds.py`).
pub const FUZZ_APIV3_KEY: &str = "wxpayFuzzApiV3Key0123456789abcde";

/// Every field of a [`UserServiceEvent`], with its capacity, as `(key, value)`.
fn event_fields(e: &UserServiceEvent) -> [(&'static str, usize, Option<&str>); 8] {
    [
        ("appid", 32, e.appid.as_deref()),
        ("mchid", 32, e.mchid.as_deref()),
        ("service_id", 32, e.service_id.as_deref()),
        ("openid", 128, e.openid.as_deref()),
        ("user_service_status", 32, e.user_service_status.as_deref()),
        ("openorclose_time", 32, e.openorclose_time.as_deref()),
        ("authorization_code", 32, e.authorization_code.as_deref()),
        ("out_request_no", 64, e.out_request_no.as_deref()),
    ]
}

/// A known field serde_json reads as absent, `null`, or a string within `capacity` bytes: one
/// the core has no reason to refuse.
fn acceptable(map: &serde_json::Map<String, Value>, key: &str, capacity: usize) -> bool {
    match map.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.len() <= capacity,
        Some(_) => false,
    }
}

/// Refusals the core may make of an object serde_json reads without complaint: a repeated
/// known field (serde_json keeps the last) and nesting deeper than the core's skip limit.
fn refusal_serde_json_misses(e: &ParseError) -> bool {
    matches!(
        e,
        ParseError::DuplicateField { .. } | ParseError::TooDeep { .. }
    )
}

/// The keys of a top-level object, repeats included (serde_json's `Value` keeps one of each).
struct Keys(Vec<String>);

impl<'de> serde::Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// One of `known` appears more than once at the top level: the core may refuse the first
/// sighting for any reason before it sees the second.
fn repeats_a_known_key(data: &[u8], known: &[&str]) -> bool {
    serde_json::from_slice::<Keys>(data).is_ok_and(|Keys(keys)| {
        known
            .iter()
            .any(|k| keys.iter().filter(|key| key.as_str() == *k).count() > 1)
    })
}

/// `UserServiceEvent::from_json` against serde_json: whatever it accepts, serde_json reads the
/// same values; an object whose known fields are strings (or null) within capacity is accepted.
fn check_event(plaintext: &[u8], ours: &Result<UserServiceEvent, ParseError>) {
    match ours {
        Ok(e) => {
            assert!(std::str::from_utf8(plaintext).is_ok(), "accepted non-UTF-8");
            if let Some(map) = reference_object(plaintext) {
                for (key, _, value) in event_fields(e) {
                    assert_eq!(reference_str(&map, key), value, "field {key}");
                }
            }
            assert_eq!(
                e.openorclose_datetime(),
                e.openorclose_time
                    .as_deref()
                    .and_then(DateTime::parse_compact_beijing)
            );
        }
        Err(err) => {
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(plaintext) {
                let none = UserServiceEvent::default();
                let fields = event_fields(&none);
                let fine = fields
                    .iter()
                    .all(|(key, capacity, _)| acceptable(&map, key, *capacity))
                    && !repeats_a_known_key(plaintext, &fields.map(|(key, _, _)| key));
                assert!(
                    !fine || refusal_serde_json_misses(err),
                    "refused {err:?}, serde_json reads a good event"
                );
            }
        }
    }
}

/// The decrypted payload parsers, `UserServiceEvent::from_json` and
/// `ApplyPermissionsToken::from_json`, on the raw bytes, against serde_json (as [`record`]
/// does for `AuthorizationRecord`, which is run too).
///
/// [`record`]: super::record
pub fn callback_payload(data: &[u8]) {
    check_event(data, &UserServiceEvent::from_json(data));

    const KEY: &str = "apply_permissions_token";
    match ApplyPermissionsToken::from_json(data) {
        Ok(token) => {
            assert!(std::str::from_utf8(data).is_ok(), "accepted non-UTF-8");
            if let Some(map) = reference_object(data) {
                assert_eq!(reference_str(&map, KEY), Some(token.as_str()));
            }
        }
        Err(err) => {
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(data) {
                let fine = matches!(map.get(KEY), Some(Value::String(s)) if s.len() <= TOKEN_CAPACITY)
                    && !repeats_a_known_key(data, &[KEY]);
                assert!(
                    !fine || refusal_serde_json_misses(&err),
                    "refused {err:?}, serde_json reads a good token"
                );
            }
        }
    }
    super::record(data);
}

/// What serde_json and the reference decryption make of a verified envelope: the plaintext of
/// `resource`, or `None` when the envelope is not one (the core must then refuse it too).
pub(super) fn reference_plaintext(
    map: &serde_json::Map<String, Value>,
    key: &ApiV3Key,
) -> Option<Vec<u8>> {
    let resource = map.get("resource")?.as_object()?;
    let field = |name: &str| resource.get(name).and_then(Value::as_str);
    let mut data = Base64::decode_vec(field("ciphertext")?).ok()?;
    let aad = field("associated_data").unwrap_or_default();
    callback::decrypt_in_place(key, field("nonce")?.as_bytes(), aad.as_bytes(), &mut data)
        .ok()
        .map(|plain| plain.to_vec())
}

/// Callbacks, behind the marker verifier (NO SECURITY, fuzzing only) and [`FUZZ_APIV3_KEY`].
/// Input: head lines and a body, as for [`verify`](super::verify()).
///
/// - Never panics; errors are the documented variants. The signature is checked first: a
///   response `verify_response` refuses is refused with its error, and nothing else.
/// - `Ok` only for a fresh, marker-signed callback (±300 s); then the envelope fields, the
///   plaintext (decrypted here from serde_json's reading of the envelope) and, for
///   `USER_OPEN_SERVICE` / `USER_CLOSE_SERVICE`, every payload field are what serde_json reads.
/// - A work buffer the size of the body always suffices. A smaller one either gives the same
///   outcome or `BufferTooSmall { needed }`, exactly when it is shorter than `needed`, and a
///   retry with `needed` bytes gives the same outcome as the full-size buffer.
pub fn callback(data: &[u8]) {
    let message = split_message(data);
    let (headers, body) = (&message.headers, message.body);
    let key = match ApiV3Key::from_text(FUZZ_APIV3_KEY) {
        Ok(key) => key,
        Err(e) => panic!("the fuzz key is 32 bytes: {e}"),
    };
    let run = |work: &mut [u8]| -> Result<String, CallbackError> {
        let keys = marker_keys();
        callback::verify_and_decrypt(&keys, headers, body, FUZZ_NOW, &key, work)
            .map(|n| format!("{n:?}"))
    };

    let mut work = vec![0u8; body.len()];
    let keys = marker_keys();
    let outcome = callback::verify_and_decrypt(&keys, headers, body, FUZZ_NOW, &key, &mut work);
    let verdict = verify::verify_response(&marker_keys(), headers, body, FUZZ_NOW);
    match (&verdict, &outcome) {
        (Err(v), Err(CallbackError::Verify(e))) => assert_eq!(v, e),
        (Err(v), other) => panic!("verify_response says {v:?}, the callback {other:?}"),
        (Ok(()), Err(CallbackError::Verify(e))) => panic!("verified, yet {e:?}"),
        (Ok(()), _) => {}
    }

    match &outcome {
        Ok(n) => check_notification(n, headers, body, &key),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            match e {
                CallbackError::BufferTooSmall { needed } => {
                    panic!(
                        "a work buffer of the body's {} bytes needs {needed}",
                        body.len()
                    )
                }
                CallbackError::BadKeyLength => panic!("the key is 32 bytes"),
                CallbackError::Verify(_)
                | CallbackError::Envelope(_)
                | CallbackError::UnsupportedAlgorithm
                | CallbackError::BadNonce
                | CallbackError::BadBase64
                | CallbackError::TruncatedTag
                | CallbackError::Decrypt
                | CallbackError::Payload(_) => {}
                other => panic!("undocumented error {other:?}"),
            }
        }
    }

    // Smaller work buffers: nothing at all, then exactly what the first refusal says.
    let full = outcome.map(|n| format!("{n:?}"));
    let mut empty = [0u8; 0];
    match run(&mut empty) {
        Err(CallbackError::BufferTooSmall { needed }) => {
            assert!(needed > 0 && needed <= body.len(), "needed {needed}");
            assert_eq!(run(&mut vec![0u8; needed]), full, "retry with {needed}");
            assert_eq!(
                run(&mut vec![0u8; needed - 1]),
                Err(CallbackError::BufferTooSmall { needed })
            );
        }
        small => assert_eq!(small, full, "an empty work buffer changed the outcome"),
    }
}

/// An accepted callback: signed and fresh, and every field as serde_json reads it.
fn check_notification(
    n: &Notification<'_>,
    headers: &wxpay_core::ResponseHeaders,
    body: &[u8],
    key: &ApiV3Key,
) {
    let timestamp = headers.timestamp.as_deref().unwrap_or_default();
    let signed_at: i64 = timestamp.parse().unwrap_or(i64::MIN);
    assert!((FUZZ_NOW - signed_at).abs() <= MAX_CLOCK_SKEW_SECS);
    let signature = headers.signature.as_deref().unwrap_or_default();
    let signature = Base64::decode_vec(signature).unwrap_or_default();
    assert_eq!(
        signature.first(),
        Some(&SIGNATURE_MARKER),
        "not marker-signed"
    );

    assert!(
        std::str::from_utf8(body).is_ok(),
        "accepted a non-UTF-8 body"
    );
    let Some(map) = reference_object(body) else {
        return;
    };
    assert_eq!(reference_str(&map, "id"), Some(n.id.as_str()));
    assert_eq!(
        reference_str(&map, "event_type"),
        Some(n.event_type.as_str())
    );
    assert_eq!(reference_str(&map, "create_time"), n.create_time.as_deref());
    let resource = map.get("resource").and_then(Value::as_object);
    let resource_str = |name| resource.and_then(|r| reference_str(r, name));
    assert_eq!(resource_str("original_type"), n.original_type.as_deref());
    assert_eq!(resource_str("algorithm"), Some(callback::ALGORITHM));

    let plaintext = reference_plaintext(&map, key);
    let plaintext = plaintext.unwrap_or_else(|| {
        panic!("accepted, but serde_json and the reference decryption find no resource: {n:?}")
    });
    match &n.event {
        Event::UserOpenService(e) | Event::UserCloseService(e) => {
            let want = if matches!(n.event, Event::UserOpenService(_)) {
                USER_OPEN_SERVICE
            } else {
                USER_CLOSE_SERVICE
            };
            assert_eq!(n.event_type.as_str(), want);
            assert_eq!(
                UserServiceEvent::from_json(&plaintext).as_ref(),
                Ok(e),
                "the payload is not the decrypted resource's"
            );
            check_event(&plaintext, &Ok(e.clone()));
        }
        Event::UserConfirm(order) | Event::UserPaid(order) => {
            let want = if matches!(n.event, Event::UserConfirm(_)) {
                callback::USER_CONFIRM
            } else {
                callback::USER_PAID
            };
            assert_eq!(n.event_type.as_str(), want);
            assert_eq!(order.plaintext(), &plaintext[..]);
            assert_eq!(
                ServiceOrder::from_json(&plaintext),
                order.order(),
                "the order is not the decrypted resource's"
            );
        }
        Event::Other(bytes) => {
            assert!(
                ![
                    USER_OPEN_SERVICE,
                    USER_CLOSE_SERVICE,
                    callback::USER_CONFIRM,
                    callback::USER_PAID
                ]
                .contains(&n.event_type.as_str())
            );
            assert_eq!(*bytes, &plaintext[..]);
        }
    }
}
