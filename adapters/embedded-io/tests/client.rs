//! The core's `Client` over `HttpClient`: what goes on the wire is what was signed, records
//! come back verified, connections are reused only when that is safe, and a misbehaving
//! stream is an error, never a panic.

mod support;

use embedded_io::ErrorKind;
use support::*;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::sign;
use wxpay_core::transport::{Method, Request, Transport};
use wxpay_core::verify::{self, PlatformKeys, Verifier};
use wxpay_core::{AuthorizationState, Client, ClientError, Clock, RandomSource};
use wxpay_embedded_io::{Error, HttpClient, RECOMMENDED_SCRATCH_LEN};

struct FixedClock;
impl Clock for FixedClock {
    fn unix_seconds(&self) -> i64 {
        NOW
    }
}

struct CountingRandom(u8);
impl RandomSource for CountingRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), wxpay_core::Error> {
        for b in dest {
            self.0 = self.0.wrapping_mul(29).wrapping_add(11);
            *b = self.0;
        }
        Ok(())
    }
}

type TestClient<'a, S> =
    Client<HttpClient<'a, S>, RsaSigner, RsaVerifier, FixedClock, CountingRandom>;

fn client<S: embedded_io::Read + embedded_io::Write>(
    stream: S,
    scratch: &mut [u8],
) -> TestClient<'_, S> {
    let signer = RsaSigner::from_pem(MERCHANT_KEY, MERCHANT_SERIAL).expect("merchant key");
    let platform = RsaVerifier::from_pem(PLATFORM_PUB).expect("platform key");
    let keys = PlatformKeys::with_key(PUB_KEY_ID, platform).expect("fits");
    Client::new(
        HttpClient::new(stream, HOST, scratch),
        signer,
        keys,
        FixedClock,
        CountingRandom(1),
        MCHID,
    )
    .and_then(|c| c.with_wechatpay_serial(PUB_KEY_ID))
    .expect("client")
}

const CODE: &str = "1234323JKHDFE|1243252*";

/// The signed record answers the query for [`CODE`]: the client binds the answer's
/// `authorization_code` to the one it asked for.
fn record() -> String {
    RECORD.replace("1234323JKHDFE1243252", CODE)
}
const TARGET: &str =
    "/v3/payscore/permissions/authorization-code/1234323JKHDFE%7C1243252%2A?service_id=500001";

/// Splits what the client wrote into requests: (request line, headers, body).
fn requests(written: &[u8]) -> Vec<(String, Vec<(String, String)>)> {
    let text = String::from_utf8(written.to_vec()).expect("ASCII");
    text.split_terminator("\r\n\r\n")
        .map(|head| {
            let mut lines = head.split("\r\n");
            let line = lines.next().expect("request line").to_owned();
            let headers = lines
                .map(|l| {
                    let (n, v) = l.split_once(": ").expect("name: value");
                    (n.to_owned(), v.to_owned())
                })
                .collect();
            (line, headers)
        })
        .collect()
}

#[test]
fn query_over_length_and_chunks_with_reuse() {
    let wei = record().find('微').expect("has 微");
    let mut script = signed_200(&record(), Framing::Length);
    script.extend(signed_200(&record(), Framing::Chunked(&[wei + 2, 7])));
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let mut c = client(Peer::cycling(&script, 3), &mut scratch);
    let mut body = [0u8; BODY_LEN];
    for round in 0..2 {
        let record = c.call(
            &wxpay_core::api::permissions::QueryByCode::new(CODE, "500001").expect("fits"),
            &mut body,
        );
        let record = record.unwrap_or_else(|e| panic!("round {round}: {e:?}"));
        assert_eq!(
            record.authorization_state,
            Some(AuthorizationState::Available)
        );
        assert_eq!(
            record.openid.as_deref(),
            Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        );
        assert!(c.transport_mut().is_reusable(), "round {round}");
    }

    // What went on the wire: two requests, each exactly as signed.
    let written = c.transport_mut().stream_mut().written.clone();
    let sent = requests(&written);
    assert_eq!(sent.len(), 2);
    let merchant = RsaVerifier::from_pem(MERCHANT_PUB).expect("merchant public key");
    for (line, headers) in &sent {
        assert_eq!(line, &format!("GET {TARGET} HTTP/1.1"));
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Host",
                "Authorization",
                "Accept",
                "User-Agent",
                "Wechatpay-Serial"
            ]
        );
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .expect(name)
        };
        assert_eq!(get("Host"), HOST);
        assert_eq!(get("Accept"), "application/json");
        assert_eq!(get("Wechatpay-Serial"), PUB_KEY_ID);
        assert!(get("User-Agent").starts_with("wxpay-core/"));
        let auth = sign::parse_authorization(get("Authorization")).expect("parses");
        assert_eq!((auth.mchid, auth.serial_no), (MCHID, MERCHANT_SERIAL));
        let digest = sign::request_digest(
            Method::Get,
            TARGET,
            auth.timestamp.parse().expect("number"),
            auth.nonce_str,
            b"",
        );
        let signature = verify::decode_signature(auth.signature).expect("base64");
        assert!(
            merchant.verify_prehash(&digest, &signature),
            "the signature covers the target as sent"
        );
    }
}

#[test]
fn closed_connection_needs_a_new_stream() {
    let script = signed_200(&record(), Framing::Close);
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let mut c = client(Peer::cycling(&script, 64), &mut scratch);
    let mut body = [0u8; BODY_LEN];
    assert!(
        c.call(
            &wxpay_core::api::permissions::QueryByCode::new(CODE, "500001").expect("fits"),
            &mut body
        )
        .is_ok()
    );
    assert!(!c.transport_mut().is_reusable());
    assert_eq!(
        c.call(
            &wxpay_core::api::permissions::QueryByCode::new(CODE, "500001").expect("fits"),
            &mut body
        ),
        Err(ClientError::Transport(Error::NotReusable))
    );
    let old = c
        .transport_mut()
        .reconnect(Peer::cycling(&signed_200(&record(), Framing::Length), 64));
    assert_eq!(
        requests(&old.written).len(),
        1,
        "nothing sent on a spent connection"
    );
    assert!(
        c.call(
            &wxpay_core::api::permissions::QueryByCode::new(CODE, "500001").expect("fits"),
            &mut body
        )
        .is_ok()
    );
}

#[test]
fn errors_reach_the_caller_as_transport_errors() {
    let mut body = [0u8; BODY_LEN];
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let mut c = client(Peer::cycling(b"", 4), &mut scratch);
    assert_eq!(
        c.call(
            &wxpay_core::api::permissions::QueryByCode::new(CODE, "500001").expect("fits"),
            &mut body
        ),
        Err(ClientError::Transport(Error::Closed))
    );

    let mut failing = Peer::cycling(&signed_200(&record(), Framing::Length), 4);
    failing.fail_at = Some(100);
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let mut c = client(failing, &mut scratch);
    assert_eq!(
        c.call(
            &wxpay_core::api::permissions::QueryByCode::new(CODE, "500001").expect("fits"),
            &mut body
        ),
        Err(ClientError::Transport(Error::Io(
            ErrorKind::ConnectionReset
        )))
    );
    assert!(!c.transport_mut().is_reusable());

    // A small scratch buffer: the error says how large it must be.
    let mut small = [0u8; 256];
    let mut c = client(Peer::cycling(b"", 4), &mut small);
    match c.call(
        &wxpay_core::api::permissions::QueryByCode::new(CODE, "500001").expect("fits"),
        &mut body,
    ) {
        Err(ClientError::Transport(Error::RequestTooLarge { needed })) => {
            assert!((257..RECOMMENDED_SCRATCH_LEN).contains(&needed), "{needed}")
        }
        other => panic!("{other:?}"),
    }

    // A tampered body is never parsed.
    let tampered = String::from_utf8(signed_200(&record(), Framing::Length))
        .expect("text")
        .replace("\"AVAILABLE\"", "\"AVAILABLX\"");
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let mut c = client(Peer::cycling(tampered.as_bytes(), 7), &mut scratch);
    let outcome = c.call(
        &wxpay_core::api::permissions::QueryByCode::new(CODE, "500001").expect("fits"),
        &mut body,
    );
    assert!(
        matches!(
            outcome,
            Err(ClientError::Verify {
                error: wxpay_core::VerifyError::BadSignature,
                ..
            })
        ),
        "{outcome:?}"
    );
}

/// A stream that breaks the embedded-io contract in one of two ways.
struct Broken {
    zero_write: bool,
}
impl embedded_io::ErrorType for Broken {
    type Error = ErrorKind;
}
impl embedded_io::Read for Broken {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        Ok(buf.len() + 1)
    }
}
impl embedded_io::Write for Broken {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        Ok(if self.zero_write { 0 } else { buf.len() })
    }
    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

#[test]
fn a_broken_stream_is_an_error_not_a_panic() {
    for zero_write in [true, false] {
        let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
        let mut http: HttpClient<'_, Broken> =
            HttpClient::new(Broken { zero_write }, HOST, &mut scratch);
        let mut body = [0u8; 16];
        assert_eq!(
            http.execute(&get_request(), &mut body).map(|h| h.status),
            Err(Error::StreamMisbehaved)
        );
    }
}

#[test]
fn post_body_follows_its_head() {
    for body_len in [14, RECOMMENDED_SCRATCH_LEN] {
        let body = vec![b'7'; body_len];
        let request = Request {
            method: Method::Post,
            body: &body,
            ..get_request()
        };
        let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
        let mut http: HttpClient<'_, Peer> = HttpClient::new(
            Peer::cycling(b"HTTP/1.1 204 No Content\r\n\r\n", 5),
            HOST,
            &mut scratch,
        );
        let mut out = [0u8; 16];
        let head = http.execute(&request, &mut out).expect("exchange");
        assert_eq!((head.status, head.body_len), (204, 0));
        let written = &http.stream_mut().written;
        let text = String::from_utf8_lossy(written);
        let (head, sent) = text.split_once("\r\n\r\n").expect("a head");
        assert!(head.starts_with("POST /v3/"), "{head}");
        assert!(head.contains("\r\nContent-Type: application/json\r\n"));
        assert!(head.ends_with(&format!("\r\nContent-Length: {body_len}")));
        assert_eq!(sent.as_bytes(), &body[..]);
    }
}
