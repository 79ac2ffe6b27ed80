//! The response table every HTTP/1.1 reader of the workspace must pass (the blocking adapter's
//! `responses.rs`, and its async twin `wxpay-embedded-io-async` through a `#[path]` include),
//! and the signed requests that make the emulator produce each kind of its responses.

use std::sync::OnceLock;

use embedded_io::ErrorKind;
use wxpay_core::api::permissions;
use wxpay_core::crypto::rsa::RsaSigner;
use wxpay_core::sign::{self, AUTHORIZATION_CAPACITY, SigningInput};
use wxpay_core::{Method, TargetBuilder};
use wxpay_embedded_io::{DEFAULT_MAX_HEADERS, Error, RECOMMENDED_SCRATCH_LEN};
use wxpay_emulator::HttpRequest;

use super::*;

/// What a case must give: `Ok((status, body, reusable))` or the error.
pub type Want = Result<(u16, Vec<u8>, bool), Error<ErrorKind>>;

pub struct Case {
    pub name: &'static str,
    pub raw: Vec<u8>,
    pub want: Want,
}

fn ok(status: u16, body: &str, reusable: bool) -> Want {
    Ok((status, body.as_bytes().to_vec(), reusable))
}

fn raw(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

/// The table. Signed responses cost an RSA signature each, so it is built once.
pub fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(build_cases)
}

fn build_cases() -> Vec<Case> {
    let short = r#"{"service_id":"500001","appid":"wx1","mchid":"1230000109"}"#;
    let not_found = r#"{"code":"ORDER_NOT_EXIST","message":"no record"}"#;
    // Split "微" (E5 BE AE) after its first byte, and "付" after its second.
    let wei = RECORD.find('微').expect("has 微");
    let fu = RECORD.find('付').expect("has 付");
    let utf8_split = [wei + 1, fu + 2 - (wei + 1)];
    let signed_record = signed_headers(RECORD.as_bytes());
    let big = "x".repeat(BODY_LEN + 1);
    let many_headers: Vec<(String, String)> = (0..DEFAULT_MAX_HEADERS)
        .map(|i| (format!("X-Filler-{i}"), "1".to_owned()))
        .collect();
    let long_header = vec![("X-Long".to_owned(), "y".repeat(RECOMMENDED_SCRATCH_LEN))];
    let record_200 = signed_200(RECORD, Framing::Length);
    let continue_then = |n: usize| {
        let mut out = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(n);
        out.extend_from_slice(&signed_200(short, Framing::Length));
        out
    };
    let mut stray = signed_200(short, Framing::Length);
    stray.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    let mut chunked_stray = signed_200(short, Framing::Chunked(&[10]));
    chunked_stray.extend_from_slice(b"junk");
    let truncated_length = {
        let mut r = record_200.clone();
        r.truncate(r.len() - 7);
        r
    };
    let truncated_chunked = {
        let mut r = signed_200(RECORD, Framing::Chunked(&utf8_split));
        r.truncate(r.len() - 5); // the last chunk line `0\r\n\r\n`
        r
    };
    let length_header = |value: &str| {
        http(
            "200 OK",
            &[("Content-Length".to_owned(), value.to_owned())],
            short.as_bytes(),
            Framing::Length,
        )
    };

    #[rustfmt::skip]
    let cases = vec![
        // Successes.
        Case { name: "200 length",               raw: record_200.clone(),                                              want: ok(200, RECORD, true) },
        Case { name: "200 chunked, split UTF-8", raw: signed_200(RECORD, Framing::Chunked(&utf8_split)),               want: ok(200, RECORD, true) },
        Case { name: "200 one-byte chunks",      raw: signed_200(short, Framing::Chunked(&[1; 64])),                   want: ok(200, short, true) },
        Case { name: "200 until close",          raw: signed_200(short, Framing::Close),                               want: ok(200, short, false) },
        Case { name: "204 terminate",            raw: http("204 No Content", &signed_headers(b""), b"", Framing::Length), want: ok(204, "", true) },
        Case { name: "404 unsigned, close",      raw: http("404 Not Found", &[], not_found.as_bytes(), Framing::Close), want: ok(404, not_found, false) },
        Case { name: "500 chunked",              raw: http("500 Internal Server Error", &[], b"{\"code\":\"SYSTEM_ERROR\"}", Framing::Chunked(&[3])), want: ok(500, "{\"code\":\"SYSTEM_ERROR\"}", true) },
        Case { name: "100 continue first",       raw: continue_then(2),                                                want: ok(200, short, true) },
        Case { name: "HTTP/1.0",                 raw: raw(&String::from_utf8_lossy(&signed_200(short, Framing::Length)).replacen("HTTP/1.1", "HTTP/1.0", 1)), want: ok(200, short, false) },
        Case { name: "chunk ext and trailer",    raw: raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\n{}\r\n0\r\nX-T: 1\r\n\r\n"), want: ok(200, "{}", true) },
        Case { name: "empty lines first",        raw: raw("\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), want: ok(200, "{}", true) },
        Case { name: "bare LF line ends",        raw: raw("HTTP/1.1 200 OK\nContent-Length: 2\n\n{}"),               want: ok(200, "{}", true) },
        Case { name: "repeated equal length",    raw: raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}"), want: ok(200, "{}", true) },
        Case { name: "stray bytes after length", raw: stray,                                                           want: ok(200, short, false) },
        Case { name: "stray bytes after chunks", raw: chunked_stray,                                                   want: ok(200, short, false) },
        Case { name: "body exactly fits",        raw: http("200 OK", &[], &big.as_bytes()[1..], Framing::Length),   want: Ok((200, big.as_bytes()[1..].to_vec(), true)) },
        Case { name: "close-delimited fits",     raw: http("200 OK", &[], &big.as_bytes()[1..], Framing::Close),    want: Ok((200, big.as_bytes()[1..].to_vec(), false)) },
        // Truncated and early close.
        Case { name: "nothing",                  raw: vec![],                                                          want: Err(Error::Closed) },
        Case { name: "head cut short",           raw: record_200[..40].to_vec(),                                       want: Err(Error::Truncated) },
        Case { name: "length body cut short",    raw: truncated_length,                                                want: Err(Error::Truncated) },
        Case { name: "chunked body cut short",   raw: truncated_chunked,                                               want: Err(Error::Truncated) },
        Case { name: "only 100 continue",        raw: raw("HTTP/1.1 100 Continue\r\n\r\n"),                          want: Err(Error::Truncated) },
        // Oversized.
        Case { name: "length too large",         raw: http("200 OK", &[], big.as_bytes(), Framing::Length),          want: Err(Error::BodyTooLarge { needed: Some(BODY_LEN + 1) }) },
        Case { name: "huge length",              raw: raw("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"), want: Err(Error::MalformedFraming) },
        Case { name: "chunked too large",        raw: http("200 OK", &[], big.as_bytes(), Framing::Chunked(&[1000])), want: Err(Error::BodyTooLarge { needed: None }) },
        Case { name: "close-delimited too large", raw: http("200 OK", &[], big.as_bytes(), Framing::Close),          want: Err(Error::BodyTooLarge { needed: None }) },
        Case { name: "head too large",           raw: http("200 OK", &long_header, b"{}", Framing::Length),          want: Err(Error::HeadTooLarge { limit: RECOMMENDED_SCRATCH_LEN }) },
        Case { name: "too many headers",         raw: http("200 OK", &many_headers, b"{}", Framing::Length),         want: Err(Error::TooManyHeaders { limit: DEFAULT_MAX_HEADERS }) },
        Case { name: "trailer too large",        raw: raw(&format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: {}\r\n\r\n", "t".repeat(RECOMMENDED_SCRATCH_LEN))), want: Err(Error::HeadTooLarge { limit: RECOMMENDED_SCRATCH_LEN }) },
        Case { name: "too many 100 continue",    raw: continue_then(5),                                                want: Err(Error::MalformedFraming) },
        // Malformed.
        Case { name: "not HTTP",                 raw: raw("hello there\r\n\r\n"),                                     want: Err(Error::MalformedHead) },
        // Found by the http_response fuzz target: whole reads said MalformedHead, small ones Truncated.
        Case { name: "empty lines, then garbage", raw: raw("\n\n\n{}"),                                            want: Err(Error::Truncated) },
        Case { name: "empty lines, then not HTTP", raw: raw("\r\n\r\nhello there\r\n\r\n"),                    want: Err(Error::MalformedHead) },
        Case { name: "bad status code",          raw: raw("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"),           want: Err(Error::MalformedHead) },
        // Found by the http_response fuzz target: "050" came back as status 50.
        Case { name: "status below 100",         raw: raw("HTTP/1.1 050 Continue\r\nContent-Length: 0\r\n\r\n"),   want: Err(Error::MalformedHead) },
        Case { name: "HTTP/2 status line",       raw: raw("HTTP/2 200\r\n\r\n"),                                      want: Err(Error::MalformedHead) },
        Case { name: "space in header name",     raw: raw("HTTP/1.1 200 OK\r\nContent Length: 2\r\n\r\n{}"),        want: Err(Error::MalformedHead) },
        Case { name: "CR without LF",            raw: raw("HTTP/1.1 200 OK\rContent-Length: 2\r\n\r\n{}"),           want: Err(Error::MalformedHead) },
        Case { name: "length not a number",      raw: length_header("abc"),                                            want: Err(Error::MalformedFraming) },
        Case { name: "conflicting lengths",      raw: raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"), want: Err(Error::MalformedFraming) },
        Case { name: "length and chunked",       raw: raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"), want: Err(Error::MalformedFraming) },
        Case { name: "gzip coding",              raw: raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), want: Err(Error::MalformedFraming) },
        Case { name: "bad chunk size",           raw: raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"), want: Err(Error::MalformedChunk) },
        Case { name: "chunk longer than said",   raw: raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{}\r\n0\r\n\r\n"), want: Err(Error::MalformedChunk) },
    ];
    // The signed record must really be signed, or the prefix checks prove nothing.
    assert!(
        signed_record
            .iter()
            .any(|(n, _)| n == "Wechatpay-Signature")
    );
    cases
}

/// Signs a request as the demo merchant at [`NOW`], the way the emulator expects it.
pub fn emulator_request(method: Method, target: &str, body: &str) -> HttpRequest {
    let mut signer = RsaSigner::from_pem(MERCHANT_KEY, MERCHANT_SERIAL).expect("merchant key");
    let mut header = [0u8; AUTHORIZATION_CAPACITY];
    let input = SigningInput {
        mchid: MCHID,
        method,
        target,
        body: body.as_bytes(),
        timestamp: NOW as u64,
        nonce: NONCE,
    };
    let authorization = sign::authorization(&mut signer, &input, &mut header).expect("signs");
    HttpRequest {
        method: method.as_str().to_owned(),
        target: target.to_owned(),
        headers: vec![
            ("Authorization".into(), authorization.to_owned()),
            ("Accept".into(), "application/json".into()),
            ("User-Agent".into(), "wxpay-embedded-io tests".into()),
        ],
        body: body.as_bytes().to_vec(),
    }
}

pub fn query(code: &str) -> HttpRequest {
    let mut buf = [0u8; permissions::TARGET_CAPACITY];
    // Built by hand, not by the typed call: the CJK case is outside the documented charset
    // (which the typed call enforces), and the emulator still answers it.
    let target = TargetBuilder::new(&mut buf, permissions::BY_CODE_PATH)
        .segment(code)
        .query("service_id", "500001")
        .finish()
        .expect("target");
    emulator_request(Method::Get, target, "")
}

/// Requests that make the emulator produce every kind of response it has: (name, request,
/// whether the answer must verify).
pub fn emulator_requests() -> Vec<(&'static str, HttpRequest, bool)> {
    let pre_authorise = emulator_request(
        Method::Post,
        permissions::PERMISSIONS_PATH,
        r#"{"service_id":"500001","appid":"wxd678efh567hg6787","authorization_code":"EIO-1"}"#,
    );
    let terminate = |code: &str| {
        let mut buf = [0u8; permissions::TARGET_CAPACITY];
        let target = TargetBuilder::new(&mut buf, permissions::BY_CODE_PATH)
            .segment(code)
            .segment("terminate")
            .finish()
            .expect("target");
        emulator_request(
            Method::Post,
            target,
            r#"{"service_id":"500001","reason":"测试"}"#,
        )
    };
    #[rustfmt::skip]
    let requests: Vec<(&'static str, HttpRequest, bool)> = vec![
        ("record",                   query("1234323JKHDFE1243252"),      true),
        ("CJK record",               query("授权码-001"),                 true),
        ("404 ORDER_NOT_EXIST",      query("NEVER_AUTHORISED"),          true),
        ("pre-authorise token",      pre_authorise,                      true),
        ("204 terminate",            terminate("1234323JKHDFE1243252"),  true),
        ("400 terminate twice",      terminate("1234323JKHDFE1243252"),  true),
        ("chunked split UTF-8",      query("FAULT_CHUNKED_SPLIT_UTF8"),  true),
        ("oversize field",           query("FAULT_OVERSIZE_FIELD"),      true),
        ("non-JSON body",            query("FAULT_NON_JSON_BODY"),       true),
        ("500 SYSTEM_ERROR",         query("FAULT_SYSTEM_ERROR"),        true),
        ("503 unsigned",             query("FAULT_UNSIGNED_ERROR"),      false),
        ("bad signature",            query("FAULT_BAD_SIGNATURE"),       false),
        ("unknown serial",           query("FAULT_UNKNOWN_SERIAL"),      false),
        ("stale timestamp",          query("FAULT_STALE_TIMESTAMP"),     false),
        ("SIGNTEST probe",           query("FAULT_SIGNTEST_PROBE"),      false),
        ("truncated body",           query("FAULT_TRUNCATED_BODY"),      false),
        ("401 SIGN_ERROR",           { let mut r = query("x"); r.target.push('x'); r }, true),
    ];
    requests
}
