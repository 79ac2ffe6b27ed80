//! The `wxpay` binary against the emulator on 127.0.0.1: output contract and exit classes.

use std::process::Output;
use std::time::{Duration, Instant};

use wxpay_emulator::demo;
use wxpay_tests::{KeyFiles, Sandbox, wxpay_command};

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
    let out = get(&sandbox, "AUTHCODE-001|*", &[]);
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
            "authorization_code": "AUTHCODE-001|*",
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
    let out = get(&sandbox, "a|b*c", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["authorization_code"], "a|b*c");
    // Outside the documented charset: refused before anything is signed or sent.
    let sent = sandbox.emulator.seen_targets().len();
    for code in ["a/b?c#d%e f", "PCT+a/b=c d", "授权码-001"] {
        let out = get(&sandbox, code, &[]);
        assert_failure(&out, 2, "`authorization_code` has characters outside");
    }
    assert_eq!(
        sandbox.emulator.seen_targets().len(),
        sent,
        "nothing was sent"
    );
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
    let missing_arg = wxpay_command()
        .args(["permissions", "get", "--authorization-code", "x"])
        .env_remove("WXPAY_SERVICE_ID")
        .output()
        .expect("runs");
    assert_failure(&missing_arg, 2, "--service-id");

    let partial = wxpay_command()
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

    let bad_key = wxpay_command()
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
    let out = wxpay_command()
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
    // What the server checked, echoed in the one line: how merchants debug their signatures.
    let target = format!(
        "/v3/payscore/permissions/authorization-code/{}?service_id={}",
        demo::AUTHORIZATION_CODE,
        demo::SERVICE_ID
    );
    assert_failure(
        &out,
        4,
        &format!("(sign_information: method GET, url {target}, sign_message_length "),
    );
}

fn write_temp(name: &str, content: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("wxpay-tests-{}-{name}", std::process::id()));
    std::fs::write(&path, content).expect("temp file");
    path
}

/// The README's main-job command: `--sandbox`, the built-in emulator, a verified record.
#[test]
fn main_job_with_sandbox_uses_the_built_in_emulator() {
    for args in [
        &["--sandbox", "permissions", "get"][..],
        &["permissions", "get", "--sandbox"],
    ] {
        let out = wxpay_command()
            .args(args)
            .args(["--authorization-code", demo::AUTHORIZATION_CODE])
            .args(["--service-id", demo::SERVICE_ID])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let line = stderr_line(&out);
        assert!(
            line.contains("--sandbox: using the built-in emulator at http://127.0.0.1:"),
            "{line}"
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(json["authorization_code"], demo::AUTHORIZATION_CODE);
    }
    // A failure under --sandbox is still one line, and says the emulator was used.
    let out = wxpay_command()
        .args([
            "--sandbox",
            "permissions",
            "get",
            "--service-id",
            demo::SERVICE_ID,
        ])
        .args(["--authorization-code", "FAULT_BAD_SIGNATURE"])
        .output()
        .expect("runs");
    assert_failure(&out, 5, "signature does not match");
    assert!(
        stderr_line(&out).contains("[--sandbox: using the built-in emulator at http://127.0.0.1:")
    );
    let out = wxpay_command()
        .args([
            "permissions",
            "get",
            "--authorization-code",
            demo::AUTHORIZATION_CODE,
            "--service-id",
            demo::SERVICE_ID,
        ])
        .env("WXPAY_SANDBOX", "1")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "WXPAY_SANDBOX=1");
}

/// Without credentials and without `--sandbox` nothing runs: a kiosk with a broken env file
/// must not appear to work against the emulator.
#[test]
fn no_credentials_and_no_sandbox_is_refused() {
    #[rustfmt::skip]
    let cases: &[&[&str]] = &[
        &["permissions", "get", "--authorization-code", "x", "--service-id", "1"],
        &["permissions", "apply", "--authorization-code", "x", "--service-id", "1", "--appid", "a"],
        &["permissions", "get-by-openid", "--openid", "o", "--service-id", "1", "--appid", "a"],
        &["permissions", "terminate", "--authorization-code", "x", "--service-id", "1", "--reason", "r"],
        &["permissions", "terminate-by-openid", "--openid", "o", "--service-id", "1", "--appid", "a", "--reason", "r"],
    ];
    for args in cases {
        for sandbox in [None, Some("0"), Some("false")] {
            let mut command = wxpay_command();
            command.args(*args);
            if let Some(value) = sandbox {
                command.env("WXPAY_SANDBOX", value);
            }
            let out = command.output().expect("runs");
            assert_failure(&out, 2, "missing --mchid (or WXPAY_MCHID), --serial");
            assert!(stderr_line(&out).contains("--sandbox"), "{args:?}");
        }
    }
    // --sandbox and real settings together: refused, not silently one or the other.
    let out = wxpay_command()
        .args([
            "--sandbox",
            "permissions",
            "get",
            "--authorization-code",
            "x",
        ])
        .args(["--service-id", "1", "--mchid", "1230000109"])
        .output()
        .expect("runs");
    assert_failure(
        &out,
        2,
        "--sandbox uses the built-in emulator and its TEST keys: drop --mchid",
    );
}

/// A misspelt variable is an error naming the closest known one, before any traffic.
#[test]
fn typoed_variable_is_refused() {
    let sandbox = Sandbox::start();
    let keys = KeyFiles::write();
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("WXPAY_MCH_ID",       "unknown WXPAY_MCH_ID; did you mean WXPAY_MCHID?"),
        ("WXPAY_PRIVATEKEY",   "unknown WXPAY_PRIVATEKEY; did you mean WXPAY_PRIVATE_KEY?"),
        ("WXPAY_SANBOX",       "unknown WXPAY_SANBOX; did you mean WXPAY_SANDBOX?"),
        ("WXPAY_SERVICEID",    "unknown WXPAY_SERVICEID; did you mean WXPAY_SERVICE_ID?"),
    ];
    for (name, line) in cases {
        let out = wxpay_command()
            .args([
                "permissions",
                "get",
                "--authorization-code",
                demo::AUTHORIZATION_CODE,
            ])
            .args(["--service-id", demo::SERVICE_ID])
            .env("WXPAY_BASE_URL", sandbox.base_url())
            .env("WXPAY_MCHID", demo::MCHID)
            .env("WXPAY_SERIAL", demo::MERCHANT_SERIAL)
            .env("WXPAY_PRIVATE_KEY", &keys.private_key)
            .env("WXPAY_PLATFORM_PUBLIC_KEY", &keys.platform_public_key)
            .env("WXPAY_PLATFORM_SERIAL", demo::PLATFORM_KEY_ID)
            .env(name, "1")
            .output()
            .expect("runs");
        assert_failure(&out, 2, line);
    }
    assert_eq!(sandbox.server.connections_accepted(), 0, "nothing was sent");
}

/// A callback signed with the demo keys that ship in the repository is not accepted unless
/// `--sandbox` says the demo keys are meant.
#[test]
fn forged_callback_without_keys_is_refused() {
    let sandbox = Sandbox::start();
    let dir = temp_dir("forged");
    sandbox.emulator.set_callback_dir(Some(dir.clone()));
    sandbox
        .emulator
        .bind_user_for_test("CLI-FORGED-1", "oForged");
    let (headers, body) = callback_files(&dir);
    let verify = |sandbox_flag: bool| {
        let mut command = wxpay_command();
        if sandbox_flag {
            command.arg("--sandbox");
        }
        command
            .args(["notify", "verify-decrypt", "--headers"])
            .arg(&headers)
            .arg("--body")
            .arg(&body)
            .output()
            .expect("runs")
    };
    let refused = verify(false);
    assert_failure(
        &refused,
        2,
        "missing --apiv3-key-file (or WXPAY_APIV3_KEY_FILE)",
    );
    assert!(stderr_line(&refused).contains("--sandbox"));
    let accepted = verify(true);
    assert_eq!(
        accepted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    assert!(stderr_line(&accepted).contains("demo TEST keys"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `.` and `..` as a path segment are refused before anything is sent: `--openid ..` made
/// `POST …/openid/../terminate`, which a normalising proxy sends to another endpoint.
#[test]
fn dot_segments_are_refused_before_sending() {
    let sandbox = Sandbox::start();
    #[rustfmt::skip]
    let cases: &[&[&str]] = &[
        &["permissions", "terminate-by-openid", "--openid", "..", "--reason", "r"],
        &["permissions", "get-by-openid", "--openid", "."],
        &["permissions", "terminate", "--authorization-code", "..", "--reason", "r"],
        &["permissions", "get", "--authorization-code", ".."],
    ];
    for args in cases {
        let out = wxpay(&sandbox, args);
        let option = args[2];
        assert_failure(&out, 2, &format!("{option} cannot be empty, `.` or `..`"));
    }
    assert_eq!(sandbox.server.connections_accepted(), 0, "nothing was sent");
}

/// A raw listener on 127.0.0.1 that records whether anything connected.
struct Listener(std::net::TcpListener);

impl Listener {
    fn new() -> Listener {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.set_nonblocking(true).expect("nonblocking");
        Listener(listener)
    }

    fn url(&self) -> String {
        format!("http://{}", self.0.local_addr().expect("addr"))
    }

    /// True when a connection is waiting (connections complete in the kernel's backlog,
    /// so one made before this call is seen).
    fn was_contacted(&self) -> bool {
        self.0.accept().is_ok()
    }
}

/// `http://` goes to loopback hosts only; a malformed base URL is a usage error; both before
/// any traffic (every proxy variable points at a listener that would see it).
#[test]
fn base_url_policy_is_checked_before_any_traffic() {
    let keys = KeyFiles::write();
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("http://api.mch.weixin.qq.com",  "plain http:// is allowed only to loopback hosts"),
        ("http://192.0.2.1:8787",         "plain http:// is allowed only to loopback hosts"),
        ("http://localhost.example.com",  "plain http:// is allowed only to loopback hosts"),
        ("http://127.0.0.1@192.0.2.1",    "user info is not allowed"),
        ("htp:/x",                        "bad URL"),
        ("not a url",                     "bad URL"),
    ];
    for (url, needle) in cases {
        let proxy = Listener::new();
        let out = wxpay_command()
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
                url,
                "--mchid",
                demo::MCHID,
                "--serial",
                demo::MERCHANT_SERIAL,
            ])
            .arg("--private-key")
            .arg(&keys.private_key)
            .arg("--platform-public-key")
            .arg(&keys.platform_public_key)
            .args(["--platform-serial", demo::PLATFORM_KEY_ID])
            .args(["--proxy", &proxy.url()])
            .env("HTTP_PROXY", proxy.url())
            .env("HTTPS_PROXY", proxy.url())
            .env("ALL_PROXY", proxy.url())
            .output()
            .expect("runs");
        assert_failure(&out, 2, needle);
        assert!(stderr_line(&out).contains("--base-url"), "{url}");
        assert!(!proxy.was_contacted(), "{url}: traffic was sent");
    }
}

/// ureq's defaults obey ALL_PROXY/HTTPS_PROXY/HTTP_PROXY; wxpay uses a proxy only when told.
#[test]
fn proxies_only_when_configured() {
    let sandbox = Sandbox::start();
    let proxy = Listener::new();
    let mut command = wxpay_command();
    command
        .args([
            "permissions",
            "get",
            "--authorization-code",
            demo::AUTHORIZATION_CODE,
        ])
        .args(["--service-id", demo::SERVICE_ID]);
    let keys = KeyFiles::write();
    let settings = [
        ("WXPAY_BASE_URL", sandbox.base_url()),
        ("WXPAY_MCHID", demo::MCHID.to_owned()),
        ("WXPAY_SERIAL", demo::MERCHANT_SERIAL.to_owned()),
        ("WXPAY_PRIVATE_KEY", keys.private_key.display().to_string()),
        (
            "WXPAY_PLATFORM_PUBLIC_KEY",
            keys.platform_public_key.display().to_string(),
        ),
        ("WXPAY_PLATFORM_SERIAL", demo::PLATFORM_KEY_ID.to_owned()),
    ];
    let out = command
        .envs(settings.clone())
        .envs(
            [
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "ALL_PROXY",
                "http_proxy",
                "all_proxy",
            ]
            .map(|n| (n, proxy.url())),
        )
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .expect("runs");
    json_of(&out);
    assert!(!proxy.was_contacted(), "the environment's proxy was used");

    // With --proxy (here WXPAY_PROXY) the request goes to the proxy. A thread answers it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = listener.accept().expect("the proxy is contacted");
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.write_all(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        String::from_utf8_lossy(&head).into_owned()
    });
    let out = wxpay_command()
        .args([
            "permissions",
            "get",
            "--authorization-code",
            demo::AUTHORIZATION_CODE,
        ])
        .args(["--service-id", demo::SERVICE_ID])
        .envs(settings)
        .env("WXPAY_PROXY", &url)
        .output()
        .expect("runs");
    let head = seen.join().expect("proxy thread");
    let authority = sandbox.base_url().replace("http://", "");
    assert!(
        head.starts_with(&format!("CONNECT {authority} HTTP/1.1\r\n")),
        "{head}"
    );
    assert_failure(&out, 3, "502");
}

/// Key, header and body files past their limits are refused with a clear line; `/dev/zero`
/// used to grow the process until the kernel killed it.
#[test]
fn oversized_inputs_are_refused() {
    let sandbox = Sandbox::start();
    let keys = KeyFiles::write();
    let big = temp_dir("big").join("big.pem");
    std::fs::write(&big, vec![b'A'; 64 * 1024 + 1]).expect("writes");
    for key in [big.as_path(), std::path::Path::new("/dev/zero")] {
        let out = wxpay_command()
            .args([
                "permissions",
                "get",
                "--authorization-code",
                "x",
                "--service-id",
                "1",
            ])
            .args(["--base-url", &sandbox.base_url(), "--mchid", demo::MCHID])
            .args(["--serial", demo::MERCHANT_SERIAL])
            .arg("--private-key")
            .arg(key)
            .arg("--platform-public-key")
            .arg(&keys.platform_public_key)
            .args(["--platform-serial", demo::PLATFORM_KEY_ID])
            .output()
            .expect("runs");
        assert_failure(&out, 2, "key file is larger than 65536 bytes");
        assert!(stderr_line(&out).contains("--private-key"));
    }
    let key_file = write_temp("apiv3-forbig.key", demo::APIV3_KEY);
    let small = write_temp("small.txt", "Request-ID: x");
    let small_text = small.to_str().expect("utf-8").to_owned();
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        ("--headers", "/dev/zero", &small_text, "--headers /dev/zero: larger than 65536 bytes"),
        ("--body",    &small_text, "/dev/zero", "--body /dev/zero: larger than 1048576 bytes"),
        ("--apiv3-key-file", &small_text, &small_text, "larger than 1024 bytes"),
    ];
    for (what, headers, body, needle) in cases {
        let apiv3 = if *what == "--apiv3-key-file" {
            big.as_path()
        } else {
            key_file.as_path()
        };
        let out = wxpay_command()
            .args([
                "notify",
                "verify-decrypt",
                "--headers",
                headers,
                "--body",
                body,
            ])
            .arg("--apiv3-key-file")
            .arg(apiv3)
            .arg("--platform-public-key")
            .arg(&keys.platform_public_key)
            .args(["--platform-serial", demo::PLATFORM_KEY_ID])
            .output()
            .expect("runs");
        assert_failure(&out, 2, needle);
    }
}

/// TLS to the sandbox's plain-HTTP port fails at once with a line that says so (it waited
/// for the 15 s timeout and said "timed out: global").
#[test]
fn tls_to_a_plain_http_port_says_so() {
    let sandbox = Sandbox::start();
    let https = sandbox.base_url().replace("http://", "https://");
    let out = wxpay_command()
        .args([
            "permissions",
            "get",
            "--authorization-code",
            "x",
            "--service-id",
            "1",
        ])
        .args(["--timeout-secs", "30"])
        .envs(settings_for(&sandbox))
        .env("WXPAY_BASE_URL", https)
        .output()
        .expect("runs");
    assert_failure(&out, 3, "the server does not speak TLS (a plain-HTTP port?");
}

/// `wxpay`, `wxpay permissions` and `wxpay notify` alone: a subcommand is required.
#[test]
fn a_subcommand_is_required() {
    for args in [&[][..], &["permissions"], &["notify"], &["--sandbox"]] {
        let out = wxpay_command().args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.starts_with("wxpay: a subcommand is required"),
            "{args:?}: {text}"
        );
        assert!(text.contains("Usage: wxpay"), "{args:?}: the help follows");
    }
}

/// `wxpay sandbox --listen` on anything but loopback is refused before binding.
#[test]
fn sandbox_refuses_non_loopback_listen() {
    for listen in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8787"] {
        let out = wxpay_command()
            .args(["sandbox", "--listen", listen])
            .output()
            .expect("runs");
        assert_failure(&out, 2, "the sandbox listens on loopback addresses only");
    }
}

/// Reads `wxpay sandbox`'s settings (until the `# demo:` line).
fn sandbox_settings(child: &mut std::process::Child) -> Vec<(String, String)> {
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().expect("piped");
    BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("# demo:"))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// The README walkthrough as written: `wxpay sandbox --callback-dir DIR`, its settings
/// exported, `permissions apply`, the bind hook, then `notify verify-decrypt` on the callback
/// files with nothing but the exported settings.
#[test]
fn sandbox_walkthrough_as_the_readme_writes_it() {
    let callbacks = temp_dir("walkthrough");
    let mut child = wxpay_command()
        .args(["sandbox", "--listen", "127.0.0.1:0", "--callback-dir"])
        .arg(&callbacks)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sandbox starts");
    let settings = sandbox_settings(&mut child);
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
            "WXPAY_PLATFORM_SERIAL",
        ]
    );
    let key_dir = std::path::Path::new(&settings[3].1)
        .parent()
        .expect("dir")
        .to_owned();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_dir)
            .expect("key dir")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{}", key_dir.display());
    }
    let run = |args: &[&str]| {
        wxpay_command()
            .args(args)
            .envs(settings.clone())
            .output()
            .expect("runs")
    };
    let applied = json_of(&run(&[
        "permissions",
        "apply",
        "--authorization-code",
        "WALK-1",
        "--service-id",
        demo::SERVICE_ID,
        "--appid",
        demo::APPID,
    ]));
    assert!(applied["apply_permissions_token"].is_string());
    // curl -X POST "$WXPAY_BASE_URL/emulator/bind" -d '{"authorization_code":…,"openid":…}'
    let base = &settings[0].1;
    let status = post(
        base,
        "/emulator/bind",
        r#"{"authorization_code":"WALK-1","openid":"oWalk1"}"#,
    );
    assert_eq!(status, 204);
    let (headers, body) = callback_files(&callbacks);
    let event = json_of(&run(&[
        "notify",
        "verify-decrypt",
        "--headers",
        headers.to_str().expect("utf-8"),
        "--body",
        body.to_str().expect("utf-8"),
    ]));
    assert_eq!(event["event_type"], "PAYSCORE.USER_OPEN_SERVICE");
    assert_eq!(event["event"]["openid"], "oWalk1");
    assert_eq!(event["event"]["authorization_code"], "WALK-1");

    // A second sandbox gets a new key directory.
    let mut second = wxpay_command()
        .args(["sandbox", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sandbox starts");
    let other = sandbox_settings(&mut second);
    let _ = second.kill();
    let _ = second.wait();
    let _ = child.kill();
    let _ = child.wait();
    assert_ne!(other[3].1, settings[3].1, "a new key directory each run");
    let _ = std::fs::remove_dir_all(&callbacks);
    let _ = std::fs::remove_dir_all(&key_dir);
}

/// POSTs `body` to `base` + `path` over a raw socket; the status code.
fn post(base: &str, path: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connects");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("writes");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line")
}

/// A new, empty directory under the temp dir for this test.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wxpay-tests-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The one callback in `dir`: its `.headers` and `.json` files.
fn callback_files(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
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
    (headers.clone(), body.clone())
}

/// The settings `wxpay sandbox` would print, for the in-process `sandbox`.
fn settings_for(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let keys = KeyFiles::write();
    vec![
        ("WXPAY_BASE_URL", sandbox.base_url()),
        ("WXPAY_MCHID", demo::MCHID.to_owned()),
        ("WXPAY_SERIAL", demo::MERCHANT_SERIAL.to_owned()),
        ("WXPAY_PRIVATE_KEY", keys.private_key.display().to_string()),
        (
            "WXPAY_PLATFORM_PUBLIC_KEY",
            keys.platform_public_key.display().to_string(),
        ),
        ("WXPAY_PLATFORM_SERIAL", demo::PLATFORM_KEY_ID.to_owned()),
    ]
}

/// Runs any `wxpay` subcommand against `sandbox` with credentials from the environment.
fn wxpay(sandbox: &Sandbox, args: &[&str]) -> Output {
    let keys = KeyFiles::write();
    wxpay_command()
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
    assert_failure(&too_long, 2, "`reason` is longer than 50 characters");

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
    // A run with the same process id long ago may have left its files here.
    let _ = std::fs::remove_dir_all(&dir);
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
        let mut child = wxpay_command()
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
    let _ = std::fs::remove_dir_all(&dir);
}

/// `wxpay request`: any endpoint, signed, sent and verified like the typed calls; TARGET is
/// checked before anything is sent.
#[test]
fn request_signs_sends_and_verifies_any_endpoint() {
    let sandbox = Sandbox::start();
    let target = "/v3/payscore/permissions/authorization-code/a%7Cb%2Ac?service_id=500001";
    let out = wxpay(&sandbox, &["request", "GET", target]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["authorization_code"], "a|b*c");
    assert_eq!(
        sandbox.emulator.seen_targets().last().map(String::as_str),
        Some(target),
        "sent exactly as given"
    );
    // A POST with a body from a file, answered 204: `{}`.
    let body = write_temp(
        "request-terminate.json",
        r#"{"service_id":"500001","reason":"kiosk closed"}"#,
    );
    let out = wxpay(
        &sandbox,
        &[
            "request",
            "POST",
            "/v3/payscore/permissions/authorization-code/a%7Cb%2Ac/terminate",
            "--data",
            body.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "{}");
    // Refused before any traffic, exit 2.
    let sent = sandbox.emulator.seen_targets().len();
    #[rustfmt::skip]
    let refused: &[(&[&str], &str)] = &[
        (&["request", "GET", "/v3/../certificates"],  "`..` path segment"),
        (&["request", "GET", "/v3/a b"],              "must be percent-encoded"),
        (&["request", "GET", "v3/x"],                 "must start with /"),
        (&["request", "FETCH", "/v3/x"],              "not GET, POST"),
    ];
    for (args, needle) in refused {
        assert_failure(&wxpay(&sandbox, args), 2, needle);
    }
    assert_eq!(
        sandbox.emulator.seen_targets().len(),
        sent,
        "nothing was sent"
    );
    // An API error keeps its class and Request-ID.
    let out = wxpay(
        &sandbox,
        &[
            "request",
            "GET",
            "/v3/payscore/permissions/authorization-code/NEVER_AUTHORISED?service_id=500001",
        ],
    );
    assert_failure(&out, 4, "ORDER_NOT_EXIST");
}

/// A whole rental through the CLI (issue 14): create → the user confirms (emulator) →
/// complete with the real fees → WeChat collects (emulator) → the query shows DONE, and the
/// USER_PAID callback verifies and decrypts with `notify verify-decrypt`. Bad bodies are
/// refused before anything is sent, with the field named.
#[test]
fn a_rental_through_the_cli() {
    let sandbox = Sandbox::start();
    let callbacks = temp_dir("cli-rental");
    sandbox.emulator.set_callback_dir(Some(callbacks.clone()));
    let no = "CLI-RENT-0001";
    let create = write_temp(
        "rental-create.json",
        &format!(
            r#"{{"out_order_no":"{no}","appid":"{}","service_id":"{}","service_introduction":"充电宝租借",
               "time_range":{{"start_time":"OnAccept"}},"risk_fund":{{"name":"DEPOSIT","amount":9900}},
               "notify_url":"https://kiosk.example.com/notify","need_user_confirm":true}}"#,
            demo::APPID,
            demo::SERVICE_ID
        ),
    );
    let path = |p: &std::path::PathBuf| p.to_str().expect("utf-8 path").to_owned();
    let out = wxpay(
        &sandbox,
        &["serviceorder", "create", "--data", &path(&create)],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let order = json_of(&out);
    assert_eq!(order["state"], "CREATED");
    assert!(order["package"].is_string());

    sandbox
        .emulator
        .confirm_order(no, "oRenter0001", wxpay_emulator::system_now())
        .expect("the user confirms");

    let sent = sandbox.emulator.seen_targets().len();
    #[rustfmt::skip]
    let refused: &[(&str, &str)] = &[
        (r#"{"appid":"wxd678efh567hg6787","service_id":"500001","post_payments":[{"name":"租借费","amount":300}],"total_amount":200}"#,
         "`total_amount` is inconsistent"),
        (r#"{"appid":"wxd678efh567hg6787","service_id":"500001","post_payment":[],"total_amount":0}"#,
         "unknown field `post_payment`"),
        (r#"{"appid":"wxd678efh567hg6787","service_id":"500001","post_payments":[],"total_amount":0}"#,
         "`post_payments` needs at least 1 items"),
    ];
    for (body, needle) in refused {
        let file = write_temp("rental-bad.json", body);
        let out = wxpay(
            &sandbox,
            &[
                "serviceorder",
                "complete",
                "--out-order-no",
                no,
                "--data",
                &path(&file),
            ],
        );
        assert_failure(&out, 2, needle);
    }
    assert_eq!(
        sandbox.emulator.seen_targets().len(),
        sent,
        "nothing was sent"
    );

    let complete = write_temp(
        "rental-complete.json",
        r#"{"appid":"wxd678efh567hg6787","service_id":"500001",
            "post_payments":[{"name":"租借费","amount":300,"description":"2 小时","count":1}],
            "post_discounts":[{"name":"新人优惠","amount":100}],"total_amount":200}"#,
    );
    let out = wxpay(
        &sandbox,
        &[
            "serviceorder",
            "complete",
            "--out-order-no",
            no,
            "--data",
            &path(&complete),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_of(&out)["state_description"], "MCH_COMPLETE");

    sandbox
        .emulator
        .collect_order(no, wxpay_emulator::system_now())
        .expect("WeChat collects");
    let out = wxpay(&sandbox, &["serviceorder", "get", "--out-order-no", no]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let order = json_of(&out);
    assert_eq!(order["state"], "DONE");
    assert_eq!(order["collection"]["state"], "USER_PAID");

    // The USER_PAID callback (the last one written) through notify verify-decrypt.
    let mut files: Vec<_> = std::fs::read_dir(&callbacks)
        .expect("callback dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let headers = files
        .iter()
        .rev()
        .find(|f| f.extension().is_some_and(|e| e == "headers"));
    let headers = headers.expect("a callback was written").clone();
    let body = headers.with_extension("json");
    let keys = KeyFiles::write();
    let key_file = write_temp("rental-apiv3.key", demo::APIV3_KEY);
    let out = wxpay_command()
        .args(["notify", "verify-decrypt", "--headers"])
        .arg(&headers)
        .arg("--body")
        .arg(&body)
        .arg("--apiv3-key-file")
        .arg(&key_file)
        .arg("--platform-public-key")
        .arg(&keys.platform_public_key)
        .args(["--platform-serial", demo::PLATFORM_KEY_ID])
        .output()
        .expect("wxpay runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let event = json_of(&out);
    assert_eq!(event["event_type"], "PAYSCORE.USER_PAID");
    assert_eq!(event["event"]["out_order_no"], no);
    assert_eq!(event["event"]["state"], "DONE");

    // The cancel path: a new order, cancelled while CREATED; cancelling again is refused.
    let create = write_temp(
        "rental-create-2.json",
        &std::fs::read_to_string(&create)
            .expect("create body")
            .replace(no, "CLI-RENT-0002"),
    );
    let out = wxpay(
        &sandbox,
        &["serviceorder", "create", "--data", &path(&create)],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cancel = [
        "serviceorder",
        "cancel",
        "--out-order-no",
        "CLI-RENT-0002",
        "--reason",
        "用户未取走",
    ];
    let out = wxpay(&sandbox, &cancel);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_of(&out)["out_order_no"], "CLI-RENT-0002");
    assert_failure(&wxpay(&sandbox, &cancel), 4, "ORDER_CANCELED");
}
