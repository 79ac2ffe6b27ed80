//! `wxpay`: WeChat Pay Payscore from the command line.
//!
//! Output contract: on success, one JSON object on stdout and exit 0. On any failure, nothing on
//! stdout, one line on stderr, and an exit code naming the class of failure (see [`Exit`]).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use wxpay_core::api::permissions::{PreAuthorization, TerminateByCode, TerminateByOpenid};
use wxpay_core::{Client, ClientError, PlatformKeys};
use wxpay_emulator::server::Server;
use wxpay_emulator::{Emulator, Fault, demo};
use wxpay_ureq::{OsRandom, PRODUCTION_BASE_URL, SystemClock, Timeouts, UreqError, UreqTransport};

mod backend;
mod certificates;
mod notify;
mod output;

use backend::{HostSigner, HostVerifier};

const AFTER_HELP: &str = "\
Exit codes:
  0  success: the result is printed as one JSON object on stdout
  2  usage or configuration error (bad option, unreadable key file)
  3  transport error: cannot connect, timeout, truncated or oversized response
  4  API error: the server answered non-2xx (the line names the code and the Request-ID)
  5  verification failed: the response (or callback) signature or timestamp did not verify,
     or a callback did not decrypt (nothing printed)
  6  the verified response (or callback) body is not what the API documents
On failure nothing is written to stdout and one line is written to stderr.

With no --base-url and no credentials, wxpay starts its built-in emulator on 127.0.0.1 (demo
TEST keys) and says so on stderr. Every option can also come from its WXPAY_* variable.";

/// WeChat Pay APIv3 Payscore client.
#[derive(Debug, Parser)]
#[command(name = "wxpay", version, about, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Payscore user authorizations (permissions).
    #[command(subcommand)]
    Permissions(Permissions),
    /// Callback notifications WeChat Pay sends to notify_url.
    #[command(subcommand)]
    Notify(Notify),
    /// Run the offline WeChat Pay emulator as an HTTP server on loopback.
    Sandbox(SandboxArgs),
    /// Platform certificates (legacy verification mode).
    #[command(subcommand)]
    Certificates(certificates::Certificates),
}

#[derive(Debug, Subcommand)]
enum Permissions {
    /// Pre-authorise: create an authorization to be accepted by the user (prints the token).
    #[command(after_help = AFTER_HELP)]
    Apply {
        /// Payscore service id.
        #[arg(long, env = "WXPAY_SERVICE_ID")]
        service_id: String,
        /// App id.
        #[arg(long, env = "WXPAY_APPID")]
        appid: String,
        /// The merchant's authorization code for this user (at most 32 characters).
        #[arg(long, env = "WXPAY_AUTHORIZATION_CODE")]
        authorization_code: String,
        /// Where WeChat Pay sends the open/close callbacks.
        #[arg(long, env = "WXPAY_NOTIFY_URL")]
        notify_url: Option<String>,
        #[command(flatten)]
        conn: Connection,
    },
    /// Query a user's authorization record by authorization code.
    #[command(after_help = AFTER_HELP)]
    Get {
        /// The raw authorization code (wxpay percent-encodes it).
        #[arg(long, env = "WXPAY_AUTHORIZATION_CODE")]
        authorization_code: String,
        /// Payscore service id.
        #[arg(long, env = "WXPAY_SERVICE_ID")]
        service_id: String,
        #[command(flatten)]
        conn: Connection,
    },
    /// Query a user's authorization record by openid.
    #[command(after_help = AFTER_HELP)]
    GetByOpenid {
        /// The user's openid.
        #[arg(long, env = "WXPAY_OPENID")]
        openid: String,
        /// App id.
        #[arg(long, env = "WXPAY_APPID")]
        appid: String,
        /// Payscore service id.
        #[arg(long, env = "WXPAY_SERVICE_ID")]
        service_id: String,
        #[command(flatten)]
        conn: Connection,
    },
    /// End an authorization by authorization code.
    #[command(after_help = AFTER_HELP)]
    Terminate {
        /// The raw authorization code.
        #[arg(long, env = "WXPAY_AUTHORIZATION_CODE")]
        authorization_code: String,
        /// Payscore service id.
        #[arg(long, env = "WXPAY_SERVICE_ID")]
        service_id: String,
        /// Why (1 to 50 characters).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        conn: Connection,
    },
    /// End an authorization by openid.
    #[command(after_help = AFTER_HELP)]
    TerminateByOpenid {
        /// The user's openid.
        #[arg(long, env = "WXPAY_OPENID")]
        openid: String,
        /// App id.
        #[arg(long, env = "WXPAY_APPID")]
        appid: String,
        /// Payscore service id.
        #[arg(long, env = "WXPAY_SERVICE_ID")]
        service_id: String,
        /// Why (1 to 50 characters).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        conn: Connection,
    },
}

#[derive(Debug, Subcommand)]
enum Notify {
    /// Verify a callback's signature, decrypt it and print the event as JSON.
    #[command(after_help = AFTER_HELP)]
    VerifyDecrypt(notify::VerifyDecryptArgs),
}

/// Where to send requests and with which keys.
#[derive(Debug, Args)]
struct Connection {
    /// API base URL [default: https://api.mch.weixin.qq.com when credentials are given].
    #[arg(long, env = "WXPAY_BASE_URL")]
    base_url: Option<String>,
    /// Merchant id.
    #[arg(long, env = "WXPAY_MCHID")]
    mchid: Option<String>,
    /// Serial of the merchant API certificate (40 hex characters).
    #[arg(long, env = "WXPAY_SERIAL", value_name = "MERCHANT_CERT_SERIAL")]
    serial: Option<String>,
    /// Merchant API private key, PEM (PKCS#8 or PKCS#1).
    #[arg(long, env = "WXPAY_PRIVATE_KEY", value_name = "FILE")]
    private_key: Option<PathBuf>,
    /// WeChat Pay public key (or platform certificate public key), PEM.
    #[arg(long, env = "WXPAY_PLATFORM_PUBLIC_KEY", value_name = "FILE")]
    platform_public_key: Option<PathBuf>,
    /// Its id: PUB_KEY_ID_… (public-key mode) or the platform certificate serial.
    #[arg(long, env = "WXPAY_PLATFORM_SERIAL", value_name = "PUB_KEY_ID_…")]
    platform_serial: Option<String>,
    /// A platform certificate, PEM (repeatable; in WXPAY_PLATFORM_CERT comma-separated). Its
    /// serial comes from the certificate; alone or beside a public key (mixed mode).
    #[arg(
        long = "platform-cert",
        env = "WXPAY_PLATFORM_CERT",
        value_name = "FILE",
        value_delimiter = ','
    )]
    platform_cert: Vec<PathBuf>,
    /// Timeout for connect, each read and the whole call, in seconds.
    #[arg(long, env = "WXPAY_TIMEOUT_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=600))]
    timeout_secs: u64,
}

#[derive(Debug, Args)]
struct SandboxArgs {
    /// Address to listen on (loopback only).
    #[arg(long, env = "WXPAY_SANDBOX_LISTEN", default_value = "127.0.0.1:8787")]
    listen: String,
    /// Inject this fault into every response (e.g. bad-signature, delay-5).
    #[arg(long)]
    fault: Option<String>,
    /// Where to write the demo key files [default: a directory under the system temp dir].
    #[arg(long, value_name = "DIR")]
    keys_dir: Option<PathBuf>,
    /// Also write every callback the emulator sends into DIR (`*.headers`, `*.json`).
    #[arg(long, value_name = "DIR")]
    callback_dir: Option<PathBuf>,
    /// Sign with TEST platform certificates and serve GET /v3/certificates (legacy merchants).
    #[arg(long)]
    certificate_mode: bool,
}

/// Exit classes (documented in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Usage = 2,
    Transport = 3,
    Api = 4,
    Verify = 5,
    Parse = 6,
    Internal = 70,
}

/// A failure: its class and its one line.
#[derive(Debug)]
pub(crate) struct Failure(Exit, String);

impl Failure {
    pub(crate) fn new(exit: Exit, line: impl Into<String>) -> Self {
        Failure(exit, line.into())
    }

    pub(crate) fn usage(line: impl Into<String>) -> Self {
        Failure(Exit::Usage, line.into())
    }
}

/// Room for a public key beside two overlapping certificates and one more (mixed mode).
type WxClient = Client<UreqTransport, HostSigner, HostVerifier, SystemClock, OsRandom, 4>;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("wxpay: internal error: {}", one_line(&msg));
        std::process::exit(Exit::Internal as i32);
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version go to stdout with status 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's message spans lines; its first paragraph becomes one line.
            let text = e.render().to_string();
            let summary: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let summary = summary.join(" ");
            eprintln!(
                "wxpay: {} (see wxpay --help)",
                summary.trim_start_matches("error: ")
            );
            return ExitCode::from(Exit::Usage as u8);
        }
    };
    match run(cli) {
        Ok(json) => {
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{json}")
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(Exit::Transport as u8);
            }
            ExitCode::SUCCESS
        }
        Err(Failure(exit, line)) => {
            eprintln!("wxpay: {}", one_line(&line));
            ExitCode::from(exit as u8)
        }
    }
}

/// Room for any response body.
const RESPONSE_BUFFER: usize = 64 * 1024;

fn run(cli: Cli) -> Result<serde_json::Value, Failure> {
    let mut body = vec![0u8; RESPONSE_BUFFER];
    match cli.command {
        Command::Permissions(Permissions::Apply {
            service_id,
            appid,
            authorization_code,
            notify_url,
            conn,
        }) => {
            let (mut client, _emulator) = connect(&conn)?;
            let request = PreAuthorization {
                service_id: &service_id,
                appid: &appid,
                authorization_code: &authorization_code,
                notify_url: notify_url.as_deref(),
            };
            let token = client
                .pre_authorize(&request, &mut body)
                .map_err(client_failure)?;
            Ok(serde_json::json!({ "apply_permissions_token": token.as_str() }))
        }
        Command::Permissions(Permissions::Get {
            authorization_code,
            service_id,
            conn,
        }) => {
            let (mut client, _emulator) = connect(&conn)?;
            let record = client
                .authorization_by_code(&authorization_code, &service_id, &mut body)
                .map_err(client_failure)?;
            Ok(output::record(&record))
        }
        Command::Permissions(Permissions::GetByOpenid {
            openid,
            appid,
            service_id,
            conn,
        }) => {
            let (mut client, _emulator) = connect(&conn)?;
            let record = client
                .authorization_by_openid(&openid, &appid, &service_id, &mut body)
                .map_err(client_failure)?;
            Ok(output::record(&record))
        }
        Command::Permissions(Permissions::Terminate {
            authorization_code,
            service_id,
            reason,
            conn,
        }) => {
            let (mut client, _emulator) = connect(&conn)?;
            let request = TerminateByCode {
                service_id: &service_id,
                reason: &reason,
            };
            client
                .terminate_by_code(&authorization_code, &request, &mut body)
                .map_err(client_failure)?;
            Ok(serde_json::json!({ "authorization_code": authorization_code, "terminated": true }))
        }
        Command::Permissions(Permissions::TerminateByOpenid {
            openid,
            appid,
            service_id,
            reason,
            conn,
        }) => {
            let (mut client, _emulator) = connect(&conn)?;
            let request = TerminateByOpenid {
                service_id: &service_id,
                appid: &appid,
                reason: &reason,
            };
            client
                .terminate_by_openid(&openid, &request, &mut body)
                .map_err(client_failure)?;
            Ok(serde_json::json!({ "openid": openid, "terminated": true }))
        }
        Command::Notify(Notify::VerifyDecrypt(args)) => notify::verify_decrypt(&args),
        Command::Sandbox(args) => sandbox(&args),
        Command::Certificates(command) => certificates::run(command),
    }
}

/// Builds the client from options, or starts the built-in emulator when none are given.
/// The returned server (if any) must live as long as the client.
fn connect(conn: &Connection) -> Result<(WxClient, Option<Server>), Failure> {
    let timeouts = Timeouts::all(Duration::from_secs(conn.timeout_secs));
    let credentials = [
        conn.mchid.is_some(),
        conn.serial.is_some(),
        conn.private_key.is_some(),
        conn.platform_public_key.is_some(),
        conn.platform_serial.is_some(),
        !conn.platform_cert.is_empty(),
    ];
    if conn.base_url.is_none() && !credentials.contains(&true) {
        let server = Server::start(Arc::new(Emulator::demo()), "127.0.0.1:0").map_err(|e| {
            Failure(
                Exit::Transport,
                format!("cannot start the built-in emulator: {e}"),
            )
        })?;
        eprintln!(
            "wxpay: no --base-url or credentials given: using the built-in emulator at {} (demo TEST keys)",
            server.base_url()
        );
        let signer = HostSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL)
            .map_err(|e| Failure(Exit::Internal, format!("demo merchant key: {e}")))?;
        let platform = HostVerifier::from_pem(demo::PLATFORM_PUB_PEM)
            .map_err(|e| Failure(Exit::Internal, format!("demo platform key: {e}")))?;
        let transport = UreqTransport::new(&server.base_url(), timeouts);
        let client = build_client(
            transport,
            signer,
            platform,
            demo::MCHID,
            demo::PLATFORM_KEY_ID,
        )?;
        return Ok((client, Some(server)));
    }
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
    if conn.platform_public_key.is_none() && !conn.platform_cert.is_empty() {
        return Ok((
            certificates::connect(conn, mchid, serial, key_path, timeouts)?,
            None,
        ));
    }
    let platform_path = conn
        .platform_public_key
        .as_deref()
        .ok_or_else(|| missing("platform-public-key", "WXPAY_PLATFORM_PUBLIC_KEY"))?;
    let platform_serial = conn
        .platform_serial
        .as_deref()
        .ok_or_else(|| missing("platform-serial", "WXPAY_PLATFORM_SERIAL"))?;
    let signer = backend::load_signer(key_path, serial)
        .map_err(|e| Failure::usage(format!("--private-key {}: {e}", key_path.display())))?;
    let platform = backend::load_verifier(platform_path).map_err(|e| {
        Failure::usage(format!(
            "--platform-public-key {}: {e}",
            platform_path.display()
        ))
    })?;
    let base_url = conn.base_url.as_deref().unwrap_or(PRODUCTION_BASE_URL);
    let transport = UreqTransport::new(base_url, timeouts);
    let mut client = build_client(transport, signer, platform, mchid, platform_serial)?;
    certificates::install(&mut client, &conn.platform_cert)?;
    Ok((client, None))
}

fn build_client(
    transport: UreqTransport,
    signer: HostSigner,
    platform: HostVerifier,
    mchid: &str,
    platform_serial: &str,
) -> Result<WxClient, Failure> {
    let keys = PlatformKeys::with_key(platform_serial, platform)
        .map_err(|e| Failure::usage(format!("--platform-serial: {e}")))?;
    let mut client = Client::new(transport, signer, keys, SystemClock, OsRandom, mchid)
        .map_err(|e| Failure::usage(format!("--mchid: {e}")))?
        .with_user_agent(wxpay_ureq::USER_AGENT);
    if platform_serial.starts_with("PUB_KEY_ID_") {
        client = client
            .with_wechatpay_serial(platform_serial)
            .map_err(|e| Failure::usage(format!("--platform-serial: {e}")))?;
    }
    Ok(client)
}

/// Maps a client error to its exit class and line.
fn client_failure(error: ClientError<UreqError>) -> Failure {
    let exit = match &error {
        ClientError::Request(_) => Exit::Usage,
        ClientError::Transport(_) => Exit::Transport,
        ClientError::Api(_) => Exit::Api,
        ClientError::Verify { .. } => Exit::Verify,
        ClientError::Parse { .. } => Exit::Parse,
        _ => Exit::Internal,
    };
    Failure(exit, error.to_string())
}

fn sandbox(args: &SandboxArgs) -> Result<serde_json::Value, Failure> {
    let emulator = Emulator::demo();
    if let Some(name) = &args.fault {
        let fault = Fault::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Fault::ALL.iter().map(|(n, _)| *n).collect();
            Failure::usage(format!(
                "unknown --fault {name}; one of {} (DELAY_<secs> too)",
                names.join(", ")
            ))
        })?;
        emulator.set_fault(Some(fault));
    }
    emulator.set_callback_dir(args.callback_dir.clone());
    emulator.set_certificate_mode(args.certificate_mode);
    let server = Server::start(Arc::new(emulator), &args.listen).map_err(|e| {
        Failure(
            Exit::Transport,
            format!("cannot listen on {}: {e}", args.listen),
        )
    })?;
    if !server.addr().ip().is_loopback() {
        return Err(Failure::usage(
            "the sandbox listens on loopback addresses only",
        ));
    }
    let dir = args.keys_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("wxpay-sandbox-{}", server.addr().port()))
    });
    let write = |name: &str, pem: &str| -> Result<PathBuf, Failure> {
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join(name), pem))
            .map(|()| dir.join(name))
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", dir.join(name).display())))
    };
    let private_key = write("merchant_key.pem", demo::MERCHANT_KEY_PEM)?;
    let platform_pub = write("platform_pub.pem", demo::PLATFORM_PUB_PEM)?;
    let apiv3_key = write("apiv3_key.txt", demo::APIV3_KEY)?;
    let platform_settings = if args.certificate_mode {
        certificates::sandbox_settings(&write)?
    } else {
        vec![
            format!("WXPAY_PLATFORM_PUBLIC_KEY={}", platform_pub.display()),
            format!("WXPAY_PLATFORM_SERIAL={}", demo::PLATFORM_KEY_ID),
        ]
    };
    let mut out = std::io::stdout().lock();
    let lines = [
        format!(
            "# wxpay sandbox: WeChat Pay emulator on {} (TEST keys only)",
            server.base_url()
        ),
        format!("WXPAY_BASE_URL={}", server.base_url()),
        format!("WXPAY_MCHID={}", demo::MCHID),
        format!("WXPAY_SERIAL={}", demo::MERCHANT_SERIAL),
        format!("WXPAY_PRIVATE_KEY={}", private_key.display()),
        format!("WXPAY_APIV3_KEY_FILE={}", apiv3_key.display()),
    ];
    let lines = lines.into_iter().chain(platform_settings).chain([format!(
        "# demo: wxpay permissions get --authorization-code {} --service-id {}",
        demo::AUTHORIZATION_CODE,
        demo::SERVICE_ID
    )]);
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    drop(out);
    server.wait();
    Err(Failure(Exit::Transport, "the sandbox stopped".into()))
}

/// Control characters (newlines included) become spaces: failures are one line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn one_line_strips_newlines() {
        assert_eq!(one_line("a\nb\r\tc"), "a b  c");
    }
}
