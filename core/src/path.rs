//! Request targets (`/path?query`), percent-encoded once, with one fixed rule.
//!
//! Bytes `A-Z a-z 0-9 - . _ ~` stay; every other byte of the UTF-8 text becomes `%XX` with
//! upper-case hex (space is `%20`, never `+`). The string built here is what gets signed **and**
//! what goes on the wire: transports must send it unchanged.

use crate::error::Error;
use crate::writer::CountingWriter;

/// Characters of 4 UTF-8 bytes (outside the BMP) are refused: APIv3 accepts 1–3 byte characters.
pub const MAX_CHAR_UTF8_LEN: usize = 3;

/// Writes a request target into a caller buffer.
///
/// When the buffer is too small, writing goes on counting, and [`TargetBuilder::finish`] reports
/// the exact size of the whole target, so one retry with that size succeeds.
#[derive(Debug)]
pub struct TargetBuilder<'b> {
    out: CountingWriter<'b>,
    has_query: bool,
    error: Option<Error>,
}

impl<'b> TargetBuilder<'b> {
    /// Starts a target with a fixed path such as `/v3/payscore/permissions`.
    ///
    /// The path must start with `/` and hold only unreserved characters and `/`: fixed paths are
    /// written as they are, and anything that would need encoding belongs in a segment.
    pub fn new(buf: &'b mut [u8], path: &str) -> Self {
        let mut builder = TargetBuilder {
            out: CountingWriter::new(buf),
            has_query: false,
            error: None,
        };
        if is_fixed_path(path) {
            builder.raw(path.as_bytes());
        } else {
            builder.error = Some(Error::InvalidInput {
                what: "fixed path must start with '/' and need no encoding",
            });
        }
        builder
    }

    /// Appends `/` and one percent-encoded path segment. A `/` inside it becomes `%2F`.
    ///
    /// An empty segment, `.` or `..` is refused (`..` is not encoded, and a normalising proxy
    /// would send `…/x/../terminate` to another endpoint). Use [`TargetBuilder::named_segment`]
    /// for a caller's value, so the error names the field.
    pub fn segment(mut self, raw: &str) -> Self {
        if self.has_query {
            self.fail("path segment after the query");
        } else if raw.is_empty() {
            self.fail("path segment is empty");
        } else if is_dot_segment(raw) {
            self.fail("path segment is `.` or `..`");
        } else {
            self.raw(b"/");
            self.encoded(raw);
        }
        self
    }

    /// [`TargetBuilder::segment`] for the value of field `what` (e.g. `"openid"`): an empty,
    /// `.` or `..` value is [`Error::InvalidSegment { what }`](Error::InvalidSegment).
    pub fn named_segment(mut self, what: &'static str, raw: &str) -> Self {
        if let (false, Err(e)) = (self.has_query, check_segment(what, raw)) {
            if self.error.is_none() {
                self.error = Some(e);
            }
            return self;
        }
        self.segment(raw)
    }

    /// Appends `?key=value` or `&key=value`, both percent-encoded.
    pub fn query(mut self, key: &str, value: &str) -> Self {
        if key.is_empty() {
            self.fail("query key is empty");
            return self;
        }
        self.raw(if self.has_query { b"&" } else { b"?" });
        self.has_query = true;
        self.encoded(key);
        self.raw(b"=");
        self.encoded(value);
        self
    }

    /// The finished target, or the first error. `BufferTooSmall { needed }` is exact.
    pub fn finish(self) -> Result<&'b str, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.out.finish_str()
    }

    fn fail(&mut self, what: &'static str) {
        if self.error.is_none() {
            self.error = Some(Error::InvalidInput { what });
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.out.put(bytes);
    }

    fn encoded(&mut self, text: &str) {
        // In UTF-8, exactly the characters longer than MAX_CHAR_UTF8_LEN (3) bytes start with
        // a byte of 0xF0 or more.
        const _: () = assert!(MAX_CHAR_UTF8_LEN == 3);
        if text.bytes().any(|b| b >= 0xF0) {
            self.fail("characters outside the Basic Multilingual Plane are not accepted");
            return;
        }
        // Runs of unreserved bytes are copied whole; each other byte becomes %XX.
        let mut rest = text.as_bytes();
        while !rest.is_empty() {
            let plain = rest
                .iter()
                .position(|&b| !is_unreserved(b))
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at(plain);
            self.raw(run);
            rest = match tail.split_first() {
                Some((&byte, tail)) => {
                    self.raw(&percent_escape(byte));
                    tail
                }
                None => tail,
            };
        }
    }
}

/// Checks that the value of field `what` may be a path segment: not empty, `.` or `..`
/// ([`Error::InvalidSegment`]). For callers that validate inputs before building a request.
pub fn check_segment(what: &'static str, raw: &str) -> Result<(), Error> {
    if raw.is_empty() || is_dot_segment(raw) {
        Err(Error::InvalidSegment { what })
    } else {
        Ok(())
    }
}

/// Starts with `/` and holds only unreserved characters and single `/`s: one pass over the
/// bytes (`str::contains("//")` set up a substring searcher on every request).
fn is_fixed_path(path: &str) -> bool {
    let mut previous = 0u8;
    path.starts_with('/')
        && path.bytes().all(|b| {
            let ok = if b == b'/' {
                previous != b'/'
            } else {
                is_unreserved(b)
            };
            previous = b;
            ok
        })
}

/// `.` and `..`: dot-segments, which RFC 3986 §5.2.4 removes when resolving a path.
fn is_dot_segment(raw: &str) -> bool {
    raw == "." || raw == ".."
}

/// `A-Z a-z 0-9 - . _ ~` (RFC 3986 unreserved).
#[cfg(target_pointer_width = "64")]
pub fn is_unreserved(byte: u8) -> bool {
    UNRESERVED.get(usize::from(byte)).copied().unwrap_or(false)
}

/// `A-Z a-z 0-9 - . _ ~` (RFC 3986 unreserved). On 32-bit targets (firmware) five
/// comparisons, not the 256-byte table: flash counts there, and a target is a few dozen bytes.
#[cfg(not(target_pointer_width = "64"))]
pub fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// [`is_unreserved`] for every byte: one load instead of five comparisons, for the fixed
/// path checked on every request and the values it encodes.
#[cfg(target_pointer_width = "64")]
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range is a build error, not a panic"
)]
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        byte += 1;
    }
    table
};

fn percent_escape(byte: u8) -> [u8; 3] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let hex = |nibble: u8| HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
    [b'%', hex(byte >> 4), hex(byte & 0x0F)]
}

/// Length of `text` once percent-encoded.
pub fn encoded_len(text: &str) -> usize {
    text.bytes()
        .map(|b| if is_unreserved(b) { 1 } else { 3 })
        .sum()
}

/// Decodes one percent-encoded component (a segment or a query value) into `out`.
///
/// Strict: `%` must be followed by two hex digits, and the result must be UTF-8. `+` stays `+`.
/// Servers (the emulator) and the fuzz round-trip use this; the client never decodes.
pub fn percent_decode<'o>(encoded: &str, out: &'o mut [u8]) -> Result<&'o str, Error> {
    let bytes = encoded.as_bytes();
    let mut len = 0usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        let decoded = if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|h| char::from(*h).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|h| char::from(*h).to_digit(16));
            match (hi, lo) {
                (Some(hi), Some(lo)) => {
                    i += 3;
                    // Two hex digits are at most 0xFF.
                    u8::try_from(hi * 16 + lo).unwrap_or(0)
                }
                _ => {
                    return Err(Error::InvalidInput {
                        what: "'%' not followed by two hex digits",
                    });
                }
            }
        } else {
            i += 1;
            b
        };
        if let Some(slot) = out.get_mut(len) {
            *slot = decoded;
        }
        len += 1;
    }
    if len > out.len() {
        return Err(Error::BufferTooSmall { needed: len });
    }
    core::str::from_utf8(out.get(..len).unwrap_or_default()).map_err(|_| Error::InvalidInput {
        what: "decoded text is not UTF-8",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2024::*;

    fn target(path: &str, segments: &[&str], query: &[(&str, &str)]) -> Result<String, Error> {
        let mut buf = [0u8; 512];
        let mut b = TargetBuilder::new(&mut buf, path);
        for s in segments {
            b = b.segment(s);
        }
        for (k, v) in query {
            b = b.query(k, v);
        }
        b.finish().map(String::from)
    }

    #[test]
    fn encoding_table() {
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("1234323JKHDFE1243252", "1234323JKHDFE1243252"),
            ("A-Z.a_z~09",           "A-Z.a_z~09"),
            ("a|b*c",                "a%7Cb%2Ac"),
            ("a/b?c#d%e",            "a%2Fb%3Fc%23d%25e"),
            ("PCT+a/b=c d",          "PCT%2Ba%2Fb%3Dc%20d"),
            ("授权码-001",            "%E6%8E%88%E6%9D%83%E7%A0%81-001"),
            ("a&b=c;d,e:f@g$h!i'j(k)", "a%26b%3Dc%3Bd%2Ce%3Af%40g%24h%21i%27j%28k%29"),
            ("\u{7f}\u{0}\n",        "%7F%00%0A"),
        ];
        for (raw, want) in cases {
            let got = target("/x", &[raw], &[]);
            assert_eq!(got.as_deref(), Ok(format!("/x/{want}").as_str()), "{raw}");
            assert_eq!(encoded_len(raw), want.len(), "{raw}");
            let mut out = [0u8; 128];
            assert_eq!(percent_decode(want, &mut out), Ok(*raw));
        }
    }

    #[test]
    fn unreserved_is_exactly_rfc3986() {
        const SET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        for byte in 0..=255u8 {
            assert_eq!(is_unreserved(byte), SET.contains(&byte), "{byte:#04x}");
        }
    }

    #[test]
    fn shared_vector_targets() {
        let prefix = "/v3/payscore/permissions/authorization-code";
        assert_eq!(
            target(prefix, &["PCT+a/b=c d"], &[("service_id", "500001")]).as_deref(),
            Ok("/v3/payscore/permissions/authorization-code/PCT%2Ba%2Fb%3Dc%20d?service_id=500001")
        );
        assert_eq!(
            target(
                prefix,
                &["1234323JKHDFE1243252"],
                &[("service_id", "500001"), ("note", "a b&c=d+e/f")]
            )
            .as_deref(),
            Ok(
                "/v3/payscore/permissions/authorization-code/1234323JKHDFE1243252?service_id=500001&note=a%20b%26c%3Dd%2Be%2Ff"
            )
        );
        assert_eq!(
            target(
                prefix,
                &["授权码-001"],
                &[("service_id", "500001"), ("reason", "测试 原因")]
            )
            .as_deref(),
            Ok(
                "/v3/payscore/permissions/authorization-code/%E6%8E%88%E6%9D%83%E7%A0%81-001?service_id=500001&reason=%E6%B5%8B%E8%AF%95%20%E5%8E%9F%E5%9B%A0"
            )
        );
    }

    #[test]
    fn refusals() {
        let bad = |what| Err(Error::InvalidInput { what });
        assert_eq!(target("/x", &[""], &[]), bad("path segment is empty"));
        assert_eq!(
            target("/x", &["."], &[]),
            bad("path segment is `.` or `..`")
        );
        assert_eq!(
            target("/x", &[".."], &[]),
            bad("path segment is `.` or `..`")
        );
        assert_eq!(
            target("/x", &["ok", ".."], &[]),
            bad("path segment is `.` or `..`")
        );
        assert_eq!(
            target("/x", &["🙂"], &[]),
            bad("characters outside the Basic Multilingual Plane are not accepted")
        );
        assert_eq!(
            target("x", &[], &[]),
            bad("fixed path must start with '/' and need no encoding")
        );
        assert_eq!(
            target("/a b", &[], &[]),
            bad("fixed path must start with '/' and need no encoding")
        );
        for path in ["", "/a b", "//", "/a//b", "/a/%41", "/a?b", "\\a"] {
            assert_eq!(
                target(path, &[], &[]),
                bad("fixed path must start with '/' and need no encoding"),
                "{path:?}"
            );
        }
        for path in ["/", "/a/", "/v3/pay-score_x.y~z/1"] {
            assert_eq!(target(path, &[], &[]), Ok(path.to_string()), "{path:?}");
        }
        assert_eq!(target("/x", &[], &[("", "v")]), bad("query key is empty"));
        let mut buf = [0u8; 64];
        let after_query = TargetBuilder::new(&mut buf, "/x")
            .query("a", "b")
            .segment("c");
        assert_eq!(
            after_query.finish(),
            Err(Error::InvalidInput {
                what: "path segment after the query"
            })
        );
    }

    #[test]
    fn named_segments() {
        let named = |raw: &str| {
            let mut buf = [0u8; 64];
            TargetBuilder::new(&mut buf, "/x")
                .named_segment("openid", raw)
                .segment("terminate")
                .finish()
                .map(String::from)
        };
        let refused = Err(Error::InvalidSegment { what: "openid" });
        #[rustfmt::skip]
        let cases: &[(&str, Result<&str, ()>)] = &[
            ("",      Err(())),
            (".",     Err(())),
            ("..",    Err(())),
            ("...",   Ok("/x/.../terminate")),
            (".a",    Ok("/x/.a/terminate")),
            ("a..",   Ok("/x/a../terminate")),
            ("../a",  Ok("/x/..%2Fa/terminate")),
            ("%2E%2E", Ok("/x/%252E%252E/terminate")),
            ("o1",    Ok("/x/o1/terminate")),
        ];
        for (raw, want) in cases {
            match want {
                Ok(t) => assert_eq!(named(raw).as_deref(), Ok(*t), "{raw:?}"),
                Err(()) => assert_eq!(named(raw), refused, "{raw:?}"),
            }
        }
        assert_eq!(
            check_segment("openid", ".."),
            Err(Error::InvalidSegment { what: "openid" })
        );
        assert_eq!(check_segment("openid", "o1"), Ok(()));
        assert_eq!(
            Error::InvalidSegment { what: "openid" }.to_string(),
            "invalid input: openid cannot be empty, `.` or `..` (it is a path segment)"
        );
    }

    #[test]
    fn buffer_too_small_is_exact() {
        let full = "/x/a%7Cb?k=v%20w";
        for size in 0..=full.len() + 1 {
            let mut buf = vec![0u8; size];
            let got = TargetBuilder::new(&mut buf, "/x")
                .segment("a|b")
                .query("k", "v w")
                .finish();
            if size >= full.len() {
                assert_eq!(got, Ok(full));
            } else {
                assert_eq!(got, Err(Error::BufferTooSmall { needed: full.len() }));
            }
        }
    }

    #[test]
    fn decode_refusals() {
        let mut out = [0u8; 8];
        assert!(percent_decode("%4", &mut out).is_err());
        assert!(percent_decode("%G0", &mut out).is_err());
        assert!(percent_decode("%FF", &mut out).is_err());
        assert_eq!(percent_decode("a+b", &mut out), Ok("a+b"));
        assert_eq!(
            percent_decode("abcdefghij", &mut out),
            Err(Error::BufferTooSmall { needed: 10 })
        );
    }
}
