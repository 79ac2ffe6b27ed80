//! The `wxpay` binary against the emulator on 127.0.0.1: output contract and exit classes.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use wxpay_emulator::demo;
use wxpay_tests::{KeyFiles, Sandbox, wxpay_binary};

/// Runs `wxpay permissions get` for `code` against `sandbox` with credentials from the
/// environment (as a deployment would) and `extra` arguments.
fn get(sandbox: &Sandbox, code: &str, extra: &[&str]) -> Output {
    let mut args = vec!["permissions", "get", "--authorization-code", code];
    args.extend_from_slice(extra);
    wxpay(sandbox, &args)
}

fn stderr_line(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(text.lines().count(), 1, "exactly one stderr line: {text:?}");
    assert!(
        !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
        "{text}"
    );
    text
}

fn assert_failure(out: &Output, exit: i32, needle: &str) {
    assert!(
        out.stdout.is_empty(),
        "stdout must be empty: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let line = stderr_line(out);
    assert_eq!(out.status.code(), Some(exit), "{line}");
    assert!(line.contains(needle), "{line:?} should mention {needle:?}");
}

#[test]
fn happy_path_prints_the_record_exactly() {
    let sandbox = Sandbox::start();
    let out = get(&sandbox, "授权码-001", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(
        json,
        serde_json::json!({
            "service_id": "500001",
            "appid": "wxd678efh567hg6787",
            "mchid": "1230000109",
            "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "authorization_code": "授权码-001",
            "authorization_state": "AVAILABLE",
            "notify_url": "https://商户.example.com/支付分/通知",
            "authorization_success_time": "2015-05-20T13:29:35+08:00"
        })
    );
    assert_eq!(
        out.stdout.iter().filter(|b| **b == b'\n').count(),
        1,
        "one line of JSON"
    );
}

#[test]
fn awkward_codes_reach_the_server_as_one_segment() {
    let sandbox = Sandbox::start();
    for code in ["a|b*c", "a/b?c#d%e f", "PCT+a/b=c d"] {
        let out = get(&sandbox, code, &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(json["authorization_code"], code);
    }
}

#[test]
fn failure_classes() {
    let sandbox = Sandbox::start();
    #[rustfmt::skip]
    let cases: &[(&str, i32, &str)] = &[
        ("NEVER_AUTHORISED",      4, "ORDER_NOT_EXIST"),
        ("FAULT_SYSTEM_ERROR",    4, "HTTP 500 SYSTEM_ERROR"),
        ("FAULT_UNSIGNED_ERROR",  4, "HTTP 503 SERVICE_UNAVAILABLE"),
        ("FAULT_BAD_SIGNATURE",   5, "verification failed: signature does not match"),
        ("FAULT_UNKNOWN_SERIAL",  5, "verification failed: Wechatpay-Serial names no known key"),
        ("FAULT_STALE_TIMESTAMP", 5, "verification failed: response timestamp is"),
        ("FAULT_SIGNTEST_PROBE",  5, "verification failed: signature is a WECHATPAY/SIGNTEST probe"),
        ("FAULT_OVERSIZE_FIELD",  6, "field `openid` is longer than 128 bytes"),
        ("FAULT_NON_JSON_BODY",   6, "malformed JSON"),
        ("FAULT_TRUNCATED_BODY",  3, "truncated"),
    ];
    for (code, exit, needle) in cases {
        let out = get(&sandbox, code, &[]);
        assert_failure(&out, *exit, needle);
        if *exit == 4 || *exit == 5 || *exit == 6 {
            assert!(
                stderr_line(&out).contains("Request-ID "),
                "{code}: Request-ID is kept"
            );
        }
    }
}

#[test]
fn chunked_split_utf8_succeeds() {
    let sandbox = Sandbox::start();
    let out = get(&sandbox, "FAULT_CHUNKED_SPLIT_UTF8", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        json["notify_url"],
        "https://商户.example.com/支付分/通知/回调"
    );
}

#[test]
fn slow_server_gives_up_in_time() {
    let sandbox = Sandbox::start();
    let started = Instant::now();
    let out = get(&sandbox, "FAULT_DELAY_5", &["--timeout-secs", "2"]);
    let elapsed = started.elapsed();
    assert_failure(&out, 3, "timed out");
    assert!(
        elapsed < Duration::from_millis(4500),
        "gave up after {elapsed:?}"
    );
}

#[test]
fn usage_errors() {
    let sandbox = Sandbox::start();
    let missing_arg = Command::new(wxpay_binary())
        .args(["permissions", "get", "--authorization-code", "x"])
        .env_remove("WXPAY_SERVICE_ID")
        .output()
        .expect("runs");
    assert_failure(&missing_arg, 2, "--service-id");

    let partial = Command::new(wxpay_binary())
        .args([
            "permissions",
            "get",
            "--authorization-code",
            "x",
            "--service-id",
            "1",
        ])
        .args(["--base-url", &sandbox.base_url(), "--mchid", demo::MCHID])
        .output()
        .expect("runs");
    assert_failure(&partial, 2, "missing --serial");

    let bad_key = Command::new(wxpay_binary())
        .args([
            "permissions",
            "get",
            "--authorization-code",
            "x",
            "--service-id",
            "1",
        ])
        .args([
            "--base-url",
            &sandbox.base_url(),
            "--mchid",
            demo::MCHID,
            "--serial",
            demo::MERCHANT_SERIAL,
        ])
        .args([
            "--private-key",
            "/nonexistent/key.pem",
            "--platform-public-key",
            "/nonexistent/pub.pem",
        ])
        .args(["--platform-serial", demo::PLATFORM_KEY_ID])
        .output()
        .expect("runs");
    assert_failure(&bad_key, 2, "--private-key /nonexistent/key.pem");
}

#[test]
fn wrong_merchant_key_is_rejected_by_the_server() {
    let sandbox = Sandbox::start();
    let keys = KeyFiles::write();
    // Signing with the platform key instead of the merchant key: the server answers SIGN_ERROR.
    let out = Command::new(wxpay_binary())
        .args([
            "permissions",
            "get",
            "--authorization-code",
            demo::AUTHORIZATION_CODE,
            "--service-id",
            demo::SERVICE_ID,
        ])
        .args([
            "--base-url",
            &sandbox.base_url(),
            "--mchid",
            demo::MCHID,
            "--serial",
            demo::MERCHANT_SERIAL,
        ])
        .arg("--private-key")
        .arg(write_temp(
            "wrong_key.pem",
            include_str!("../../adapters/emulator/keys/platform_key.pem"),
        ))
        .arg("--platform-public-key")
        .arg(&keys.platform_public_key)
        .args(["--platform-serial", demo::PLATFORM_KEY_ID])
        .output()
        .expect("runs");
    assert_failure(&out, 4, "HTTP 401 SIGN_ERROR");
}

fn write_temp(name: &str, content: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("wxpay-tests-{}-{name}", std::process::id()));
    std::fs::write(&path, content).expect("temp file");
    path
}

/// The README's main-job command: no credentials, the built-in emulator, a verified record.
#[test]
fn main_job_without_credentials_uses_the_built_in_emulator() {
    let out = Command::new(wxpay_binary())
        .args([
            "permissions",
            "get",
            "--authorization-code",
            demo::AUTHORIZATION_CODE,
            "--service-id",
            demo::SERVICE_ID,
        ])
        .env_remove("WXPAY_BASE_URL")
        .env_remove("WXPAY_MCHID")
        .env_remove("WXPAY_SERIAL")
        .env_remove("WXPAY_PRIVATE_KEY")
        .env_remove("WXPAY_PLATFORM_PUBLIC_KEY")
        .env_remove("WXPAY_PLATFORM_SERIAL")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let line = stderr_line(&out);
    assert!(
        line.contains("built-in emulator at http://127.0.0.1:"),
        "{line}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["authorization_code"], demo::AUTHORIZATION_CODE);
}

/// `wxpay sandbox` prints the settings a client needs; a client using exactly those works.
#[test]
fn sandbox_prints_what_a_client_needs() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(wxpay_binary())
        .args(["sandbox", "--listen", "127.0.0.1:0"])
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
    assert_eq!(
        names,
        [
            "WXPAY_BASE_URL",
            "WXPAY_MCHID",
            "WXPAY_SERIAL",
            "WXPAY_PRIVATE_KEY",
            "WXPAY_APIV3_KEY_FILE",
            "WXPAY_PLATFORM_PUBLIC_KEY",
            "WXPAY_PLATFORM_SERIAL"
        ]
    );
    let out = Command::new(wxpay_binary())
        .args([
            "permissions",
            "get",
            "--authorization-code",
            demo::AUTHORIZATION_CODE,
            "--service-id",
            demo::SERVICE_ID,
        ])
        .envs(settings)
        .output()
        .expect("runs");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "no emulator notice: the sandbox was used"
    );
}

/// Runs any `wxpay` subcommand against `sandbox` with credentials from the environment.
fn wxpay(sandbox: &Sandbox, args: &[&str]) -> Output {
    let keys = KeyFiles::write();
    Command::new(wxpay_binary())
        .args(args)
        .env("WXPAY_BASE_URL", sandbox.base_url())
        .env("WXPAY_MCHID", demo::MCHID)
        .env("WXPAY_SERIAL", demo::MERCHANT_SERIAL)
        .env("WXPAY_PRIVATE_KEY", &keys.private_key)
        .env("WXPAY_PLATFORM_PUBLIC_KEY", &keys.platform_public_key)
        .env("WXPAY_PLATFORM_SERIAL", demo::PLATFORM_KEY_ID)
        .env("WXPAY_APPID", demo::APPID)
        .env("WXPAY_SERVICE_ID", demo::SERVICE_ID)
        .output()
        .expect("wxpay runs")
}

fn json_of(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn permissions_lifecycle_through_the_cli() {
    let sandbox = Sandbox::start();
    let code = "CLI-LIFE-1";
    let applied = json_of(&wxpay(
        &sandbox,
        &[
            "permissions",
            "apply",
            "--authorization-code",
            code,
            "--notify-url",
            "https://m.example.com/n",
        ],
    ));
    assert!(
        applied["apply_permissions_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let got = json_of(&wxpay(
        &sandbox,
        &["permissions", "get", "--authorization-code", code],
    ));
    assert_eq!(got["authorization_state"], "UNBINDUSER");
    assert!(got.get("openid").is_none(), "omitted, not invented");

    sandbox
        .emulator
        .bind_user(code, "oCliUser1", wxpay_emulator::system_now())
        .expect("binds");
    let by_openid = json_of(&wxpay(
        &sandbox,
        &["permissions", "get-by-openid", "--openid", "oCliUser1"],
    ));
    assert_eq!(by_openid["authorization_code"], code);
    assert_eq!(by_openid["authorization_state"], "AVAILABLE");

    let ended = json_of(&wxpay(
        &sandbox,
        &[
            "permissions",
            "terminate",
            "--authorization-code",
            code,
            "--reason",
            "用户要求",
        ],
    ));
    assert_eq!(
        ended,
        serde_json::json!({ "authorization_code": code, "terminated": true })
    );
    let got = json_of(&wxpay(
        &sandbox,
        &["permissions", "get", "--authorization-code", code],
    ));
    assert_eq!(got["authorization_state"], "UNAVAILABLE");

    let again = wxpay(
        &sandbox,
        &[
            "permissions",
            "terminate",
            "--authorization-code",
            code,
            "--reason",
            "again",
        ],
    );
    assert_failure(&again, 4, "INVALID_ORDER_STATE");
    let long = "长".repeat(51);
    let too_long = wxpay(
        &sandbox,
        &[
            "permissions",
            "terminate-by-openid",
            "--openid",
            "oCliUser1",
            "--reason",
            &long,
        ],
    );
    assert_failure(&too_long, 2, "reason (characters) is longer than 50");

    sandbox
        .emulator
        .bind_user_for_test("CLI-LIFE-2", "oCliUser2");
    let ended = json_of(&wxpay(
        &sandbox,
        &[
            "permissions",
            "terminate-by-openid",
            "--openid",
            "oCliUser2",
            "--reason",
            "r",
        ],
    ));
    assert_eq!(
        ended,
        serde_json::json!({ "openid": "oCliUser2", "terminated": true })
    );
}

#[test]
fn notify_verify_decrypt_from_files_and_stdin() {
    use std::io::Write;
    let sandbox = Sandbox::start();
    let dir = std::env::temp_dir().join(format!("wxpay-tests-callbacks-{}", std::process::id()));
    sandbox.emulator.set_callback_dir(Some(dir.clone()));
    sandbox
        .emulator
        .bind_user_for_test("CLI-CB-1", "oCliCallback");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("callback dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let [headers, body] = files.as_slice() else {
        panic!("one callback, two files: {files:?}")
    };
    assert_eq!(
        headers.extension().and_then(|e| e.to_str()),
        Some("headers")
    );

    let keys = KeyFiles::write();
    let key_file = write_temp("apiv3.key", demo::APIV3_KEY);
    let run = |headers: &str, body: &str, stdin: Option<Vec<u8>>| {
        let mut child = Command::new(wxpay_binary())
            .args([
                "notify",
                "verify-decrypt",
                "--headers",
                headers,
                "--body",
                body,
            ])
            .arg("--apiv3-key-file")
            .arg(&key_file)
            .arg("--platform-public-key")
            .arg(&keys.platform_public_key)
            .args(["--platform-serial", demo::PLATFORM_KEY_ID])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs");
        let mut stdin_pipe = child.stdin.take().expect("stdin");
        stdin_pipe
            .write_all(&stdin.unwrap_or_default())
            .expect("writes");
        drop(stdin_pipe);
        child.wait_with_output().expect("finishes")
    };
    let headers_path = headers.to_str().expect("utf-8 path");
    let body_path = body.to_str().expect("utf-8 path");
    let event = json_of(&run(headers_path, body_path, None));
    assert_eq!(event["event_type"], "PAYSCORE.USER_OPEN_SERVICE");
    assert_eq!(event["event"]["openid"], "oCliCallback");
    assert_eq!(event["event"]["user_service_status"], "USER_OPEN_SERVICE");
    assert_eq!(event["event"]["authorization_code"], "CLI-CB-1");

    let from_stdin = json_of(&run(
        headers_path,
        "-",
        Some(std::fs::read(body).expect("body")),
    ));
    assert_eq!(from_stdin, event);

    let mut tampered = std::fs::read(body).expect("body");
    tampered.push(b' ');
    let rejected = run(headers_path, "-", Some(tampered));
    assert_failure(
        &rejected,
        5,
        "callback verification failed: signature does not match",
    );
}
