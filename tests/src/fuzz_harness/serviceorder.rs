//! Payscore service orders (PROTOCOL.md §8–§9): the order record, the request bodies a user
//! writes (create, complete, modify) and the `USER_CONFIRM` / `USER_PAID` callbacks.

use std::format;
use std::string::String;
use std::vec;

use serde_json::Value;
use wxpay_core::api::serviceorder::{CompleteBody, CreateOrder, ModifyBody, ServiceOrder};
use wxpay_core::callback::{self, ApiV3Key, Event};
use wxpay_core::model::Record;
use wxpay_core::{Error, ParseError};

use super::callback::{FUZZ_APIV3_KEY, reference_plaintext};
use super::{FUZZ_NOW, marker_keys, reference_object, split_message};

/// `ours` (the rendering of what the core read) is what serde_json read from the same input:
/// every member ours has, theirs has with the same value (theirs may hold more: unknown
/// fields, `null`s and empty arrays the core leaves out), arrays item by item.
fn same_values(ours: &Value, theirs: &Value, path: &str) {
    match (ours, theirs) {
        (Value::Object(o), Value::Object(t)) => {
            for (key, value) in o {
                let Some(their) = t.get(key) else {
                    panic!("{path}.{key}: the core read a member serde_json does not see")
                };
                same_values(value, their, &format!("{path}.{key}"));
            }
        }
        (Value::Array(o), Value::Array(t)) => {
            assert_eq!(o.len(), t.len(), "{path}: array lengths differ");
            for (i, (value, their)) in o.iter().zip(t).enumerate() {
                same_values(value, their, &format!("{path}[{i}]"));
            }
        }
        (Value::Number(o), Value::Number(t)) => {
            let same = match (t.as_i64(), t.as_u64()) {
                (Some(theirs), _) => o.as_i64() == Some(theirs),
                (None, Some(theirs)) => o.as_u64() == Some(theirs),
                // `-0` reads as a float in serde_json.
                (None, None) => o.as_f64().is_some() && o.as_f64() == t.as_f64(),
            };
            assert!(same, "{path}: {o} vs serde_json's {t}");
        }
        _ => assert_eq!(ours, theirs, "{path}"),
    }
}

/// Renders any record; a buffer one byte short reports the exact size.
fn rendered<R: Record>(record: &R) -> String {
    let mut buf = vec![0u8; 256 * 1024];
    let text = match record.write_json(&mut buf) {
        Ok(text) => String::from(text),
        Err(e) => panic!("a parsed record does not render: {e:?}"),
    };
    let mut short = vec![0u8; text.len() - 1];
    assert_eq!(
        record.write_json(&mut short),
        Err(Error::BufferTooSmall { needed: text.len() })
    );
    text
}

/// `ServiceOrder::from_json` against serde_json: whatever it accepts serde_json reads the same
/// values; the rendering parses back to the same order; smaller capacities accept exactly the
/// orders that fit and refuse the rest with `TooMany`, never a cut.
pub fn serviceorder_record(data: &[u8]) {
    let parsed = ServiceOrder::<100, 30>::from_json(data);
    let small = ServiceOrder::<2, 1>::from_json(data);
    let Ok(order) = parsed else {
        assert!(
            small.is_err(),
            "small capacities accepted what the default refused"
        );
        return;
    };
    assert!(std::str::from_utf8(data).is_ok(), "accepted non-UTF-8");
    let text = rendered(&order);
    assert_eq!(
        ServiceOrder::from_json(text.as_bytes()).as_ref(),
        Ok(&order),
        "the rendering does not parse back: {text}"
    );
    if let Some(map) = reference_object(data) {
        let ours: Value = match serde_json::from_str(&text) {
            Ok(value) => value,
            Err(e) => panic!("the rendering is not JSON ({e}): {text}"),
        };
        same_values(&ours, &Value::Object(map), "");
    }
    let fits = order.post_payments.len() <= 2 && order.post_discounts.len() <= 1;
    match small {
        Ok(small) => {
            assert!(fits, "small capacities held more than they can");
            assert_eq!(rendered(&small), text);
        }
        Err(e) => {
            assert!(!fits, "small capacities refused an order that fits: {e:?}");
            assert!(
                matches!(
                    e,
                    ParseError::TooMany {
                        field: "post_payments",
                        max: 2
                    } | ParseError::TooMany {
                        field: "post_discounts",
                        max: 1
                    }
                ),
                "{e:?}"
            );
        }
    }
}

/// One request body through the strict reader, the canonical writer and back.
fn body_roundtrip<R: Record + PartialEq + std::fmt::Debug>(data: &[u8]) {
    let Ok(body) = R::from_json_strict(data) else {
        return;
    };
    assert!(std::str::from_utf8(data).is_ok(), "accepted non-UTF-8");
    // Strict reading accepts a subset of what the tolerant reader does, with the same values.
    assert_eq!(R::from_json(data).as_ref(), Ok(&body));
    let mut buf = vec![0u8; 256 * 1024];
    match body.to_json(&mut buf) {
        Ok(text) => {
            let text = String::from(text);
            assert_eq!(body.validate(), Ok(()));
            assert_eq!(
                R::from_json_strict(text.as_bytes()).as_ref(),
                Ok(&body),
                "the canonical body does not read back: {text}"
            );
            if let Some(map) = reference_object(data) {
                let ours: Value = match serde_json::from_str(&text) {
                    Ok(value) => value,
                    Err(e) => panic!("the canonical body is not JSON ({e}): {text}"),
                };
                same_values(&ours, &Value::Object(map), "");
            }
            for short in [0, text.len() - 1] {
                assert_eq!(
                    body.to_json(&mut vec![0u8; short]),
                    Err(Error::BufferTooSmall { needed: text.len() }),
                    "a buffer of {short} bytes"
                );
            }
        }
        Err(e @ Error::Invalid { .. }) => assert_eq!(body.validate(), Err(e)),
        Err(Error::InvalidInput { .. }) => {
            // Characters outside the BMP: valid by the rules, refused by the request writer.
            assert_eq!(body.validate(), Ok(()));
            assert!(
                data.windows(2).any(|w| w == b"\\u")
                    || std::str::from_utf8(data).is_ok_and(|t| t.chars().any(|c| c.len_utf8() > 3))
            );
        }
        Err(other) => panic!("unexpected {other:?}"),
    }
}

/// The request bodies a user writes (`--data`): `CreateOrder`, `CompleteBody` and `ModifyBody`
/// each read strictly (unknown fields refused), then `to_json` → `from_json_strict` gives the
/// same value, the canonical text is what serde_json reads from the input, and a short buffer
/// reports `BufferTooSmall { needed }` exactly. A refusal is validation's, naming the field.
pub fn serviceorder_body_roundtrip(data: &[u8]) {
    body_roundtrip::<CreateOrder>(data);
    body_roundtrip::<CompleteBody>(data);
    body_roundtrip::<ModifyBody>(data);
}

/// The callback path with service-order payloads: everything [`callback`](super::callback)
/// checks, then for `USER_CONFIRM` / `USER_PAID` the carried [`OrderEvent`]: its plaintext is
/// the decrypted resource and one JSON object, `order()` and `order_with::<2, 1>()` are what
/// `ServiceOrder::from_json` gives, and the order's invariants hold ([`serviceorder_record`]).
///
/// [`OrderEvent`]: wxpay_core::callback::OrderEvent
pub fn serviceorder_callback(data: &[u8]) {
    super::callback(data);
    let message = split_message(data);
    let key = match ApiV3Key::from_text(FUZZ_APIV3_KEY) {
        Ok(key) => key,
        Err(e) => panic!("the fuzz key is 32 bytes: {e}"),
    };
    let mut work = vec![0u8; message.body.len()];
    let keys = marker_keys();
    let outcome = callback::verify_and_decrypt(
        &keys,
        &message.headers,
        message.body,
        FUZZ_NOW,
        &key,
        &mut work,
    );
    let event = match &outcome {
        Ok(n) => match &n.event {
            Event::UserConfirm(event) | Event::UserPaid(event) => *event,
            _ => return,
        },
        Err(_) => return,
    };
    let plaintext = event.plaintext();
    if let Some(reference) =
        reference_object(message.body).and_then(|map| reference_plaintext(&map, &key))
    {
        assert_eq!(plaintext, &reference[..], "not the decrypted resource");
    }
    // One JSON object, as serde_json reads it too (unless a number is beyond f64).
    assert!(std::str::from_utf8(plaintext).is_ok(), "accepted non-UTF-8");
    let _ = reference_object(plaintext);
    assert_eq!(event.order(), ServiceOrder::from_json(plaintext));
    assert_eq!(
        event.order_with::<2, 1>(),
        ServiceOrder::<2, 1>::from_json(plaintext)
    );
    serviceorder_record(plaintext);
}
