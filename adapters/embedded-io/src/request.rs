//! The request head, written byte for byte into a caller buffer.

use wxpay_core::transport::{Method, Request};

use crate::error::Error;

/// Writes the HTTP/1.1 request head for `request` into `out` and returns its length.
///
/// ```text
/// GET {target exactly as signed} HTTP/1.1
/// Host: {host}
/// Authorization: … / Accept: application/json / User-Agent: … / [Content-Type] / [Wechatpay-Serial]
/// [Content-Length: {body length}]      (when there is a body, and always for POST, PUT, PATCH)
/// ```
///
/// The target is never re-encoded: it went into the signature as it is and goes on the wire
/// as it is. Values holding a line break, a control character (or, for the target and `Host`,
/// a space) are refused rather than sent. When `out` is too small, the error says how large
/// it must be.
pub fn write_request_head<E>(
    out: &mut [u8],
    host: &str,
    request: &Request<'_>,
) -> Result<usize, Error<E>> {
    if !request.target.starts_with('/') || !is_token_text(request.target) {
        return Err(Error::InvalidRequest { what: "target" });
    }
    if !is_token_text(host) {
        return Err(Error::InvalidRequest { what: "Host" });
    }
    let mut w = Cursor { out, len: 0 };
    w.put(request.method.as_str().as_bytes());
    w.put(b" ");
    w.put(request.target.as_bytes());
    w.put(b" HTTP/1.1\r\nHost: ");
    w.put(host.as_bytes());
    w.put(b"\r\n");
    for (name, value) in request.headers() {
        if !is_field_value(value) {
            return Err(Error::InvalidRequest { what: name });
        }
        w.put(name.as_bytes());
        w.put(b": ");
        w.put(value.as_bytes());
        w.put(b"\r\n");
    }
    let has_body = !request.body.is_empty()
        || matches!(request.method, Method::Post | Method::Put | Method::Patch);
    if has_body {
        w.put(b"Content-Length: ");
        w.put_decimal(request.body.len());
        w.put(b"\r\n");
    }
    w.put(b"\r\n");
    if w.len > w.out.len() {
        Err(Error::RequestTooLarge { needed: w.len })
    } else {
        Ok(w.len)
    }
}

/// Writes the request head into `scratch` and returns the bytes to send, in order: the head
/// with the body after it when both fit in `scratch` (one write, one TLS record), else the head
/// and then the body. The second slice may be empty. Errors as [`write_request_head`].
pub fn request_bytes<'x, E>(
    scratch: &'x mut [u8],
    host: &str,
    request: &Request<'x>,
) -> Result<[&'x [u8]; 2], Error<E>> {
    let head_len = write_request_head(scratch, host, request)?;
    let all = head_len.checked_add(request.body.len());
    match all.filter(|all| *all <= scratch.len()) {
        Some(all) => {
            if let Some(tail) = scratch.get_mut(head_len..all) {
                tail.copy_from_slice(request.body);
            }
            Ok([scratch.get(..all).unwrap_or_default(), &[]])
        }
        None => Ok([scratch.get(..head_len).unwrap_or_default(), request.body]),
    }
}

/// Visible ASCII only: no space, no control character.
fn is_token_text(text: &str) -> bool {
    !text.is_empty() && all_bytes(text.as_bytes(), b'!', false)
}

/// A header value: visible ASCII, spaces and tabs; no CR, LF or other control character.
fn is_field_value(text: &str) -> bool {
    all_bytes(text.as_bytes(), b' ', true)
}

/// True when every byte lies in `low..=b'~'` (`low` at most 0x80), or is a tab if `tab`.
/// Four bytes at a time: a word whose bytes all lie in the range needs no closer look, any
/// other word is checked byte by byte. The `Authorization` value alone is about 500 bytes,
/// checked on every request: a byte at a time cost 9 instructions per byte on a Cortex-M4, a
/// word at a time about 2.
fn all_bytes(bytes: &[u8], low: u8, tab: bool) -> bool {
    let ok = |b: u8| (tab && b == b'\t') || (low..=b'~').contains(&b);
    const ONES: u32 = 0x0101_0101;
    const HIGH: u32 = 0x8080_8080;
    let below = ONES * u32::from(low);
    let mut words = bytes.chunks_exact(4);
    for word in &mut words {
        let Ok(four) = <[u8; 4]>::try_from(word) else {
            return false;
        };
        let x = u32::from_le_bytes(four);
        // Some byte below `low` (exact as a yes/no for `low` <= 0x80), or above 0x7E.
        let has_low = x.wrapping_sub(below) & !x & HIGH;
        let has_high = (x.wrapping_add(ONES) | x) & HIGH;
        if (has_low | has_high) != 0 && !four.iter().all(|&b| ok(b)) {
            return false;
        }
    }
    words.remainder().iter().all(|&b| ok(b))
}

/// Appends while there is room, and keeps counting past it so the error can say how much room
/// the whole head needs.
struct Cursor<'o> {
    out: &'o mut [u8],
    len: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }

    fn put_decimal(&mut self, mut value: usize) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            if let Some(d) = digits.get_mut(start) {
                // `value % 10` is below 10, so the cast is exact.
                *d = b'0' + (value % 10) as u8;
            }
            value /= 10;
            if value == 0 || start == 0 {
                break;
            }
        }
        self.put(digits.get(start..).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2024::*;
    use wxpay_core::transport::USER_AGENT;

    type E = Error<()>;

    fn get() -> Request<'static> {
        Request {
            method: Method::Get,
            target: "/v3/payscore/permissions/authorization-code/a%7Cb?service_id=5",
            authorization: "WECHATPAY2-SHA256-RSA2048 mchid=\"1\"",
            user_agent: USER_AGENT,
            wechatpay_serial: Some("PUB_KEY_ID_1"),
            body: b"",
        }
    }

    fn head(request: &Request<'_>) -> Result<String, E> {
        let mut out = [0u8; 1024];
        let n = write_request_head(&mut out, "api.mch.weixin.qq.com", request)?;
        Ok(String::from_utf8_lossy(&out[..n]).into_owned())
    }

    #[test]
    fn get_head_exactly() {
        assert_eq!(
            head(&get()),
            Ok(format!(
                "GET /v3/payscore/permissions/authorization-code/a%7Cb?service_id=5 HTTP/1.1\r\n\
                 Host: api.mch.weixin.qq.com\r\n\
                 Authorization: WECHATPAY2-SHA256-RSA2048 mchid=\"1\"\r\n\
                 Accept: application/json\r\n\
                 User-Agent: {USER_AGENT}\r\n\
                 Wechatpay-Serial: PUB_KEY_ID_1\r\n\r\n"
            ))
        );
    }

    #[test]
    fn post_carries_length_and_type() {
        let mut post = get();
        post.method = Method::Post;
        post.body = br#"{"reason":"x"}"#;
        let text = head(&post).unwrap_or_default();
        assert!(text.starts_with("POST "), "{text}");
        assert!(
            text.ends_with("Content-Type: application/json\r\nWechatpay-Serial: PUB_KEY_ID_1\r\nContent-Length: 14\r\n\r\n"),
            "{text}"
        );
        post.body = b"";
        assert!(
            head(&post)
                .unwrap_or_default()
                .contains("Content-Length: 0\r\n")
        );
        let mut decimal = Cursor {
            out: &mut [0u8; 32],
            len: 0,
        };
        for n in [0, 7, 10, 1234567890, usize::MAX] {
            decimal.len = 0;
            decimal.put_decimal(n);
            assert_eq!(&decimal.out[..decimal.len], n.to_string().as_bytes());
        }
    }

    /// The word-at-a-time checks agree with the byte-at-a-time definitions for every byte
    /// value at every position of a word and in the tail, among edge-value neighbours.
    #[test]
    fn byte_checks_match_their_definitions() {
        let field = |b: u8| b == b'\t' || (b' '..=b'~').contains(&b);
        for (len, background) in
            (1..=9).flat_map(|n| [b'a', b' ', b'!', b'~', 0x1f].map(|c| (n, c)))
        {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut text = vec![background; len];
                    text[at] = b;
                    let bytes = text.as_slice();
                    assert_eq!(
                        all_bytes(bytes, b' ', true),
                        bytes.iter().all(|&b| field(b)),
                        "field {bytes:?}"
                    );
                    assert_eq!(
                        all_bytes(bytes, b'!', false),
                        bytes.iter().all(u8::is_ascii_graphic),
                        "token {bytes:?}"
                    );
                }
            }
        }
        assert!(all_bytes(b"", b' ', true));
        assert!(is_field_value("a\tb c~"));
        assert!(!is_field_value("a\r\nb"));
        assert!(!is_field_value("caf\u{e9}"));
        assert!(!is_token_text(""));
        assert!(!is_token_text("/a b"));
    }

    #[test]
    fn refuses_injection() {
        #[rustfmt::skip]
        let cases: &[(fn(&mut Request<'static>), &str)] = &[
            (|r| r.target = "/v3/x y",                 "target"),
            (|r| r.target = "v3/x",                    "target"),
            (|r| r.target = "/v3/x\r\nX-Evil: 1",      "target"),
            (|r| r.authorization = "A\r\nX-Evil: 1",   "Authorization"),
            (|r| r.user_agent = "ua\n",                "User-Agent"),
            (|r| r.wechatpay_serial = Some("K\x00"),   "Wechatpay-Serial"),
        ];
        for (edit, what) in cases {
            let mut r = get();
            edit(&mut r);
            assert_eq!(head(&r), Err(Error::InvalidRequest { what }), "{what}");
        }
        let mut out = [0u8; 64];
        assert_eq!(
            write_request_head::<()>(&mut out, "host name", &get()),
            Err(Error::InvalidRequest { what: "Host" })
        );
    }

    #[test]
    fn too_small_says_exactly_how_much() {
        let full = head(&get()).unwrap_or_default();
        for len in [0, 1, 40, full.len() - 1] {
            let mut out = vec![0u8; len];
            assert_eq!(
                write_request_head::<()>(&mut out, "api.mch.weixin.qq.com", &get()),
                Err(Error::RequestTooLarge { needed: full.len() })
            );
        }
        let mut exact = vec![0u8; full.len()];
        assert_eq!(
            write_request_head::<()>(&mut exact, "api.mch.weixin.qq.com", &get()),
            Ok(full.len())
        );
    }
}
