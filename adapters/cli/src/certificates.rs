//! Platform certificates on the command line (issue 15): `--platform-cert FILE` wherever a
//! platform public key is accepted, and `wxpay certificates download`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use wxpay_core::api::certificates::{DownloadError, OUT_PER_CERTIFICATE, WORK_PER_CERTIFICATE};
use wxpay_core::callback::ApiV3Key;
use wxpay_core::certificate::Certificate;
use wxpay_core::{Client, Clock, PlatformKeys};
use wxpay_ureq::{OsRandom, PRODUCTION_BASE_URL, SystemClock, Timeouts, UreqError, UreqTransport};

use crate::backend::{self, HostVerifier};
use crate::{AFTER_HELP, Connection, Exit, Failure, WxClient};

/// Most certificates one download may carry.
const MAX_CERTIFICATES: usize = 8;

#[derive(Debug, Subcommand)]
// Each subcommand's options are defined when it is parsed, not on every run.
#[command(defer = true)]
pub(crate) enum Certificates {
    /// Download the platform certificates (GET /v3/certificates), decrypt and verify them,
    /// print one JSON object per certificate and write `<serial>.pem` files.
    #[command(after_help = AFTER_HELP)]
    Download(DownloadArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// File holding the 32-character APIv3 key the certificates are encrypted with.
    #[arg(long, env = "WXPAY_APIV3_KEY_FILE", value_name = "FILE")]
    apiv3_key_file: PathBuf,
    /// Where to write `<serial>.pem` [default: the current directory].
    #[arg(
        long,
        env = "WXPAY_OUTPUT_DIR",
        value_name = "DIR",
        default_value = "."
    )]
    output_dir: PathBuf,
    #[command(flatten)]
    conn: Connection,
}

/// Loads `--platform-cert` files: each must be an RSA certificate valid now.
pub(crate) fn load(paths: &[PathBuf]) -> Result<Vec<(String, HostVerifier)>, Failure> {
    let now = SystemClock.unix_seconds();
    paths
        .iter()
        .map(|path| {
            let bad = |e: &dyn std::fmt::Display| {
                Failure::usage(format!("--platform-cert {}: {e}", path.display()))
            };
            let pem = std::fs::read(path).map_err(|e| bad(&e))?;
            let mut der = vec![0u8; pem.len()];
            let cert = Certificate::from_pem(&pem, &mut der).map_err(|e| bad(&e))?;
            cert.check_validity(now).map_err(|e| bad(&e))?;
            let key = HostVerifier::from_der(cert.public_key_der()).map_err(|e| bad(&e))?;
            Ok((cert.serial().to_string(), key))
        })
        .collect()
}

/// Adds `--platform-cert` keys to a client's set (beside a public key: mixed mode).
pub(crate) fn install(client: &mut WxClient, paths: &[PathBuf]) -> Result<(), Failure> {
    for (serial, key) in load(paths)? {
        client
            .platform_keys_mut()
            .insert(&serial, key)
            .map_err(|e| Failure::usage(format!("--platform-cert: {e}")))?;
    }
    Ok(())
}

fn read_apiv3_key(path: &Path) -> Result<ApiV3Key, Failure> {
    let bytes = crate::input::read_bounded(
        &path.to_string_lossy(),
        crate::input::MAX_APIV3_KEY_FILE_BYTES,
        "apiv3-key-file",
    )?;
    ApiV3Key::from_bytes(bytes.trim_ascii())
        .map_err(|e| Failure::usage(format!("--apiv3-key-file {}: {e}", path.display())))
}

/// A client for the download: the merchant's credentials and whatever platform keys are
/// given (none: the first download verifies with the certificate the answer names).
fn client(conn: &Connection) -> Result<WxClient, Failure> {
    let missing = |name: &str, env: &str| Failure::usage(format!("missing --{name} (or {env})"));
    let mchid = conn
        .mchid
        .as_deref()
        .ok_or_else(|| missing("mchid", "WXPAY_MCHID"))?;
    let serial = conn
        .serial
        .as_deref()
        .ok_or_else(|| missing("serial", "WXPAY_SERIAL"))?;
    let key_path = conn
        .private_key
        .as_deref()
        .ok_or_else(|| missing("private-key", "WXPAY_PRIVATE_KEY"))?;
    let signer = backend::load_signer(key_path, serial)
        .map_err(|e| Failure::usage(format!("--private-key {}: {e}", key_path.display())))?;
    let timeouts = Timeouts::all(Duration::from_secs(conn.timeout_secs));
    let base_url = conn.base_url.as_deref().unwrap_or(PRODUCTION_BASE_URL);
    let mut client = Client::new(
        crate::transport(base_url, timeouts, conn.proxy.as_deref())?,
        signer,
        PlatformKeys::new(),
        SystemClock,
        OsRandom,
        mchid,
    )
    .map_err(|e| Failure::usage(format!("--mchid: {e}")))?
    .with_user_agent(wxpay_ureq::USER_AGENT);
    if let (Some(path), Some(id)) = (&conn.platform_public_key, &conn.platform_serial) {
        let key = backend::load_verifier(path).map_err(|e| {
            Failure::usage(format!("--platform-public-key {}: {e}", path.display()))
        })?;
        client
            .platform_keys_mut()
            .insert(id, key)
            .map_err(|e| Failure::usage(format!("--platform-serial: {e}")))?;
    }
    install(&mut client, &conn.platform_cert)?;
    Ok(client)
}

fn failure(error: DownloadError<UreqError>) -> Failure {
    let exit = match &error {
        DownloadError::Request(_) | DownloadError::BufferTooSmall { .. } => Exit::Usage,
        DownloadError::Transport(_) => Exit::Transport,
        DownloadError::Api(_) | DownloadError::NoPlatformCertificates(_) => Exit::Api,
        DownloadError::Verify { .. } | DownloadError::Certificate { .. } => Exit::Verify,
        DownloadError::Parse { .. } | DownloadError::TooMany { .. } => Exit::Parse,
        _ => Exit::Internal,
    };
    Failure::new(exit, error.to_string())
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = path.with_extension("pem.tmp");
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, path)
}

pub(crate) fn run(command: Certificates, sandbox: bool) -> Result<serde_json::Value, Failure> {
    let Certificates::Download(args) = command;
    if sandbox {
        return Err(Failure::usage(
            "certificates download needs the merchant's credentials: start `wxpay sandbox \
             --certificate-mode` and use the settings it prints",
        ));
    }
    let key = read_apiv3_key(&args.apiv3_key_file)?;
    let mut client = client(&args.conn)?;
    let mut body = vec![0u8; 64 * 1024];
    let mut work = vec![0u8; WORK_PER_CERTIFICATE * MAX_CERTIFICATES];
    let mut out = vec![0u8; OUT_PER_CERTIFICATE * MAX_CERTIFICATES];
    let certificates = client
        .download_certificates::<MAX_CERTIFICATES>(&key, &mut body, &mut work, &mut out)
        .map_err(failure)?;
    std::fs::create_dir_all(&args.output_dir)
        .map_err(|e| Failure::usage(format!("--output-dir {}: {e}", args.output_dir.display())))?;
    let mut lines = Vec::new();
    for cert in &certificates {
        let path = args.output_dir.join(format!("{}.pem", cert.serial));
        write_atomically(&path, cert.pem)
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
        lines.push(serde_json::json!({
            "serial_no": cert.serial.as_str(),
            "effective_time": cert.effective_time.as_str(),
            "expire_time": cert.expire_time.as_str(),
            "file": path.display().to_string(),
        }));
    }
    // One object per certificate: all but the last printed here, the last by `main`, so
    // nothing reaches stdout unless every certificate verified and was written.
    let last = lines
        .pop()
        .ok_or_else(|| Failure::new(Exit::Parse, "the answer lists no platform certificates"))?;
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        writeln!(stdout, "{line}")
            .map_err(|e| Failure::new(Exit::Transport, format!("stdout: {e}")))?;
    }
    Ok(last)
}

/// A client verifying with `--platform-cert` files only (no public key), over the strict
/// transport the caller built.
pub(crate) fn connect(
    conn: &Connection,
    transport: UreqTransport,
    mchid: &str,
    serial: &str,
    key_path: &Path,
) -> Result<WxClient, Failure> {
    let signer = backend::load_signer(key_path, serial)
        .map_err(|e| Failure::usage(format!("--private-key {}: {e}", key_path.display())))?;
    let mut client = Client::new(
        transport,
        signer,
        PlatformKeys::new(),
        SystemClock,
        OsRandom,
        mchid,
    )
    .map_err(|e| Failure::usage(format!("--mchid: {e}")))?
    .with_user_agent(wxpay_ureq::USER_AGENT);
    install(&mut client, &conn.platform_cert)?;
    Ok(client)
}

/// The sandbox's settings in certificate mode: the two listed TEST certificates.
pub(crate) fn sandbox_settings(
    write: &dyn Fn(&str, &str) -> Result<PathBuf, Failure>,
) -> Result<Vec<String>, Failure> {
    use wxpay_emulator::test_certificates as tc;
    let first = write(&format!("{}.pem", tc::SERIAL_1), tc::CERT_1_PEM)?;
    let second = write(&format!("{}.pem", tc::SERIAL_2), tc::CERT_2_PEM)?;
    Ok(vec![
        format!(
            "WXPAY_PLATFORM_CERT={},{}",
            first.display(),
            second.display()
        ),
        "# certificate mode: or fetch them with `wxpay certificates download --output-dir DIR` \
         (POST /emulator/rotate rotates)"
            .to_owned(),
    ])
}
