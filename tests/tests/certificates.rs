//! Platform certificates (issue 15) against the emulator on 127.0.0.1: download and bootstrap,
//! rotation, refusals, public-key-only merchants and mixed mode.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use wxpay_core::api::certificates::{CertificateProblem, DownloadError};
use wxpay_core::callback::{ApiV3Key, CallbackError};
use wxpay_core::certificate::CertificateError;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::{Client, Clock, PlatformKeys};
use wxpay_emulator::{CertificateFault, HttpRequest, demo, test_certificates as tc};
use wxpay_tests::Sandbox;
use wxpay_ureq::certificates::{CertificateStore, StoreError, load_certificate};
use wxpay_ureq::{OsRandom, SystemClock, Timeouts, UreqError, UreqTransport};

type CertClient = Client<UreqTransport, RsaSigner, RsaVerifier, SystemClock, OsRandom, 4>;

/// The store's clock, moved by hand (the client keeps the real one for the ±300 s window).
#[derive(Debug, Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn at(now: i64) -> TestClock {
        TestClock(Arc::new(AtomicI64::new(now)))
    }
    fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
    fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn unix_seconds(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn now() -> i64 {
    SystemClock.unix_seconds()
}

fn certificate_sandbox() -> Sandbox {
    let sandbox = Sandbox::start();
    sandbox.emulator.set_certificate_mode(true);
    sandbox
}

fn client(sandbox: &Sandbox, keys: PlatformKeys<RsaVerifier, 4>) -> CertClient {
    let signer =
        RsaSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL).expect("demo key");
    Client::new(
        UreqTransport::new(&sandbox.base_url(), Timeouts::default()),
        signer,
        keys,
        SystemClock,
        OsRandom,
        demo::MCHID,
    )
    .expect("client builds")
}

fn apiv3_key() -> ApiV3Key {
    ApiV3Key::from_text(demo::APIV3_KEY).expect("32 bytes")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wxpay-certs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn query(client: &mut CertClient) -> Result<(), String> {
    let mut body = [0u8; 4096];
    client
        .call(
            &wxpay_core::api::permissions::QueryByCode::new(
                demo::AUTHORIZATION_CODE,
                demo::SERVICE_ID,
            )
            .expect("fits"),
            &mut body,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn files(dir: &PathBuf) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn first_download_bootstraps_persists_and_restarts_offline() {
    let sandbox = certificate_sandbox();
    let dir = temp_dir("bootstrap");
    let clock = TestClock::at(now());
    let mut client = client(&sandbox, PlatformKeys::new());
    assert!(query(&mut client).is_err(), "nothing held yet");

    let mut store =
        CertificateStore::open::<UreqError>(apiv3_key(), clock.clone(), &dir).expect("opens");
    let fresh = store.refresh(&mut client).expect("bootstrap download");
    assert_eq!(fresh, vec![tc::SERIAL_1, tc::SERIAL_2]);
    assert_eq!(
        files(&dir),
        vec![
            format!("{}.pem", tc::SERIAL_1),
            format!("{}.pem", tc::SERIAL_2)
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(format!("{}.pem", tc::SERIAL_1))).expect("file"),
        tc::CERT_1_PEM
    );
    query(&mut client).expect("answer signed by certificate 1 verifies");

    // A restart: a new store from the directory and a new client, with the emulator's
    // certificates endpoint switched off. No download is needed to verify.
    let mut store = CertificateStore::open::<UreqError>(apiv3_key(), clock.clone(), &dir)
        .expect("reopens offline");
    assert_eq!(store.serials(), vec![tc::SERIAL_1, tc::SERIAL_2]);
    let mut client = self::client(&sandbox, PlatformKeys::new());
    store.install(&mut client).expect("fits");
    query(&mut client).expect("verifies with the persisted certificates");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rotation_overlap_then_old_certificate_dropped_after_expiry() {
    let sandbox = certificate_sandbox();
    let dir = temp_dir("rotation");
    let start = now();
    let clock = TestClock::at(start);
    let mut client = client(&sandbox, PlatformKeys::new());
    let mut store =
        CertificateStore::open::<UreqError>(apiv3_key(), clock.clone(), &dir).expect("opens");
    store
        .refresh_if_due(&mut client)
        .expect("first refresh is due");
    assert_eq!(store.last_download(), Some(start));
    query(&mut client).expect("signed by certificate 1");

    // The rotation hook: certificate 2 now signs; certificate 3 joins the list.
    let hook = HttpRequest {
        method: "POST".into(),
        target: "/emulator/rotate".into(),
        ..HttpRequest::default()
    };
    assert_eq!(sandbox.emulator.handle(&hook, now()).status, 204);
    assert_eq!(
        sandbox.emulator.certificate_serials(),
        Some((vec![tc::SERIAL_2, tc::SERIAL_3], tc::SERIAL_2))
    );
    // During the overlap both serials verify: 2 was downloaded before it was used.
    query(&mut client).expect("signed by certificate 2, already held");

    // Not due yet: nothing is downloaded.
    clock.advance(11 * 3600);
    assert_eq!(
        store.refresh_if_due(&mut client).expect("ok"),
        Vec::<String>::new()
    );
    assert_eq!(store.last_download(), Some(start));
    // 12 h on: the new list arrives; 1 is kept (not expired), 3 is new.
    clock.advance(3600);
    let fresh = store.refresh_if_due(&mut client).expect("due refresh");
    assert_eq!(fresh, vec![tc::SERIAL_3]);
    assert_eq!(
        store.serials(),
        vec![tc::SERIAL_1, tc::SERIAL_2, tc::SERIAL_3]
    );
    assert!(client.platform_keys().get(tc::SERIAL_1).is_some());

    // After certificate 1 expires it is dropped: from the store, the directory and the client.
    clock.set(tc::CERT_1_NOT_AFTER + 1);
    store
        .refresh_if_due(&mut client)
        .expect("refresh after expiry");
    assert_eq!(store.serials(), vec![tc::SERIAL_2, tc::SERIAL_3]);
    assert!(client.platform_keys().get(tc::SERIAL_1).is_none());
    assert!(client.platform_keys().get(tc::SERIAL_2).is_some());
    // Sorted by name: 6C0B… before D27E….
    assert_eq!(
        files(&dir),
        vec![
            format!("{}.pem", tc::SERIAL_3),
            format!("{}.pem", tc::SERIAL_2)
        ]
    );
    query(&mut client).expect("still verifies with certificate 2");
    // A second rotation is refused: the emulator has three certificates.
    assert_eq!(sandbox.emulator.handle(&hook, now()).status, 409);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_serial_refreshes_at_most_once_a_minute() {
    let sandbox = certificate_sandbox();
    let clock = TestClock::at(now());
    let mut client = client(&sandbox, PlatformKeys::new());
    let mut store = CertificateStore::in_memory(apiv3_key(), clock.clone());
    store.refresh(&mut client).expect("bootstrap");
    assert!(sandbox.emulator.rotate_certificates());
    // Certificate 3 is listed now but not held; a download was tried seconds ago.
    clock.advance(30);
    assert!(
        !store
            .on_unknown_serial(&mut client, tc::SERIAL_3)
            .expect("ok")
    );
    clock.advance(31);
    assert!(
        store
            .on_unknown_serial(&mut client, tc::SERIAL_3)
            .expect("ok")
    );
    assert!(client.platform_keys().get(tc::SERIAL_3).is_some());
    // A serial that is held costs nothing.
    assert!(
        store
            .on_unknown_serial(&mut client, tc::SERIAL_2)
            .expect("ok")
    );
}

/// One refused download: the store stays empty and the message names the certificate.
fn refused(key: ApiV3Key, fault: Option<CertificateFault>) -> (DownloadError<UreqError>, String) {
    let sandbox = certificate_sandbox();
    sandbox.emulator.set_certificate_fault(fault);
    let mut client = client(&sandbox, PlatformKeys::new());
    let mut store = CertificateStore::in_memory(key, TestClock::at(now()));
    let error = store.refresh(&mut client).expect_err("refused");
    assert!(store.serials().is_empty(), "nothing enters the store");
    assert_eq!(
        client.platform_keys().serials().count(),
        0,
        "nor the client"
    );
    let text = error.to_string();
    match error {
        StoreError::Download(e) => (e, text),
        other => panic!("not a download error: {other}"),
    }
}

#[test]
fn bad_certificates_are_refused_with_their_serial_and_why() {
    let (e, text) = refused(apiv3_key(), Some(CertificateFault::TamperedCiphertext));
    assert!(
        matches!(e, DownloadError::Certificate { serial_no, problem: CertificateProblem::Decrypt(CallbackError::Decrypt) } if serial_no.as_str() == tc::SERIAL_1),
        "{e:?}"
    );
    assert!(
        text.contains(tc::SERIAL_1) && text.contains("wrong APIv3 key or damaged"),
        "{text}"
    );

    let wrong = ApiV3Key::from_text("0123456789abcdef0123456789abcdef").expect("32 bytes");
    let (e, text) = refused(wrong, None);
    assert!(
        matches!(
            e,
            DownloadError::Certificate {
                problem: CertificateProblem::Decrypt(CallbackError::Decrypt),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(text.contains(tc::SERIAL_1), "{text}");

    let (e, text) = refused(apiv3_key(), Some(CertificateFault::SerialMismatch));
    assert!(
        matches!(e, DownloadError::Certificate { serial_no, problem: CertificateProblem::SerialMismatch { certificate } }
            if serial_no.as_str() == tc::SERIAL_2 && certificate.as_str() == tc::SERIAL_1),
        "{e:?}"
    );
    assert!(
        text.contains(tc::SERIAL_2) && text.contains(tc::SERIAL_1),
        "{text}"
    );

    let (e, text) = refused(apiv3_key(), Some(CertificateFault::IncludeExpired));
    assert!(
        matches!(e, DownloadError::Certificate { serial_no, problem: CertificateProblem::Certificate(CertificateError::Expired { .. }) }
            if serial_no.as_str() == tc::SERIAL_EXPIRED),
        "{e:?}"
    );
    assert!(
        text.contains(tc::SERIAL_EXPIRED) && text.contains("expired"),
        "{text}"
    );
}

#[test]
fn an_expired_certificate_file_is_refused() {
    let dir = temp_dir("expired-file");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("old.pem");
    std::fs::write(&path, tc::EXPIRED_PEM).expect("write");
    let error = load_certificate(&path, now()).expect_err("expired");
    assert!(
        error.contains(tc::SERIAL_EXPIRED) && error.contains("expired"),
        "{error}"
    );
    // A store directory drops (deletes) it on open rather than trusting it.
    let store = CertificateStore::open::<UreqError>(apiv3_key(), TestClock::at(now()), &dir)
        .expect("opens");
    assert!(store.serials().is_empty());
    assert!(files(&dir).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn public_key_merchants_get_resource_not_exists() {
    let sandbox = Sandbox::start();
    assert!(!sandbox.emulator.certificate_mode());
    let mut client = client(&sandbox, PlatformKeys::new());
    let mut store = CertificateStore::in_memory(apiv3_key(), TestClock::at(now()));
    let error = store.refresh(&mut client).expect_err("404");
    assert!(
        matches!(&error, StoreError::Download(e) if e.is_no_platform_certificates()),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("this merchant has no platform certificates: use the WeChat Pay public key"),
        "{text}"
    );
    assert!(text.contains("RESOURCE_NOT_EXISTS"), "{text}");
}

#[test]
fn mixed_mode_certificates_and_public_key_in_one_set() {
    let sandbox = certificate_sandbox();
    let public_key = RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("key");
    let keys = PlatformKeys::with_key(demo::PLATFORM_KEY_ID, public_key).expect("fits");
    let mut client = client(&sandbox, keys);
    let mut store = CertificateStore::in_memory(apiv3_key(), TestClock::at(now()));
    // The first download is verified with the certificate it names.
    store.refresh(&mut client).expect("download");
    let mut serials: Vec<&str> = client.platform_keys().serials().collect();
    serials.sort();
    let mut want = vec![demo::PLATFORM_KEY_ID, tc::SERIAL_1, tc::SERIAL_2];
    want.sort();
    assert_eq!(serials, want);
    // Without Wechatpay-Serial the answer is signed with a certificate...
    query(&mut client).expect("certificate-signed answer verifies");
    // ...and with `Wechatpay-Serial: PUB_KEY_ID_…` with the public key: both verify.
    let mut client = client
        .with_wechatpay_serial(demo::PLATFORM_KEY_ID)
        .expect("fits");
    query(&mut client).expect("public-key-signed answer verifies");
    // The certificate in the set is loaded from a file the same way (`--platform-cert`).
    let dir = temp_dir("mixed");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("cert.pem");
    std::fs::write(&path, tc::CERT_1_PEM).expect("write");
    let (serial, _) = load_certificate(&path, now()).expect("loads");
    assert_eq!(serial, tc::SERIAL_1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `wxpay` with the demo merchant credentials only (no platform key) and `args`.
fn wxpay_cli(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    let keys = wxpay_tests::KeyFiles::write();
    wxpay_tests::wxpay_command()
        .args(args)
        .env("WXPAY_BASE_URL", sandbox.base_url())
        .env("WXPAY_MCHID", demo::MCHID)
        .env("WXPAY_SERIAL", demo::MERCHANT_SERIAL)
        .env("WXPAY_PRIVATE_KEY", &keys.private_key)
        .env_remove("WXPAY_PLATFORM_PUBLIC_KEY")
        .env_remove("WXPAY_PLATFORM_SERIAL")
        .env_remove("WXPAY_PLATFORM_CERT")
        .output()
        .expect("wxpay runs")
}

#[test]
fn cli_downloads_certificates_and_verifies_with_them() {
    let sandbox = certificate_sandbox();
    let dir = temp_dir("cli");
    std::fs::create_dir_all(&dir).expect("dir");
    let key_file = dir.join("apiv3.txt");
    std::fs::write(&key_file, format!("{}\n", demo::APIV3_KEY)).expect("write");
    let out_dir = dir.join("certs");
    let out = wxpay_cli(
        &sandbox,
        &[
            "certificates",
            "download",
            "--apiv3-key-file",
            key_file.to_str().expect("utf-8"),
            "--output-dir",
            out_dir.to_str().expect("utf-8"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let serials: Vec<&str> = lines
        .iter()
        .map(|l| l["serial_no"].as_str().expect("serial_no"))
        .collect();
    assert_eq!(serials, vec![tc::SERIAL_1, tc::SERIAL_2]);
    assert!(
        lines
            .iter()
            .all(|l| l["effective_time"].is_string() && l["expire_time"].is_string())
    );
    let cert_1 = out_dir.join(format!("{}.pem", tc::SERIAL_1));
    let cert_2 = out_dir.join(format!("{}.pem", tc::SERIAL_2));
    assert_eq!(
        std::fs::read_to_string(&cert_1).expect("written"),
        tc::CERT_1_PEM
    );

    // --platform-cert (repeatable) verifies answers; the serial comes from the certificate.
    let get = [
        "permissions",
        "get",
        "--authorization-code",
        demo::AUTHORIZATION_CODE,
        "--service-id",
        demo::SERVICE_ID,
        "--platform-cert",
        cert_1.to_str().expect("utf-8"),
        "--platform-cert",
        cert_2.to_str().expect("utf-8"),
    ];
    let out = wxpay_cli(&sandbox, &get);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An expired certificate is refused up front, naming its serial.
    let expired = dir.join("expired.pem");
    std::fs::write(&expired, tc::EXPIRED_PEM).expect("write");
    let mut args = get[..6].to_vec();
    args.extend(["--platform-cert", expired.to_str().expect("utf-8")]);
    let out = wxpay_cli(&sandbox, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(tc::SERIAL_EXPIRED) && stderr.contains("expired"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // Public-key mode: 404 RESOURCE_NOT_EXISTS, said plainly, exit 4.
    sandbox.emulator.set_certificate_mode(false);
    let out = wxpay_cli(
        &sandbox,
        &[
            "certificates",
            "download",
            "--apiv3-key-file",
            key_file.to_str().expect("utf-8"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("no platform certificates: use the WeChat Pay public key"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sandbox_certificate_mode_prints_what_a_client_needs() {
    use std::io::{BufRead, BufReader};
    let mut child = wxpay_tests::wxpay_command()
        .args(["sandbox", "--listen", "127.0.0.1:0", "--certificate-mode"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sandbox starts");
    let stdout = child.stdout.take().expect("piped");
    let settings: Vec<(String, String)> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("# demo:"))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let names: Vec<&str> = settings.iter().map(|(k, _)| k.as_str()).collect();
    let run = |args: &[&str]| {
        wxpay_tests::wxpay_command()
            .args(args)
            .env_remove("WXPAY_PLATFORM_PUBLIC_KEY")
            .env_remove("WXPAY_PLATFORM_SERIAL")
            .envs(settings.clone())
            .output()
            .expect("runs")
    };
    let get = run(&[
        "permissions",
        "get",
        "--authorization-code",
        demo::AUTHORIZATION_CODE,
        "--service-id",
        demo::SERVICE_ID,
    ]);
    let dir = temp_dir("sandbox-cli");
    let download = run(&[
        "certificates",
        "download",
        "--output-dir",
        dir.to_str().expect("utf-8"),
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        names,
        [
            "WXPAY_BASE_URL",
            "WXPAY_MCHID",
            "WXPAY_SERIAL",
            "WXPAY_PRIVATE_KEY",
            "WXPAY_APIV3_KEY_FILE",
            "WXPAY_PLATFORM_CERT"
        ]
    );
    assert_eq!(
        get.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&get.stderr)
    );
    assert_eq!(
        download.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&download.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&download.stdout).lines().count(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_verifies_a_callback_signed_by_a_platform_certificate() {
    let sandbox = certificate_sandbox();
    sandbox
        .emulator
        .bind_user_for_test("CERT-CB-1", "oCertCallback");
    let callbacks = sandbox.emulator.callbacks();
    let [message] = callbacks.as_slice() else {
        panic!("one callback: {callbacks:?}")
    };
    assert!(
        message
            .headers
            .iter()
            .any(|(k, v)| k == "Wechatpay-Serial" && v == tc::SERIAL_1),
        "signed by certificate 1: {:?}",
        message.headers
    );
    let dir = temp_dir("callback");
    std::fs::create_dir_all(&dir).expect("dir");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    };
    let headers = write("cb.headers", message.headers_text().as_bytes());
    let body = write("cb.json", &message.body);
    let key = write("apiv3.txt", demo::APIV3_KEY.as_bytes());
    let cert = write("cert1.pem", tc::CERT_1_PEM.as_bytes());
    let out = wxpay_tests::wxpay_command()
        .args(["notify", "verify-decrypt", "--headers"])
        .arg(&headers)
        .arg("--body")
        .arg(&body)
        .arg("--apiv3-key-file")
        .arg(&key)
        .arg("--platform-cert")
        .arg(&cert)
        .env_remove("WXPAY_PLATFORM_PUBLIC_KEY")
        .env_remove("WXPAY_PLATFORM_SERIAL")
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let event: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(event["event"]["openid"], "oCertCallback");
    let _ = std::fs::remove_dir_all(&dir);
}
