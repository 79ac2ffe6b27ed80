//! The embedded-io adapter's HTTP/1.1 response reader, fed the fuzz input as the peer's bytes.

use std::vec::Vec;

use embedded_io::ErrorKind;
use wxpay_core::transport::{Method, Request, ResponseHeaders, Transport, USER_AGENT};
use wxpay_embedded_io::{Error, HttpClient, write_request_head};

/// Header lines the client under test holds: small, so the limit is within the fuzzer's reach.
pub const FUZZ_MAX_HEADERS: usize = 8;

/// The `Host` the client sends.
const HOST: &str = "api.mch.weixin.qq.com";

/// How the peer's `read`s fall.
#[derive(Debug, Clone, Copy)]
enum Reads {
    /// As much as the buffer takes.
    Whole,
    /// One byte per call.
    Ones,
    /// 1..=`max` bytes per call, drawn from a xorshift generator.
    Random { state: u32, max: u32 },
}

impl Reads {
    /// The schedule a seed byte picks: 0 reads whole, others draw sizes up to 1..=32.
    fn from_seed(seed: u8) -> Self {
        match seed {
            0 => Reads::Whole,
            _ => Reads::Random {
                state: u32::from(seed).wrapping_mul(0x9E37_79B9) | 1,
                max: 1 + u32::from(seed % 32),
            },
        }
    }

    fn next(&mut self) -> usize {
        match self {
            Reads::Whole => usize::MAX,
            Reads::Ones => 1,
            Reads::Random { state, max } => {
                *state ^= *state << 13;
                *state ^= *state >> 17;
                *state ^= *state << 5;
                (1 + *state % *max) as usize
            }
        }
    }
}

/// The peer: hands out `script` as `reads` decides, then closes (or fails, with `fail_at_end`).
/// Accepts every write.
#[derive(Debug)]
struct Peer<'s> {
    script: &'s [u8],
    at: usize,
    reads: Reads,
    fail_at_end: bool,
    written: usize,
}

impl<'s> Peer<'s> {
    fn new(script: &'s [u8], reads: Reads) -> Self {
        Peer {
            script,
            at: 0,
            reads,
            fail_at_end: false,
            written: 0,
        }
    }
}

impl embedded_io::ErrorType for Peer<'_> {
    type Error = ErrorKind;
}

impl embedded_io::Read for Peer<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let rest = self.script.get(self.at..).unwrap_or_default();
        if rest.is_empty() && self.fail_at_end && !buf.is_empty() {
            return Err(ErrorKind::ConnectionReset);
        }
        let n = buf.len().min(rest.len()).min(self.reads.next());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

impl embedded_io::Write for Peer<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.written += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// What one exchange gave, comparable across read schedules.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Exchanged {
    status: u16,
    headers: ResponseHeaders,
    body: Vec<u8>,
    reusable: bool,
}

type Outcome = Result<Exchanged, Error<ErrorKind>>;

fn request() -> Request<'static> {
    Request {
        method: Method::Get,
        target: "/v3/payscore/permissions/authorization-code/FUZZ?service_id=500001",
        authorization: "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",nonce_str=\"n\",timestamp=\"1\",serial_no=\"S\",signature=\"s\"",
        user_agent: USER_AGENT,
        wechatpay_serial: None,
        body: b"",
    }
}

/// The limits one input runs under.
#[derive(Debug, Clone, Copy)]
struct Limits {
    body: usize,
    scratch: usize,
}

/// One exchange on a fresh connection; then, if it left the connection reusable, a second
/// one on the same connection. Returns both outcomes and how many bytes the first consumed.
fn exchange(peer: Peer<'_>, limits: Limits) -> (Outcome, usize, Outcome) {
    let mut scratch = vec![0u8; limits.scratch];
    let mut http: HttpClient<'_, Peer<'_>, FUZZ_MAX_HEADERS> =
        HttpClient::new(peer, HOST, &mut scratch);
    let once = |http: &mut HttpClient<'_, Peer<'_>, FUZZ_MAX_HEADERS>| -> Outcome {
        let mut body = vec![0u8; limits.body];
        let head = http.execute(&request(), &mut body)?;
        assert!(
            head.body_len <= limits.body,
            "body_len {} > buffer {}",
            head.body_len,
            limits.body
        );
        body.truncate(head.body_len);
        Ok(Exchanged {
            status: head.status,
            headers: head.headers,
            body,
            reusable: http.is_reusable(),
        })
    };
    let first = once(&mut http);
    assert!(
        !matches!(first, Err(Error::RequestTooLarge { .. })),
        "the request head must fit {} bytes",
        limits.scratch
    );
    assert!(http.stream_mut().written > 0, "nothing was sent");
    let consumed = http.stream_mut().at;
    let second = once(&mut http);
    match &first {
        Ok(e) if e.reusable => {}
        _ => assert_eq!(second, Err(Error::NotReusable), "after {first:?}"),
    }
    (first, consumed, second)
}

/// `a` is a subsequence of `b`.
fn is_subsequence(a: &[u8], b: &[u8]) -> bool {
    let mut rest = b.iter();
    a.iter().all(|x| rest.any(|y| y == x))
}

/// The outcome without `reusable`, which depends on the reads when bytes follow the message.
fn message(outcome: &Outcome) -> Result<(u16, &ResponseHeaders, &[u8]), Error<ErrorKind>> {
    outcome
        .as_ref()
        .map(|e| (e.status, &e.headers, &e.body[..]))
        .map_err(|e| *e)
}

fn reusable(outcome: &Outcome) -> bool {
    outcome.as_ref().is_ok_and(|e| e.reusable)
}

/// The HTTP/1.1 response reader (`wxpay_embedded_io::HttpClient` as a `Transport`).
///
/// Input: byte 0 picks the read sizes (0: whole reads, else 1..=N drawn from a generator it
/// seeds), byte 1 the body buffer (8 bytes a step), byte 2 the scratch buffer (8 bytes a step
/// beyond the request head, which it must hold), the rest is what the peer sends, after which it closes. Header table: 8 lines.
///
/// - Never panics; the request head always fits; `body_len` never exceeds the buffer.
/// - Reads of any size (whole, one byte, the drawn schedule) give the same status, headers,
///   body or error. `reusable` may only differ when bytes follow the message, and then only
///   as more of them are seen: whatever is reusable is reusable with one-byte reads.
/// - `Ok` is a real message: status 200..=999 (interim responses skipped), the body a
///   subsequence of the input. `Closed` exactly when the peer sent nothing.
/// - A peer that fails instead of closing changes nothing but the errors: a clean,
///   reusable success stays the same.
/// - Prefixes, after which the peer closes: an error, the same message (only bytes after it
///   were cut), or a non-reusable success whose body is a strict prefix of the whole one.
/// - After an error or a non-reusable success the next request is `NotReusable`; after a
///   reusable one it reads the remaining bytes as a fresh connection would.
pub fn http_response(data: &[u8]) {
    let (seed, body_steps, scratch_steps, script) = match data {
        [a, b, c, rest @ ..] => (*a, *b, *c, rest),
        _ => return,
    };
    let mut head = [0u8; 1024];
    let request_head = write_request_head::<ErrorKind>(&mut head, HOST, &request());
    let request_head = request_head.unwrap_or_else(|e| panic!("the request head: {e:?}"));
    let limits = Limits {
        body: usize::from(body_steps) * 8,
        scratch: request_head + usize::from(scratch_steps) * 8,
    };

    let (ones, consumed, second) = exchange(Peer::new(script, Reads::Ones), limits);
    let (whole, _, _) = exchange(Peer::new(script, Reads::Whole), limits);
    let (drawn, _, _) = exchange(Peer::new(script, Reads::from_seed(seed)), limits);
    for (name, other) in [("whole", &whole), ("drawn", &drawn)] {
        assert_eq!(
            message(other),
            message(&ones),
            "{name} reads vs one-byte reads"
        );
        if consumed == script.len() {
            assert_eq!(reusable(other), reusable(&ones), "{name}: nothing follows");
        } else {
            assert!(!reusable(other) || reusable(&ones), "{name}: reusable");
        }
    }

    assert_eq!(
        ones == Err(Error::Closed),
        script.is_empty(),
        "Closed: {ones:?}"
    );
    if let Ok(e) = &ones {
        assert!((200..=999).contains(&e.status), "status {}", e.status);
        assert!(is_subsequence(&e.body, script), "a body not from the input");
        if e.reusable {
            let rest = script.get(consumed..).unwrap_or_default();
            let (fresh, _, _) = exchange(Peer::new(rest, Reads::Ones), limits);
            assert_eq!(second, fresh, "the second response on a reused connection");
        }
    }

    let mut failing = Peer::new(script, Reads::Ones);
    failing.fail_at_end = true;
    let (failed, _, _) = exchange(failing, limits);
    if failed != ones {
        assert!(
            matches!(failed, Err(Error::Io(ErrorKind::ConnectionReset))) && !reusable(&ones),
            "a failing peer gave {failed:?}, a closing one {ones:?}"
        );
    }

    let cuts = [
        script.len().saturating_sub(1),
        script.len() / 2,
        usize::from(seed) * script.len() / 256,
    ];
    for len in cuts.into_iter().filter(|len| *len < script.len()) {
        let prefix = &script[..len];
        let (part, _, _) = exchange(Peer::new(prefix, Reads::from_seed(seed)), limits);
        match (&part, &ones) {
            (Err(Error::Closed), _) => assert_eq!(len, 0, "Closed after {len} bytes"),
            (Err(_), _) => {}
            (Ok(p), Ok(full)) if message(&part) == message(&ones) => {
                assert!(!p.reusable || full.reusable || consumed < script.len());
            }
            (Ok(p), Ok(full)) => {
                assert!(!p.reusable, "prefix {len} is reusable");
                assert!(
                    p.body.len() < full.body.len() && full.body.starts_with(&p.body),
                    "prefix {len} gave a body that is not a strict prefix"
                );
            }
            (Ok(p), Err(_)) => assert!(!p.reusable, "prefix {len} of a failure is reusable"),
        }
    }
}
