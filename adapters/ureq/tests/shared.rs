//! `SharedClient` against the emulator on 127.0.0.1: one client called from many threads at
//! once, every answer verified; calls in flight together; setup from files and from the
//! `WXPAY_*` variables, each bad setting named.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use wxpay_aws_lc::{AwsLcSigner, AwsLcVerifier};
use wxpay_core::AuthorizationState;
use wxpay_core::api::permissions::QueryByCode;
use wxpay_emulator::server::Server;
use wxpay_emulator::{Emulator, demo};
use wxpay_ureq::{PRODUCTION_BASE_URL, SetupError, SharedClient, Timeouts};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../emulator/keys/");

fn key(name: &str) -> String {
    format!("{KEYS}{name}")
}

fn from_files(base_url: &str) -> SharedClient {
    SharedClient::from_files(
        base_url,
        demo::MCHID,
        demo::MERCHANT_SERIAL,
        key("merchant_key.pem"),
        key("platform_pub.pem"),
        demo::PLATFORM_KEY_ID,
    )
    .expect("client from the emulator's key files")
}

/// A client of the demo merchant from the keys in memory.
fn demo_client(base_url: &str, timeout: Duration) -> SharedClient {
    SharedClient::new(
        base_url,
        Timeouts::all(timeout),
        demo::MCHID,
        AwsLcSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL).expect("key"),
        demo::PLATFORM_KEY_ID,
        AwsLcVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("key"),
    )
    .expect("client")
}

#[test]
fn many_threads_call_one_client() {
    // Room for a connection per caller (the emulator's default cap is 64, and the pool may
    // still hold a closing one), and timeouts far above any answer's time on a busy machine.
    let server =
        Server::start_with_limit(Arc::new(Emulator::demo()), "127.0.0.1:0", 1024).expect("listens");
    let client = demo_client(&server.base_url(), Duration::from_secs(300));
    let query = QueryByCode::new(demo::AUTHORIZATION_CODE, demo::SERVICE_ID).expect("fits");
    let unknown = QueryByCode::new("NO_SUCH_CODE", demo::SERVICE_ID).expect("fits");
    std::thread::scope(|scope| {
        for _ in 0..16 {
            let (client, query, unknown) = (client.clone(), &query, &unknown);
            scope.spawn(move || {
                for _ in 0..4 {
                    let record = client.call(query).expect("verified record");
                    assert_eq!(record.mchid, demo::MCHID);
                    assert_eq!(record.openid.as_deref(), Some(demo::OPENID));
                    assert_eq!(
                        record.authorization_state,
                        Some(AuthorizationState::Available)
                    );
                }
                let error = client.call(unknown).expect_err("unknown code");
                assert!(error.is_not_found(), "{error}");
            });
        }
    });
}

/// A server that answers nothing until it holds `n` requests at once, then answers each with a
/// 404. If one call waited for another, the first would time out instead.
fn gathering_server(n: usize) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        while held.len() < n {
            let (stream, _) = listener.accept().expect("accepts");
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            // The request head (a GET: no body).
            while reader.read_line(&mut line).expect("reads") > 2 {
                line.clear();
            }
            held.push(reader.into_inner());
        }
        let body = r#"{"code":"ORDER_NOT_EXIST","message":"no such record"}"#;
        for mut stream in held {
            let answer = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).expect("answers");
        }
    });
    (base_url, handle)
}

#[test]
fn one_call_does_not_wait_for_another() {
    const CALLS: usize = 4;
    let (base_url, server) = gathering_server(CALLS);
    // If one call held the others back, the first would time out: a failure, never a hang.
    let client = demo_client(&base_url, Duration::from_secs(60));
    let query = QueryByCode::new(demo::AUTHORIZATION_CODE, demo::SERVICE_ID).expect("fits");
    std::thread::scope(|scope| {
        for _ in 0..CALLS {
            scope.spawn(|| {
                let error = client.call(&query).expect_err("404");
                assert!(error.is_not_found(), "{error}");
            });
        }
    });
    server.join().expect("server");
}

fn demo_vars(base_url: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("WXPAY_BASE_URL", base_url.to_owned()),
        ("WXPAY_MCHID", demo::MCHID.to_owned()),
        ("WXPAY_SERIAL", demo::MERCHANT_SERIAL.to_owned()),
        ("WXPAY_PRIVATE_KEY", key("merchant_key.pem")),
        ("WXPAY_PLATFORM_PUBLIC_KEY", key("platform_pub.pem")),
        ("WXPAY_PLATFORM_SERIAL", demo::PLATFORM_KEY_ID.to_owned()),
    ])
}

fn from_vars(vars: &HashMap<&'static str, String>) -> Result<SharedClient, SetupError> {
    SharedClient::from_vars(|name| vars.get(name).map(OsString::from))
}

#[test]
fn from_files_and_from_env_call_the_emulator() {
    let server = Server::start(Arc::new(Emulator::demo()), "127.0.0.1:0").expect("listens");
    let query = QueryByCode::new(demo::AUTHORIZATION_CODE, demo::SERVICE_ID).expect("fits");
    let clients = [
        from_files(&server.base_url()),
        from_vars(&demo_vars(&server.base_url())).expect("client"),
    ];
    for client in clients {
        let record = client.call(&query).expect("verified record");
        assert_eq!(record.openid.as_deref(), Some(demo::OPENID));
    }
}

#[test]
fn from_env_names_what_is_wrong() {
    // (variable, its value or None to unset it, the error's text must contain)
    #[rustfmt::skip]
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("WXPAY_MCHID",               None,                      "WXPAY_MCHID is not set"),
        ("WXPAY_SERIAL",              None,                      "WXPAY_SERIAL is not set"),
        ("WXPAY_PRIVATE_KEY",         None,                      "WXPAY_PRIVATE_KEY is not set"),
        ("WXPAY_PLATFORM_PUBLIC_KEY", None,                      "WXPAY_PLATFORM_PUBLIC_KEY is not set"),
        ("WXPAY_PLATFORM_SERIAL",     None,                      "WXPAY_PLATFORM_SERIAL is not set"),
        ("WXPAY_MCHID",               Some(""),                  "WXPAY_MCHID is not set"),
        ("WXPAY_PRIVATE_KEY",         Some("/no/such/key.pem"),  "WXPAY_PRIVATE_KEY (/no/such/key.pem)"),
        ("WXPAY_PLATFORM_PUBLIC_KEY", Some("/no/such/pub.pem"),  "WXPAY_PLATFORM_PUBLIC_KEY (/no/such/pub.pem)"),
        ("WXPAY_PRIVATE_KEY",         Some(&*KEY_IS_PUBLIC),     "WXPAY_PRIVATE_KEY ("),
        ("WXPAY_SERIAL",              Some(""),                  "WXPAY_SERIAL is not set"),
        ("WXPAY_BASE_URL",            Some("http://192.0.2.1"),  "base URL"),
        ("WXPAY_MCHID",               Some(&*TOO_LONG),          "mchid"),
    ];
    for (name, value, expected) in cases {
        let mut vars = demo_vars("http://127.0.0.1:9");
        match value {
            Some(value) => vars.insert(name, (*value).to_owned()),
            None => vars.remove(name),
        };
        let error = from_vars(&vars).expect_err(name);
        assert!(error.to_string().contains(expected), "{name}: {error}");
    }
    // A typo'd name is no setting: the one that is missing is named.
    let mut vars = demo_vars("http://127.0.0.1:9");
    let mchid = vars.remove("WXPAY_MCHID").expect("set");
    vars.insert("WXPAY_MCHDI", mchid);
    let error = from_vars(&vars).expect_err("typo");
    assert!(
        matches!(error, SetupError::Missing("WXPAY_MCHID")),
        "{error:?}"
    );
    // Without WXPAY_BASE_URL, production (built, nothing sent).
    let mut vars = demo_vars("");
    vars.remove("WXPAY_BASE_URL");
    assert_eq!(
        from_vars(&vars).expect("client").base_url(),
        PRODUCTION_BASE_URL
    );
}

static KEY_IS_PUBLIC: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| key("platform_pub.pem"));
static TOO_LONG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| "9".repeat(100));

#[test]
fn shared_client_is_send_sync_clone() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<SharedClient>();
}
