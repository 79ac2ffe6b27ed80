//! Shared by the adapter's integration tests: demo keys, correctly signed responses, a scripted
//! peer whose reads return 1..N bytes, and the invariants every response must keep.
#![allow(dead_code)]

pub mod cases;

use std::sync::OnceLock;

use base64ct::{Base64, Encoding};
use embedded_io::ErrorKind;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::sign::Signer;
use wxpay_core::transport::{Method, Request, ResponseHeaders, Transport, USER_AGENT};
use wxpay_core::verify::{self, PlatformKeys};
use wxpay_embedded_io::{Error, HttpClient, RECOMMENDED_SCRATCH_LEN};

pub const PLATFORM_KEY: &str = include_str!("../../../emulator/keys/platform_key.pem");
pub const PLATFORM_PUB: &str = include_str!("../../../emulator/keys/platform_pub.pem");
pub const MERCHANT_KEY: &str = include_str!("../../../emulator/keys/merchant_key.pem");
pub const MERCHANT_PUB: &str = include_str!("../../../emulator/keys/merchant_pub.pem");
pub const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000001";
pub const MCHID: &str = "1230000109";
pub const MERCHANT_SERIAL: &str = "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29";
pub const HOST: &str = "api.mch.weixin.qq.com";
/// The clock of every test, and the timestamp every response is signed at.
pub const NOW: i64 = 1_700_000_000;
pub const NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
/// Body buffer the tests hand the transport (the core's documented size for a record).
pub const BODY_LEN: usize = 2048;

/// A record with a multi-byte character, so chunk boundaries can split one.
pub const RECORD: &str = r#"{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1230000109","openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","authorization_code":"1234323JKHDFE1243252","authorization_state":"AVAILABLE","notify_url":"https://api.test.com","authorization_success_time":"2015-05-20T13:29:35+08:00","remark":"微信支付分"}"#;

/// `Wechatpay-Signature` for `body`, signed by the emulator's platform key at [`NOW`].
pub fn platform_signature(body: &[u8]) -> String {
    let mut signer = RsaSigner::from_pem(PLATFORM_KEY, PUB_KEY_ID).expect("platform key");
    let digest = verify::response_digest(&NOW.to_string(), NONCE, body);
    let mut signature = [0u8; 256];
    signer.sign_prehash(&digest, &mut signature).expect("signs");
    Base64::encode_string(&signature)
}

/// The five `Wechatpay-*` headers of a correctly signed response, and a `Request-ID`.
pub fn signed_headers(body: &[u8]) -> Vec<(String, String)> {
    [
        ("Request-ID", "08F78BB5AF0610D302A5C1C2E0A7B3B5"),
        ("Wechatpay-Nonce", NONCE),
        ("Wechatpay-Serial", PUB_KEY_ID),
        ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
        ("Wechatpay-Timestamp", &NOW.to_string()),
        ("Wechatpay-Signature", &platform_signature(body)),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect()
}

/// How a built response delimits its body.
#[derive(Debug, Clone, Copy)]
pub enum Framing<'a> {
    /// `Content-Length`.
    Length,
    /// `Transfer-Encoding: chunked`, chunks of these sizes, then one with the rest.
    Chunked(&'a [usize]),
    /// No length: the body ends when the peer closes.
    Close,
}

/// A raw HTTP/1.1 response: status line, the headers, framing headers, body.
pub fn http(
    status: &str,
    headers: &[(String, String)],
    body: &[u8],
    framing: Framing<'_>,
) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nServer: nginx\r\nContent-Type: application/json; charset=utf-8\r\n"
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    match framing {
        Framing::Length => out.push_str(&format!("Content-Length: {}\r\n", body.len())),
        Framing::Chunked(_) => out.push_str("Transfer-Encoding: chunked\r\n"),
        Framing::Close => out.push_str("Connection: close\r\n"),
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    match framing {
        Framing::Chunked(sizes) => {
            let mut rest = body;
            for &size in sizes.iter().chain(std::iter::once(&usize::MAX)) {
                let (chunk, tail) = rest.split_at(size.min(rest.len()));
                if !chunk.is_empty() {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                rest = tail;
            }
            out.extend_from_slice(b"0\r\n\r\n");
        }
        _ => out.extend_from_slice(body),
    }
    out
}

/// A correctly signed 200 with `body`.
pub fn signed_200(body: &str, framing: Framing<'_>) -> Vec<u8> {
    http(
        "200 OK",
        &signed_headers(body.as_bytes()),
        body.as_bytes(),
        framing,
    )
}

/// What one exchange gave, in a form tests can compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchanged {
    pub status: u16,
    pub headers: ResponseHeaders,
    pub body: Vec<u8>,
    pub reusable: bool,
}

pub type Outcome = Result<Exchanged, Error<ErrorKind>>;

/// A scripted peer. Reads return at most `pattern[i % len]` bytes on the i-th call (so
/// 1..N bytes at a time), then 0 once the script is over: the peer closed. Writes are kept.
#[derive(Debug)]
pub struct Peer {
    script: Vec<u8>,
    at: usize,
    pattern: Vec<usize>,
    reads: usize,
    pub written: Vec<u8>,
    /// Fail the read after this many bytes were handed out.
    pub fail_at: Option<usize>,
}

impl Peer {
    pub fn new(script: &[u8], pattern: &[usize]) -> Self {
        Peer {
            script: script.to_vec(),
            at: 0,
            pattern: pattern.to_vec(),
            reads: 0,
            written: Vec::new(),
            fail_at: None,
        }
    }

    /// Reads of 1, 2, …, `max` bytes, round and round.
    pub fn cycling(script: &[u8], max: usize) -> Self {
        Self::new(script, &(1..=max).collect::<Vec<_>>())
    }
}

impl embedded_io::ErrorType for Peer {
    type Error = ErrorKind;
}

impl embedded_io::Read for Peer {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        if self.fail_at.is_some_and(|at| self.at >= at) {
            return Err(ErrorKind::ConnectionReset);
        }
        let step = self.pattern[self.reads % self.pattern.len()].max(1);
        self.reads += 1;
        let n = buf.len().min(step).min(self.script.len() - self.at);
        buf[..n].copy_from_slice(&self.script[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl embedded_io::Write for Peer {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// A GET as the core's client would send it (signature not checked by these tests' peers).
pub fn get_request() -> Request<'static> {
    Request {
        method: Method::Get,
        target: "/v3/payscore/permissions/authorization-code/1234323JKHDFE1243252?service_id=500001",
        authorization: "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"n\",timestamp=\"1\",serial_no=\"S\",signature=\"s\"",
        user_agent: USER_AGENT,
        wechatpay_serial: Some(PUB_KEY_ID),
        body: b"",
    }
}

/// Sends one GET to `peer` and reads the answer.
pub fn exchange_with(peer: Peer) -> Outcome {
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let mut http: HttpClient<'_, Peer> = HttpClient::new(peer, HOST, &mut scratch);
    let mut body = vec![0u8; BODY_LEN];
    let head = http.execute(&get_request(), &mut body)?;
    body.truncate(head.body_len);
    Ok(Exchanged {
        status: head.status,
        headers: head.headers,
        body,
        reusable: http.is_reusable(),
    })
}

/// True if the body's signature verifies with the emulator's platform key at [`NOW`].
pub fn verifies(exchanged: &Exchanged) -> bool {
    static KEYS: OnceLock<PlatformKeys<RsaVerifier>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let key = RsaVerifier::from_pem(PLATFORM_PUB).expect("platform public key");
        PlatformKeys::with_key(PUB_KEY_ID, key).expect("fits")
    });
    verify::verify_response(keys, &exchanged.headers, &exchanged.body, NOW).is_ok()
}

/// Largest read size the split test cycles up to.
pub const MAX_SPLIT: usize = 9;

/// Checks what the adapter promises for any raw response, and returns its outcome:
///
/// - Reads of 1..N bytes give the same outcome as whole reads, for every N up to
///   [`MAX_SPLIT`] and for reads the size of the buffer.
/// - Every strict prefix, after which the peer closes, is an error; or the whole message (when
///   only stray bytes after it were cut); or, only for a body that runs until close, a success
///   that is not reusable, whose body is a strict prefix of the whole one and whose signature
///   does not verify. Never a partial success.
///
/// `stray_tail`: bytes follow the message. Whether a read brings them in (and so whether the
/// connection counts as reusable) depends on how the reads fall, so `reusable` is not
/// compared across read sizes then.
pub fn check_response(name: &str, raw: &[u8], stray_tail: bool) -> Outcome {
    let whole = exchange_with(Peer::new(raw, &[usize::MAX]));
    let mask = |outcome: Outcome| {
        outcome.map(|mut e| {
            e.reusable &= !stray_tail;
            e
        })
    };
    for max in 1..=MAX_SPLIT {
        assert_eq!(
            mask(exchange_with(Peer::cycling(raw, max))),
            mask(whole.clone()),
            "{name}: reads of 1..={max} bytes"
        );
    }
    for len in 0..raw.len() {
        let prefix = exchange_with(Peer::cycling(&raw[..len], 5));
        match (&prefix, &whole) {
            (Err(Error::Closed), _) => assert_eq!(len, 0, "{name}: Closed after {len} bytes"),
            (Err(_), _) => {}
            // The whole message arrived; only bytes after it were cut off.
            (Ok(part), Ok(full))
                if (part.status, &part.headers, &part.body)
                    == (full.status, &full.headers, &full.body) => {}
            (Ok(part), Ok(full)) => {
                assert!(!part.reusable, "{name}: prefix {len} is reusable");
                assert!(
                    part.body.len() < full.body.len() && full.body.starts_with(&part.body),
                    "{name}: prefix {len} gave a body that is not a strict prefix"
                );
                assert!(
                    !part.headers.has_signature_headers() || !verifies(part),
                    "{name}: prefix {len} verified"
                );
            }
            (Ok(part), Err(_)) => {
                assert!(
                    !part.reusable,
                    "{name}: prefix {len} of a failing response is reusable"
                );
                assert!(
                    !part.headers.has_signature_headers() || !verifies(part),
                    "{name}: prefix {len} of a failing response verified"
                );
            }
        }
        if len == 0 {
            assert_eq!(prefix, Err(Error::Closed), "{name}: nothing at all");
        }
    }
    whole
}
