//! `TokioTransport` against the emulator's server and small scripted servers, all on
//! 127.0.0.1: signed queries verified end to end, many at once from one task set, timeouts,
//! bounded bodies, no redirects, the framing and URL policy, an explicit proxy, and futures
//! dropped at every await point.

use std::future::{Future, poll_fn};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use tokio::task::JoinSet;
use wxpay_core::api::permissions;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::sign::{self, AUTHORIZATION_CAPACITY, SigningInput};
use wxpay_core::transport::{AsyncTransport, Method, Request};
use wxpay_core::verify::PlatformKeys;
use wxpay_core::{Call, ClientError, check_response};
use wxpay_emulator::Emulator;
use wxpay_emulator::server::Server;
use wxpay_tokio::{Timeouts, TokioError, TokioTransport, USER_AGENT};

const MERCHANT_KEY: &str = include_str!("../../emulator/keys/merchant_key.pem");
const PLATFORM_PUB: &str = include_str!("../../emulator/keys/platform_pub.pem");
const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000001";
const MCHID: &str = "1230000109";
const MERCHANT_SERIAL: &str = "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29";
const CODE: &str = "1234323JKHDFE1243252";

/// A query for the demo record, signed now as the demo merchant (the emulator checks the
/// signature and the timestamp, not nonce reuse, so one signed query may be sent many times).
struct Signed {
    target: String,
    authorization: String,
    now: i64,
}

impl Signed {
    fn query(code: &str) -> Signed {
        let mut buf = [0u8; permissions::TARGET_CAPACITY];
        let target = permissions::QueryByCode::new(code, "500001")
            .and_then(|q| q.target(&mut buf).map(str::to_owned))
            .expect("target");
        let now = wxpay_emulator::system_now();
        let mut signer = RsaSigner::from_pem(MERCHANT_KEY, MERCHANT_SERIAL).expect("merchant key");
        let mut out = [0u8; AUTHORIZATION_CAPACITY];
        let authorization = sign::authorization(
            &mut signer,
            &SigningInput {
                mchid: MCHID,
                method: Method::Get,
                target: &target,
                body: b"",
                timestamp: now as u64,
                nonce: "TOKIO0TEST0NONCE0000000000000001",
            },
            &mut out,
        )
        .expect("signs")
        .to_owned();
        Signed {
            target,
            authorization,
            now,
        }
    }

    fn request(&self) -> Request<'_> {
        Request {
            method: Method::Get,
            target: &self.target,
            authorization: &self.authorization,
            user_agent: USER_AGENT,
            wechatpay_serial: Some(PUB_KEY_ID),
            body: b"",
        }
    }
}

fn keys() -> PlatformKeys<RsaVerifier> {
    PlatformKeys::with_key(
        PUB_KEY_ID,
        RsaVerifier::from_pem(PLATFORM_PUB).expect("platform key"),
    )
    .expect("fits")
}

fn emulator() -> (Arc<Emulator>, Server) {
    let emulator = Arc::new(Emulator::demo());
    let server = Server::start(Arc::clone(&emulator), "127.0.0.1:0").expect("emulator listens");
    (emulator, server)
}

/// Timeouts far above any answer's time: the emulator signs in debug-build RSA, and 64 of
/// them at once on a busy machine take seconds. No test here times anything against them.
fn transport(server: &Server) -> TokioTransport {
    TokioTransport::new(&server.base_url(), Timeouts::all(Duration::from_secs(300)))
        .expect("loopback http is allowed")
}

/// Sends `signed` and checks the answer with the core: a verified record for [`CODE`].
async fn verified_query(
    transport: &TokioTransport,
    signed: &Signed,
    keys: &PlatformKeys<RsaVerifier>,
) {
    let mut body = [0u8; 4096];
    let head = transport
        .send(&signed.request(), &mut body)
        .await
        .expect("exchange");
    check_record(head, &body, signed, keys);
}

/// The same through the core's trait, generic as the core's async client will call it: its
/// future must still be `Send` for `tokio::spawn` when `T` is `TokioTransport`.
async fn verified_query_via_trait<T: AsyncTransport>(
    transport: &mut T,
    signed: &Signed,
    keys: &PlatformKeys<RsaVerifier>,
) {
    let mut body = [0u8; 4096];
    let head = transport
        .execute(&signed.request(), &mut body)
        .await
        .unwrap_or_else(|e| panic!("exchange: {e:?}"));
    check_record(head, &body, signed, keys);
}

fn check_record(
    head: wxpay_core::ResponseHead,
    body: &[u8],
    signed: &Signed,
    keys: &PlatformKeys<RsaVerifier>,
) {
    let len = head.body_len;
    let verified = match check_response::<_, 2, TokioError>(keys, head, &body[..len], signed.now) {
        Ok(v) => v,
        Err(ClientError::Api(e)) => panic!("API error {e:?}"),
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(verified.status, 200);
    let text = std::str::from_utf8(verified.body).expect("UTF-8");
    assert!(
        text.contains(&format!("\"authorization_code\":\"{CODE}\"")),
        "{text}"
    );
}

#[tokio::test]
async fn signed_query_end_to_end_with_keep_alive() {
    let (emulator, server) = emulator();
    let mut transport = transport(&server);
    let signed = Signed::query(CODE);
    let keys = keys();
    for _ in 0..3 {
        verified_query(&transport, &signed, &keys).await;
    }
    // Through the trait too.
    let mut body = [0u8; 4096];
    let head = transport
        .execute(&signed.request(), &mut body)
        .await
        .expect("exchange");
    assert_eq!(head.status, 200);
    assert_eq!(
        server.connections_accepted(),
        1,
        "one keep-alive connection"
    );
    assert_eq!(emulator.seen_targets(), vec![signed.target.clone(); 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_queries_share_one_pool() {
    let (_emulator, server) = emulator();
    let transport = transport(&server);
    let signed = Arc::new(Signed::query(CODE));
    let keys = Arc::new(keys());
    for wave in 1..=2 {
        let mut tasks = JoinSet::new();
        for _ in 0..64 {
            let (mut transport, signed, keys) =
                (transport.clone(), Arc::clone(&signed), Arc::clone(&keys));
            tasks.spawn(async move {
                if wave == 1 {
                    verified_query(&transport, &signed, &keys).await;
                } else {
                    verified_query_via_trait(&mut transport, &signed, &keys).await;
                }
            });
        }
        let mut done = 0;
        while let Some(joined) = tasks.join_next().await {
            joined.expect("task");
            done += 1;
        }
        assert_eq!(done, 64);
        let accepted = server.connections_accepted();
        assert!(
            (1..=64).contains(&accepted),
            "wave {wave}: {accepted} connections for 128 queries"
        );
    }
}

/// A scripted server: answers every request on every connection with `reply(n)` (n counts
/// requests from 0) and keeps the request heads; `None` means: say nothing, hold the
/// connection open until the client gives up.
struct Scripted {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
}

fn scripted(reply: impl Fn(usize) -> Option<Vec<u8>> + Send + Sync + 'static) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds on loopback");
    let addr = listener.local_addr().expect("address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let (count, seen) = (Arc::clone(&accepted), Arc::clone(&heads));
    let reply = Arc::new(reply);
    let requests = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let (reply, seen, requests) =
                (Arc::clone(&reply), Arc::clone(&seen), Arc::clone(&requests));
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut writer = stream;
                loop {
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    seen.lock().expect("lock").push(head);
                    match reply(requests.fetch_add(1, Ordering::SeqCst)) {
                        Some(bytes) => {
                            if writer.write_all(&bytes).is_err() {
                                return;
                            }
                        }
                        None => {
                            // Hold the connection until the client hangs up.
                            let mut rest = String::new();
                            let _ = reader.read_line(&mut rest);
                            return;
                        }
                    }
                }
            });
        }
    });
    Scripted {
        addr,
        accepted,
        heads,
    }
}

fn get(target: &str) -> Request<'_> {
    Request {
        method: Method::Get,
        target,
        authorization: "WECHATPAY2-SHA256-RSA2048 test",
        user_agent: USER_AGENT,
        wechatpay_serial: None,
        body: b"",
    }
}

async fn send_to(
    addr: SocketAddr,
    timeouts: Timeouts,
    body_len: usize,
) -> Result<(u16, Vec<u8>), TokioError> {
    let transport = TokioTransport::new(&format!("http://{addr}"), timeouts).expect("loopback");
    let mut body = vec![0u8; body_len];
    let head = transport.send(&get("/v3/x"), &mut body).await?;
    body.truncate(head.body_len);
    Ok((head.status, body))
}

#[tokio::test]
async fn timeouts_read_and_overall() {
    let silent = scripted(|_| None);
    let read = Timeouts {
        connect: Duration::from_secs(5),
        read: Duration::from_millis(200),
        overall: Duration::from_secs(30),
    };
    assert_eq!(
        send_to(silent.addr, read, 64).await,
        Err(TokioError::Timeout("read"))
    );
    let overall = Timeouts {
        read: Duration::from_secs(30),
        overall: Duration::from_millis(200),
        ..read
    };
    assert_eq!(
        send_to(silent.addr, overall, 64).await,
        Err(TokioError::Timeout("overall"))
    );
}

#[tokio::test]
async fn bodies_are_bounded_never_cut() {
    let body = "x".repeat(100);
    let by_length = format!("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{body}").into_bytes();
    let chunked = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n{}\r\n32\r\n{}\r\n0\r\n\r\n",
        &body[..50],
        &body[50..]
    )
    .into_bytes();
    let by_close = format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{body}").into_bytes();
    let t = Timeouts::all(Duration::from_secs(10));
    for (name, raw) in [("length", by_length), ("chunked", chunked)] {
        let server = scripted(move |_| Some(raw.clone()));
        assert_eq!(
            send_to(server.addr, t, 99).await,
            Err(TokioError::BodyTooLarge { limit: 99 }),
            "{name}"
        );
        assert_eq!(
            send_to(server.addr, t, 100).await,
            Ok((200, body.clone().into_bytes())),
            "{name}: exactly fits"
        );
    }
    // Delimited by the server closing.
    assert_eq!(
        send_to(closing_server(by_close.clone()), t, 99).await,
        Err(TokioError::BodyTooLarge { limit: 99 })
    );
    assert_eq!(
        send_to(closing_server(by_close), t, 100).await,
        Ok((200, body.clone().into_bytes()))
    );
    // Cut short: never a partial success.
    let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nxxxx".to_vec();
    assert_eq!(
        send_to(closing_server(cut), t, 200).await,
        Err(TokioError::Truncated)
    );
    let cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n32\r\nxxxx".to_vec();
    assert_eq!(
        send_to(closing_server(cut), t, 200).await,
        Err(TokioError::Truncated)
    );
}

/// Answers one request with `raw`, then closes the connection.
fn closing_server(raw: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds on loopback");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let mut writer = stream;
            let _ = writer.write_all(&raw);
        }
    });
    addr
}

#[tokio::test]
async fn framing_policy() {
    let t = Timeouts::all(Duration::from_secs(10));
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str)] = &[
        ("both", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", "both Content-Length and Transfer-Encoding"),
        ("gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "a transfer coding other than chunked"),
        ("two codings", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "Transfer-Encoding repeated"),
    ];
    for (name, raw, why) in cases {
        let raw = raw.as_bytes().to_vec();
        let server = scripted(move |_| Some(raw.clone()));
        assert_eq!(
            send_to(server.addr, t, 64).await,
            Err(TokioError::Framing(why)),
            "{name}"
        );
    }
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let elsewhere = scripted(|_| Some(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec()));
    let location = format!("http://{}/v3/x", elsewhere.addr);
    let redirecting = scripted(move |_| {
        Some(
            format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
                .into_bytes(),
        )
    });
    let got = send_to(redirecting.addr, Timeouts::all(Duration::from_secs(10)), 64).await;
    assert_eq!(got, Ok((302, Vec::new())));
    assert_eq!(
        elsewhere.accepted.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
}

#[tokio::test]
async fn plain_http_beyond_loopback_is_refused_before_any_traffic() {
    for url in [
        "http://api.mch.weixin.qq.com",
        "http://10.0.0.1:8080",
        "http://192.168.1.1",
        "http://[2001:db8::1]:80",
    ] {
        let got = TokioTransport::new(url, Timeouts::default());
        assert!(
            matches!(&got, Err(TokioError::BadUrl(why)) if why.contains("loopback")),
            "{url}: {got:?}"
        );
    }
}

#[tokio::test]
async fn https_is_tls_not_plain_http() {
    // A plain-HTTP server behind an https:// URL: it answers the ClientHello in plain text,
    // the TLS handshake fails, nothing is read as an answer.
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds on loopback");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            let mut sink = [0u8; 1024];
            while std::io::Read::read(&mut stream, &mut sink).is_ok_and(|n| n > 0) {}
        }
    });
    let transport = TokioTransport::new(
        &format!("https://{addr}"),
        Timeouts::all(Duration::from_secs(10)),
    )
    .expect("https is allowed");
    let mut body = [0u8; 64];
    let got = transport.send(&get("/v3/x"), &mut body).await;
    assert!(matches!(got, Err(TokioError::NotTls(_))), "{got:?}");
}

#[tokio::test]
async fn headers_go_out_as_signed() {
    let server = scripted(|_| Some(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()));
    let got = send_to(server.addr, Timeouts::all(Duration::from_secs(10)), 64).await;
    assert_eq!(got, Ok((204, Vec::new())));
    let heads = server.heads.lock().expect("lock").clone();
    let head = &heads[0];
    assert!(head.starts_with("GET /v3/x HTTP/1.1\r\n"), "{head}");
    for line in [
        "Authorization: WECHATPAY2-SHA256-RSA2048 test\r\n",
        "Accept: application/json\r\n",
        &format!("User-Agent: {USER_AGENT}\r\n"),
        &format!("Host: {}\r\n", server.addr),
    ] {
        assert!(head.contains(line), "{line:?} in {head}");
    }
}

#[tokio::test]
async fn an_explicit_proxy_carries_the_request() {
    // The proxy refuses the tunnel: what matters is that the CONNECT went to it.
    let proxy = scripted(|_| Some(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec()));
    let transport = TokioTransport::builder("https://127.0.0.1:9")
        .proxy(&format!("http://{}", proxy.addr))
        .timeouts(Timeouts::all(Duration::from_secs(10)))
        .build()
        .expect("builds");
    let mut body = [0u8; 64];
    let got = transport.send(&get("/v3/x"), &mut body).await;
    assert!(matches!(got, Err(TokioError::Connect(_))), "{got:?}");
    let heads = proxy.heads.lock().expect("lock").clone();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("CONNECT 127.0.0.1:9 HTTP/1.1\r\n"),
        "{heads:?}"
    );
}

/// Polls `fut` at most `n` times (each time it was woken), then drops it; `Some` if it
/// finished first.
async fn poll_at_most<F: Future>(fut: F, n: usize) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut polls = 0;
    poll_fn(|cx| {
        if polls == n {
            return Poll::Ready(None);
        }
        polls += 1;
        fut.as_mut().poll(cx).map(Some)
    })
    .await
}

#[tokio::test]
async fn dropped_at_every_await_point_leaves_the_transport_usable() {
    let (_emulator, server) = emulator();
    let transport = transport(&server);
    let signed = Signed::query(CODE);
    let keys = keys();
    let mut dropped = 0;
    for n in 1.. {
        let mut body = [0u8; 4096];
        let outcome = poll_at_most(transport.send(&signed.request(), &mut body), n).await;
        match outcome {
            None => dropped += 1,
            Some(done) => {
                // Finished within n polls: the whole, verified answer.
                let head = done.expect("exchange");
                let len = head.body_len;
                let verified =
                    check_response::<_, 2, TokioError>(&keys, head, &body[..len], signed.now);
                assert!(verified.is_ok(), "{verified:?}");
                break;
            }
        }
        // The same transport (and its pool) still works after the drop.
        verified_query(&transport, &signed, &keys).await;
        assert!(n < 1000, "never finished");
    }
    // Where it suspends depends on how the bytes arrive; it must at least once.
    assert!(dropped >= 1, "the call never suspended");
}

#[tokio::test]
async fn dropped_mid_body_the_half_read_connection_is_not_reused() {
    let body = "y".repeat(100);
    let full = format!("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{body}").into_bytes();
    let partial = full[..full.len() - 90].to_vec();
    // The first answer stops 90 bytes short and the server then waits on that connection.
    let server = scripted(move |n| {
        Some(if n == 0 {
            partial.clone()
        } else {
            full.clone()
        })
    });
    let transport = TokioTransport::new(
        &format!("http://{}", server.addr),
        Timeouts::all(Duration::from_secs(30)),
    )
    .expect("loopback");
    let mut buf = [0u8; 200];
    // The call cannot finish: whatever await it is at when the outer timeout fires, it is
    // dropped there, and nothing comes back.
    let first = tokio::time::timeout(
        Duration::from_millis(300),
        transport.send(&get("/v3/x"), &mut buf),
    )
    .await;
    assert!(first.is_err(), "{first:?}");
    let mut buf = [0u8; 200];
    let head = transport
        .send(&get("/v3/x"), &mut buf)
        .await
        .expect("the next call gets a whole answer");
    assert_eq!((head.status, &buf[..head.body_len]), (200, body.as_bytes()));
    assert_eq!(
        server.accepted.load(Ordering::SeqCst),
        2,
        "a new connection, not the half-read one"
    );
}

/// The emulator checks request timestamps against the system clock.
struct SystemNow;
impl wxpay_core::Clock for SystemNow {
    fn unix_seconds(&self) -> i64 {
        wxpay_emulator::system_now()
    }
}

/// Not a CSPRNG: good enough for test nonces.
struct TestRandom(u64);
impl wxpay_core::RandomSource for TestRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), wxpay_core::Error> {
        for b in dest {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (self.0 >> 56) as u8;
        }
        Ok(())
    }
}

/// The core's async client over this transport, one client per task around clones of one
/// transport (one pool), spawned on a multi-thread runtime: its futures are `Send`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_client_in_sixty_four_tasks() {
    let (_emulator, server) = emulator();
    let transport = transport(&server);
    let mut tasks = JoinSet::new();
    for task in 0..64u64 {
        let transport = transport.clone();
        tasks.spawn(async move {
            let signer = RsaSigner::from_pem(MERCHANT_KEY, MERCHANT_SERIAL).expect("merchant key");
            let mut client = wxpay_core::Client::new(
                transport,
                signer,
                keys(),
                SystemNow,
                TestRandom(task),
                MCHID,
            )
            .and_then(|c| c.with_wechatpay_serial(PUB_KEY_ID))
            .expect("client")
            .with_user_agent(USER_AGENT);
            let query = permissions::QueryByCode::new(CODE, "500001").expect("fits");
            let mut work = [0u8; 4096];
            let record = client
                .call_async(&query, &mut work)
                .await
                .unwrap_or_else(|e| panic!("task {task}: {e:?}"));
            assert_eq!(record.authorization_code.as_deref(), Some(CODE));
        });
    }
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task");
        done += 1;
    }
    assert_eq!(done, 64);
    assert!(server.connections_accepted() <= 64);
}
