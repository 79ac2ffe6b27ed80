//! `wxpay notify verify-decrypt`: verify a callback over its raw body, decrypt, print the event.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{Value, json};
use wxpay_core::callback::{self, ApiV3Key, CallbackError, Event, UserServiceEvent};
use wxpay_core::crypto::rsa::RsaVerifier;
use wxpay_core::{Clock, PlatformKeys, ResponseHeaders};
use wxpay_emulator::demo;
use wxpay_ureq::SystemClock;

use crate::{Exit, Failure};

/// Where the callback and the keys come from.
#[derive(Debug, Args)]
pub struct VerifyDecryptArgs {
    /// The request headers as `Name: value` lines (`-` for stdin).
    #[arg(long, value_name = "FILE|-")]
    headers: String,
    /// The raw request body, byte for byte (`-` for stdin).
    #[arg(long, value_name = "FILE|-")]
    body: String,
    /// A file holding the 32-character APIv3 key.
    #[arg(long, env = "WXPAY_APIV3_KEY_FILE", value_name = "FILE")]
    apiv3_key_file: Option<PathBuf>,
    /// The APIv3 key itself (prefer --apiv3-key-file: arguments are visible to other users).
    #[arg(long, env = "WXPAY_APIV3_KEY", hide_env_values = true)]
    apiv3_key: Option<String>,
    /// WeChat Pay public key (or platform certificate public key), PEM.
    #[arg(long, env = "WXPAY_PLATFORM_PUBLIC_KEY", value_name = "FILE")]
    platform_public_key: Option<PathBuf>,
    /// Its id: PUB_KEY_ID_… or the platform certificate serial.
    #[arg(long, env = "WXPAY_PLATFORM_SERIAL")]
    platform_serial: Option<String>,
    /// A platform certificate, PEM (repeatable; in WXPAY_PLATFORM_CERT comma-separated):
    /// callbacks signed by it verify too (alone or beside a public key).
    #[arg(
        long = "platform-cert",
        env = "WXPAY_PLATFORM_CERT",
        value_name = "FILE",
        value_delimiter = ','
    )]
    platform_cert: Vec<PathBuf>,
}

fn read_input(source: &str, what: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    let result = if source == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(Path::new(source))
            .and_then(|mut f| f.read_to_end(&mut bytes).map(|_| ()))
    };
    result
        .map(|()| bytes)
        .map_err(|e| Failure::usage(format!("cannot read --{what} {source}: {e}")))
}

/// Parses `Name: value` lines (a request line, if present, is skipped).
fn parse_headers(text: &[u8]) -> Result<ResponseHeaders, Failure> {
    let text = std::str::from_utf8(text).map_err(|_| Failure::usage("--headers is not UTF-8"))?;
    let mut headers = ResponseHeaders::default();
    for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        if line.starts_with("POST ") || line.starts_with("HTTP/") {
            continue;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| {
            Failure::usage(format!("--headers: not a `Name: value` line: {line}"))
        })?;
        headers.capture(name.trim(), value.trim().as_bytes());
    }
    Ok(headers)
}

/// Keys from options, or the emulator's demo keys when none are given.
fn keys(args: &VerifyDecryptArgs) -> Result<(ApiV3Key, PlatformKeys<RsaVerifier, 4>), Failure> {
    let any = args.apiv3_key_file.is_some()
        || args.apiv3_key.is_some()
        || args.platform_public_key.is_some()
        || args.platform_serial.is_some()
        || !args.platform_cert.is_empty();
    let bad_key = |e: CallbackError| Failure::usage(format!("APIv3 key: {e}"));
    if !any {
        eprintln!("wxpay: no keys given: using the built-in emulator's demo TEST keys");
        let platform = RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM)
            .map_err(|e| Failure::new(Exit::Internal, format!("demo platform key: {e}")))?;
        let keys = PlatformKeys::with_key(demo::PLATFORM_KEY_ID, platform)
            .map_err(|e| Failure::new(Exit::Internal, e.to_string()))?;
        return Ok((ApiV3Key::from_text(demo::APIV3_KEY).map_err(bad_key)?, keys));
    }
    let apiv3 = match (&args.apiv3_key_file, &args.apiv3_key) {
        (Some(path), _) => {
            let text = std::fs::read(path)
                .map_err(|e| Failure::usage(format!("--apiv3-key-file {}: {e}", path.display())))?;
            let trimmed = text.trim_ascii();
            ApiV3Key::from_bytes(trimmed).map_err(bad_key)?
        }
        (None, Some(text)) => ApiV3Key::from_text(text).map_err(bad_key)?,
        (None, None) => {
            return Err(Failure::usage(
                "missing --apiv3-key-file (or WXPAY_APIV3_KEY_FILE)",
            ));
        }
    };
    let mut keys = PlatformKeys::new();
    let now = SystemClock.unix_seconds();
    for path in &args.platform_cert {
        let (serial, key) = wxpay_ureq::certificates::load_certificate(path, now)
            .map_err(|e| Failure::usage(format!("--platform-cert {e}")))?;
        keys.insert(&serial, key)
            .map_err(|e| Failure::usage(format!("--platform-cert: {e}")))?;
    }
    if args.platform_public_key.is_none() && keys.serials().next().is_some() {
        return Ok((apiv3, keys));
    }
    let path = args.platform_public_key.as_deref().ok_or_else(|| {
        Failure::usage("missing --platform-public-key (or WXPAY_PLATFORM_PUBLIC_KEY)")
    })?;
    let serial = args
        .platform_serial
        .as_deref()
        .ok_or_else(|| Failure::usage("missing --platform-serial (or WXPAY_PLATFORM_SERIAL)"))?;
    let platform = wxpay_ureq::load_verifier(path)
        .map_err(|e| Failure::usage(format!("--platform-public-key {}: {e}", path.display())))?;
    keys.insert(serial, platform)
        .map_err(|e| Failure::usage(format!("--platform-serial: {e}")))?;
    Ok((apiv3, keys))
}

/// Verifies, decrypts and returns the event as JSON.
pub fn verify_decrypt(args: &VerifyDecryptArgs) -> Result<Value, Failure> {
    if args.headers == "-" && args.body == "-" {
        return Err(Failure::usage("--headers and --body cannot both be stdin"));
    }
    let headers = parse_headers(&read_input(&args.headers, "headers")?)?;
    let body = read_input(&args.body, "body")?;
    let (apiv3, platform) = keys(args)?;
    // The base64 ciphertext is a part of the body, so a body-sized buffer always holds it.
    let mut work = vec![0u8; body.len()];
    let now = SystemClock.unix_seconds();
    let notification = callback::verify_and_decrypt(
        &platform, &headers, &body, now, &apiv3, &mut work,
    )
    .map_err(|e| {
        let exit = match e {
            CallbackError::Envelope(_) | CallbackError::Payload(_) => Exit::Parse,
            CallbackError::BadKeyLength => Exit::Usage,
            _ => Exit::Verify,
        };
        let request_id = headers
            .request_id
            .as_deref()
            .map(|id| format!(" (Request-ID {id})"));
        Failure::new(
            exit,
            format!(
                "{e}; the callback was rejected{}",
                request_id.unwrap_or_default()
            ),
        )
    })?;
    let event = match &notification.event {
        Event::UserOpenService(e) | Event::UserCloseService(e) => user_service(e),
        Event::Other(plain) => match std::str::from_utf8(plain) {
            Ok(text) => json!({ "plaintext": text }),
            Err(_) => {
                json!({ "plaintext_hex": plain.iter().map(|b| format!("{b:02x}")).collect::<String>() })
            }
        },
    };
    let mut out = serde_json::Map::new();
    out.insert("id".into(), notification.id.as_str().into());
    if let Some(t) = &notification.create_time {
        out.insert("create_time".into(), t.as_str().into());
    }
    out.insert("event_type".into(), notification.event_type.as_str().into());
    if let Some(t) = &notification.original_type {
        out.insert("original_type".into(), t.as_str().into());
    }
    out.insert("event".into(), event);
    Ok(Value::Object(out))
}

fn user_service(e: &UserServiceEvent) -> Value {
    let mut out = serde_json::Map::new();
    for (key, value) in [
        ("appid", e.appid.as_deref()),
        ("mchid", e.mchid.as_deref()),
        ("service_id", e.service_id.as_deref()),
        ("openid", e.openid.as_deref()),
        ("user_service_status", e.user_service_status.as_deref()),
        ("openorclose_time", e.openorclose_time.as_deref()),
        ("authorization_code", e.authorization_code.as_deref()),
        ("out_request_no", e.out_request_no.as_deref()),
    ] {
        if let Some(value) = value {
            out.insert(key.into(), value.into());
        }
    }
    Value::Object(out)
}
