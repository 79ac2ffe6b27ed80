//! The JSON writer behind every request body, and the bodies of the permissions family.

use std::string::String;
use std::vec::Vec;

use serde_json::Value;
use wxpay_core::Error;
use wxpay_core::api::permissions::{
    BODY_CAPACITY, PreAuthorization, REASON_MAX_CHARS, TerminateByCode, TerminateByOpenid,
};
use wxpay_core::json::{ObjectWriter, Reader};
use wxpay_core::model::is_code_byte;

use super::is_bmp;

/// Keys longer than this reach the core's reader as `""` (they can match no known field).
const READER_KEY_LEN: usize = 48;

/// Length of `text` as the writer quotes it: `"`, `\` take two bytes, other control
/// characters six (`\u00XX`), everything else is copied.
fn quoted_len(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' => 2,
            0x00..=0x1F => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Writes `members` (`None` values go through `optional` and are left out).
fn write<'b>(buf: &'b mut [u8], members: &[(&str, Option<&str>)]) -> Result<&'b str, Error> {
    members
        .iter()
        .fold(ObjectWriter::new(buf), |w, (k, v)| w.optional(k, *v))
        .finish()
}

/// Checks a body written from `members` (`None` left out): every member where predicted,
/// each key and value parsing back (serde_json, and the core's own reader) to the input.
fn check_written(body: &str, members: &[(&str, Option<&str>)]) {
    let present: Vec<(&str, &str)> = members
        .iter()
        .filter_map(|(k, v)| v.map(|v| (*k, v)))
        .collect();
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(_)) => {}
        other => panic!("{body:?} is not a JSON object: {other:?}"),
    }
    // Slice each quoted key and value out at its predicted place and read it alone.
    let mut at = 1;
    for (i, (key, value)) in present.iter().enumerate() {
        if i > 0 {
            assert_eq!(&body[at..at + 1], ",");
            at += 1;
        }
        for (text, end) in [(key, ":"), (value, "")] {
            let len = quoted_len(text);
            let piece = &body[at..at + len];
            let back: Result<String, _> = serde_json::from_str(piece);
            assert_eq!(back.as_deref().ok(), Some(*text), "{piece} in {body:?}");
            at += len;
            assert_eq!(&body[at..at + end.len()], end);
            at += end.len();
        }
    }
    assert_eq!(&body[at..], "}");

    let mut read: Vec<(String, String)> = Vec::new();
    let parsed = Reader::object(body.as_bytes(), |key, r| {
        let mut out = vec![0u8; body.len()];
        let len = r.read_str_bytes("value", &mut out)?;
        out.truncate(len);
        read.push((
            String::from(key),
            String::from_utf8(out).unwrap_or_default(),
        ));
        Ok(())
    });
    assert_eq!(parsed, Ok(()), "the core cannot read back {body:?}");
    let want: Vec<(String, String)> = present
        .iter()
        .map(|(k, v)| {
            let k = if k.len() > READER_KEY_LEN { "" } else { k };
            (String::from(k), String::from(*v))
        })
        .collect();
    assert_eq!(read, want);
}

/// Writes `members` into a buffer of the predicted size: exactly that size, one byte less is
/// `BufferTooSmall { needed }`, a refusal only for characters of 4 UTF-8 bytes.
fn check_object(members: &[(&str, Option<&str>)]) {
    let present = members.iter().filter(|(_, v)| v.is_some());
    let predicted = 2
        + present
            .clone()
            .map(|(k, v)| quoted_len(k) + 1 + quoted_len(v.unwrap_or_default()))
            .sum::<usize>()
        + present.clone().count().saturating_sub(1);
    let valid = present
        .clone()
        .all(|(k, v)| is_bmp(k) && is_bmp(v.unwrap_or_default()));

    let mut exact = vec![0u8; predicted];
    match write(&mut exact, members) {
        Ok(body) => {
            assert!(valid, "wrote a character outside the BMP: {body:?}");
            assert_eq!(body.len(), predicted);
            check_written(body, members);
        }
        Err(Error::InvalidInput { .. }) => assert!(!valid, "refused {members:?}"),
        Err(other) => panic!("{other:?} for {members:?} in {predicted} bytes"),
    }
    for short in [predicted - 1, 0] {
        let mut buf = vec![0u8; short];
        let want = if valid {
            Err(Error::BufferTooSmall { needed: predicted })
        } else {
            Err(Error::InvalidInput {
                what: "characters outside the Basic Multilingual Plane are not accepted",
            })
        };
        assert_eq!(write(&mut buf, members), want, "in {short} bytes");
    }
}

/// Why a body must be refused, if it must: an empty or over-long required field (bytes), a
/// reason of no or more than 50 characters, a character outside the BMP.
fn refusal(required: &[(&str, usize)], reason: Option<&str>, optional: &[(&str, usize)]) -> bool {
    required
        .iter()
        .any(|(v, max)| v.is_empty() || v.len() > *max || !is_bmp(v))
        || reason
            .is_some_and(|r| r.is_empty() || r.chars().count() > REASON_MAX_CHARS || !is_bmp(r))
        || optional.iter().any(|(v, max)| v.len() > *max || !is_bmp(v))
}

/// One body's `to_json`: refused exactly when `refused`; otherwise exactly what the writer
/// writes for `members`, `BufferTooSmall { needed }` exact, and (when no field holds a control
/// character, which takes six bytes escaped) within `BODY_CAPACITY`.
fn check_body(
    to_json: &dyn Fn(&mut [u8]) -> Result<String, Error>,
    refused: bool,
    members: &[(&str, Option<&str>)],
) {
    let mut roomy = vec![0u8; 4096];
    match to_json(&mut roomy) {
        Ok(body) => {
            assert!(!refused, "accepted {members:?}");
            let mut same = vec![0u8; body.len()];
            assert_eq!(
                write(&mut same, members).map(String::from),
                Ok(body.clone())
            );
            assert_eq!(to_json(&mut same), Ok(body.clone()));
            let mut short = vec![0u8; body.len() - 1];
            assert_eq!(
                to_json(&mut short),
                Err(Error::BufferTooSmall { needed: body.len() })
            );
            let controls = members
                .iter()
                .any(|(_, v)| v.is_some_and(|v| v.bytes().any(|b| b < 0x20)));
            assert!(
                controls || body.len() <= BODY_CAPACITY,
                "{} bytes > BODY_CAPACITY",
                body.len()
            );
            check_written(&body, members);
        }
        Err(Error::InvalidInput { .. } | Error::TooLong { .. } | Error::Invalid { .. }) => {
            assert!(refused, "refused {members:?}");
        }
        Err(other) => panic!("{other:?} for {members:?}"),
    }
}

/// `ObjectWriter` and the request bodies of the permissions family (`PreAuthorization`,
/// `TerminateByCode`, `TerminateByOpenid`). Input, one string per line (lossy UTF-8):
/// `key\nvalue\nkey\nvalue…` for the writer (a key without a value line is an absent optional);
/// the same lines, in order, are the bodies' fields (the fourth, when present, `notify_url`).
///
/// - What is written parses back, with serde_json and the core's reader, to the same strings,
///   each member exactly where its predicted length puts it.
/// - `BufferTooSmall { needed }` is exact: `needed` bytes succeed, one less fails the same way.
/// - Refusals only for the documented reasons: characters of 4 UTF-8 bytes, empty required
///   fields, lengths over the documented maximum, a reason over 50 characters.
pub fn json_writer(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    let members: Vec<(&str, Option<&str>)> =
        lines.chunks(2).map(|c| (c[0], c.get(1).copied())).collect();
    check_object(&members);

    let field = |i: usize| lines.get(i).copied().unwrap_or_default();
    let (a, b, c) = (field(0), field(1), field(2));
    let notify_url = lines.get(3).copied();

    let code_charset = c.bytes().all(is_code_byte);
    check_built(
        PreAuthorization::new(a, b, c, notify_url),
        &|pre, buf| pre.to_json(buf).map(String::from),
        refusal(
            &[(a, 32), (b, 32), (c, 32)],
            None,
            &[(notify_url.unwrap_or_default(), 255)],
        ) || !code_charset
            || notify_url == Some(""),
        &[
            ("service_id", Some(a)),
            ("appid", Some(b)),
            ("authorization_code", Some(c)),
            ("notify_url", notify_url),
        ],
    );

    check_built(
        TerminateByCode::new("code", a, b),
        &|t, buf| t.body.to_json(buf).map(String::from),
        refusal(&[(a, 32)], Some(b), &[]),
        &[("service_id", Some(a)), ("reason", Some(b))],
    );

    check_built(
        TerminateByOpenid::new("openid", b, a, c),
        &|t, buf| t.body.to_json(buf).map(String::from),
        refusal(&[(a, 32), (b, 32)], Some(c), &[]),
        &[
            ("service_id", Some(a)),
            ("appid", Some(b)),
            ("reason", Some(c)),
        ],
    );
}

/// A declared body built from text: a refusal at construction (a value over its capacity)
/// counts as a refusal of the body; otherwise [`check_body`].
fn check_built<T>(
    built: Result<T, Error>,
    to_json: &dyn Fn(&T, &mut [u8]) -> Result<String, Error>,
    refused: bool,
    members: &[(&str, Option<&str>)],
) {
    match built {
        Ok(value) => check_body(&|buf| to_json(&value, buf), refused, members),
        Err(Error::Invalid { .. }) => assert!(refused, "refused {members:?}"),
        Err(other) => panic!("{other:?} for {members:?}"),
    }
}
