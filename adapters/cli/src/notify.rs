//! `wxpay notify verify-decrypt`: verify a callback over its raw body, decrypt, print the event.

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};
use wxpay_core::callback::{self, ApiV3Key, CallbackError, Event};
use wxpay_core::crypto::rsa::RsaVerifier;
use wxpay_core::{Clock, PlatformKeys, ResponseHeaders};
use wxpay_emulator::demo;
use wxpay_ureq::SystemClock;
use zeroize::Zeroizing;

use crate::input::{MAX_APIV3_KEY_FILE_BYTES, MAX_BODY_BYTES, MAX_HEADERS_BYTES, read_bounded};
use crate::{Exit, Failure};

// Where the callback and the keys come from.
#[derive(Debug, Args)]
pub struct VerifyDecryptArgs {
    /// The request headers as `Name: value` lines (`-` for stdin; at most 64 KiB).
    #[arg(long, env = "WXPAY_HEADERS", value_name = "FILE|-")]
    headers: String,
    /// The raw request body, byte for byte (`-` for stdin; at most 1 MiB).
    #[arg(long, env = "WXPAY_BODY", value_name = "FILE|-")]
    body: String,
    /// A file holding the 32-character APIv3 key (at most 1 KiB).
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

/// Keys from options (a public key, platform certificates, or both); with `--sandbox`, the
/// emulator's demo TEST keys instead. The APIv3 key is zeroized wherever wxpay holds it: the
/// file's bytes, the option's string, the key.
fn keys(
    args: &mut VerifyDecryptArgs,
    sandbox: bool,
) -> Result<(ApiV3Key, PlatformKeys<RsaVerifier, 4>), Failure> {
    // Taken out of the arguments at once, so it is zeroized on every path.
    let apiv3_text = args.apiv3_key.take().map(Zeroizing::new);
    let given: Vec<&str> = [
        ("--apiv3-key-file", args.apiv3_key_file.is_some()),
        ("--apiv3-key", apiv3_text.is_some()),
        ("--platform-public-key", args.platform_public_key.is_some()),
        ("--platform-serial", args.platform_serial.is_some()),
        ("--platform-cert", !args.platform_cert.is_empty()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect();
    let bad_key = |e: CallbackError| Failure::usage(format!("APIv3 key: {e}"));
    if sandbox {
        if !given.is_empty() {
            return Err(Failure::usage(format!(
                "--sandbox uses the emulator's TEST keys: drop {} (or their WXPAY_* variables)",
                given.join(", ")
            )));
        }
        crate::sandbox_notice("--sandbox: using the built-in emulator's demo TEST keys".into());
        let platform = RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM)
            .map_err(|e| Failure::new(Exit::Internal, format!("demo platform key: {e}")))?;
        let keys = PlatformKeys::with_key(demo::PLATFORM_KEY_ID, platform)
            .map_err(|e| Failure::new(Exit::Internal, e.to_string()))?;
        return Ok((ApiV3Key::from_text(demo::APIV3_KEY).map_err(bad_key)?, keys));
    }
    let certificates = !args.platform_cert.is_empty();
    let mut missing = Vec::new();
    if args.apiv3_key_file.is_none() && apiv3_text.is_none() {
        missing.push("--apiv3-key-file (or WXPAY_APIV3_KEY_FILE)");
    }
    if args.platform_public_key.is_none() && !certificates {
        missing.push("--platform-public-key (or WXPAY_PLATFORM_PUBLIC_KEY) or --platform-cert");
    }
    if args.platform_public_key.is_some() && args.platform_serial.is_none() {
        missing.push("--platform-serial (or WXPAY_PLATFORM_SERIAL)");
    }
    let no_keys = |missing: &[&str]| {
        Failure::usage(format!(
            "missing {}; give the keys, or --sandbox (WXPAY_SANDBOX=1) for the emulator's TEST keys",
            missing.join(", ")
        ))
    };
    if !missing.is_empty() {
        return Err(no_keys(&missing));
    }
    let apiv3 = match (&args.apiv3_key_file, apiv3_text) {
        (Some(file), _) => {
            let source = file.to_string_lossy();
            let text = read_bounded(&source, MAX_APIV3_KEY_FILE_BYTES, "apiv3-key-file")?;
            ApiV3Key::from_bytes(text.trim_ascii()).map_err(bad_key)?
        }
        (None, Some(text)) => ApiV3Key::from_text(&text).map_err(bad_key)?,
        (None, None) => return Err(no_keys(&missing)),
    };
    let mut keys = PlatformKeys::new();
    let now = SystemClock.unix_seconds();
    for path in &args.platform_cert {
        let (serial, key) = wxpay_ureq::certificates::load_certificate(path, now)
            .map_err(|e| Failure::usage(format!("--platform-cert {e}")))?;
        keys.insert(&serial, key)
            .map_err(|e| Failure::usage(format!("--platform-cert: {e}")))?;
    }
    if let (Some(path), Some(serial)) = (&args.platform_public_key, &args.platform_serial) {
        let platform = wxpay_ureq::load_verifier(path).map_err(|e| {
            Failure::usage(format!("--platform-public-key {}: {e}", path.display()))
        })?;
        keys.insert(serial, platform)
            .map_err(|e| Failure::usage(format!("--platform-serial: {e}")))?;
    }
    Ok((apiv3, keys))
}

/// Verifies, decrypts and returns the event as JSON.
pub fn verify_decrypt(mut args: VerifyDecryptArgs, sandbox: bool) -> Result<Value, Failure> {
    let (apiv3, platform) = keys(&mut args, sandbox)?;
    if args.headers == "-" && args.body == "-" {
        return Err(Failure::usage("--headers and --body cannot both be stdin"));
    }
    let headers = parse_headers(&read_bounded(&args.headers, MAX_HEADERS_BYTES, "headers")?)?;
    let body = read_bounded(&args.body, MAX_BODY_BYTES, "body")?;
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
        Event::UserOpenService(e) | Event::UserCloseService(e) => crate::output::render(e),
        Event::UserConfirm(order) | Event::UserPaid(order) => {
            let order = order.order().map_err(|e| {
                Failure::new(
                    Exit::Parse,
                    format!("the callback's order: {e}; nothing was acted on"),
                )
            })?;
            crate::output::render(&order)
        }
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
