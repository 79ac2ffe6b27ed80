//! `wxpay`: WeChat Pay Payscore from the command line.
//!
//! Output contract: on success, one JSON object on stdout and exit 0. On any failure, nothing on
//! stdout, one line on stderr, and an exit code naming the class of failure (see [`Exit`]).
// The doc comments of the clap structs are the `--help` text, where a URL or `[::1]` is plain
// text, not a link.
#![allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use wxpay_core::api::permissions::{
    PreAuthorization, QueryByCode, QueryByOpenid, TerminateByCode, TerminateByOpenid,
};
use wxpay_core::{Client, ClientError, PlatformKeys};
use wxpay_emulator::server::Server;
use wxpay_emulator::{Emulator, demo};
use wxpay_ureq::{OsRandom, PRODUCTION_BASE_URL, SystemClock, Timeouts, UreqError, UreqTransport};

mod backend;
mod certificates;
mod env;
mod input;
mod notify;
mod output;
mod sandbox;
mod serviceorder;

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

Without credentials wxpay refuses to run (exit 2). With --sandbox (or WXPAY_SANDBOX=1) it uses
its built-in emulator on 127.0.0.1 and the emulator's TEST keys instead, and says so on stderr.
Every option can also come from its WXPAY_* variable (--mchid: WXPAY_MCHID; the sandbox
subcommand's --listen: WXPAY_SANDBOX_LISTEN); an unknown WXPAY_* variable is an error.";

/// WeChat Pay APIv3 Payscore client.
#[derive(Debug, Parser)]
#[command(name = "wxpay", version, about, after_help = AFTER_HELP)]
struct Cli {
    /// Use the built-in emulator on 127.0.0.1 and its TEST keys (never real credentials).
    #[arg(
        long,
        global = true,
        env = "WXPAY_SANDBOX",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    sandbox: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
// Each subcommand's options are defined when it is parsed, not on every run.
#[command(defer = true)]
enum Command {
    /// Payscore user authorizations (permissions).
    #[command(subcommand)]
    Permissions(Permissions),
    /// Callback notifications WeChat Pay sends to notify_url.
    #[command(subcommand)]
    Notify(Notify),
    /// Payscore service orders: the rental kiosk's money flow.
    #[command(subcommand)]
    Serviceorder(serviceorder::ServiceOrderCmd),
    /// Any endpoint: sign, send, verify, and print the verified body.
    #[command(after_help = AFTER_HELP)]
    Request(serviceorder::RequestArgs),
    /// Run the offline WeChat Pay emulator as an HTTP server on loopback.
    Sandbox(SandboxArgs),
    /// Platform certificates (legacy verification mode).
    #[command(subcommand)]
    Certificates(certificates::Certificates),
}

#[derive(Debug, Subcommand)]
// Each subcommand's options are defined when it is parsed, not on every run.
#[command(defer = true)]
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
        #[arg(long, env = "WXPAY_REASON")]
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
        #[arg(long, env = "WXPAY_REASON")]
        reason: String,
        #[command(flatten)]
        conn: Connection,
    },
}

#[derive(Debug, Subcommand)]
// Each subcommand's options are defined when it is parsed, not on every run.
#[command(defer = true)]
enum Notify {
    /// Verify a callback's signature, decrypt it and print the event as JSON.
    #[command(after_help = AFTER_HELP)]
    VerifyDecrypt(notify::VerifyDecryptArgs),
}

// Where to send requests and with which keys. Plain comments on the `Args` structs, not doc
// comments: with deferred subcommands, clap would make a struct's doc comment the about text
// of the subcommand it is flattened into.
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
    /// Send requests through this HTTP proxy (`http://HOST:PORT`). No proxy is used without
    /// it: ALL_PROXY, HTTPS_PROXY and HTTP_PROXY are ignored.
    #[arg(long, env = "WXPAY_PROXY", value_name = "URL")]
    proxy: Option<String>,
}

impl Connection {
    /// The connection options that were given, as `--name`.
    fn given(&self) -> Vec<&'static str> {
        [
            ("--base-url", self.base_url.is_some()),
            ("--mchid", self.mchid.is_some()),
            ("--serial", self.serial.is_some()),
            ("--private-key", self.private_key.is_some()),
            ("--platform-public-key", self.platform_public_key.is_some()),
            ("--platform-serial", self.platform_serial.is_some()),
            ("--platform-cert", !self.platform_cert.is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

#[derive(Debug, Args)]
struct SandboxArgs {
    /// Address to listen on (loopback only: 127.0.0.0/8, [::1], localhost).
    #[arg(long, env = "WXPAY_SANDBOX_LISTEN", default_value = "127.0.0.1:8787")]
    listen: String,
    /// Inject this fault into every response (e.g. bad-signature, delay-5).
    #[arg(long, env = "WXPAY_SANDBOX_FAULT")]
    fault: Option<String>,
    /// Where to create the new key directory (mode 0700, a fresh random name each run)
    /// [default: the system temp dir].
    #[arg(long, env = "WXPAY_SANDBOX_KEYS_DIR", value_name = "DIR")]
    keys_dir: Option<PathBuf>,
    /// Also write every callback the emulator sends into DIR (`*.headers`, `*.json`).
    #[arg(long, env = "WXPAY_SANDBOX_CALLBACK_DIR", value_name = "DIR")]
    callback_dir: Option<PathBuf>,
    /// Sign with TEST platform certificates and serve GET /v3/certificates (legacy merchants).
    #[arg(
        long,
        env = "WXPAY_SANDBOX_CERTIFICATE_MODE",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
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
pub(crate) struct Failure(Exit, pub(crate) String);

impl Failure {
    pub(crate) fn new(exit: Exit, line: impl Into<String>) -> Self {
        Failure(exit, line.into())
    }

    pub(crate) fn usage(line: impl Into<String>) -> Self {
        Failure(Exit::Usage, line.into())
    }
}

/// With `--sandbox`, what was used instead of real settings: shown on stderr after a success,
/// and appended to a failure's line (which stays one line).
static SANDBOX_NOTICE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub(crate) fn sandbox_notice(text: String) {
    let _ = SANDBOX_NOTICE.set(text);
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
    if let Err(Failure(exit, line)) = env::check(std::env::vars_os()) {
        eprintln!("wxpay: {}", one_line(&line));
        return ExitCode::from(exit as u8);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                    | clap::error::ErrorKind::MissingSubcommand
            ) =>
        {
            // `wxpay` or `wxpay permissions` alone: say so, then the help, on stderr.
            eprintln!("wxpay: a subcommand is required (see below)");
            eprint!("{}", e.render());
            return ExitCode::from(Exit::Usage as u8);
        }
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
            if let Some(notice) = SANDBOX_NOTICE.get() {
                eprintln!("wxpay: {}", one_line(notice));
            }
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{json}")
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(Exit::Transport as u8);
            }
            ExitCode::SUCCESS
        }
        Err(Failure(exit, mut line)) => {
            if let Some(notice) = SANDBOX_NOTICE.get() {
                line.push_str(&format!(" [{notice}]"));
            }
            eprintln!("wxpay: {}", one_line(&line));
            ExitCode::from(exit as u8)
        }
    }
}

/// Room for any response body.
const RESPONSE_BUFFER: usize = 64 * 1024;

fn run(cli: Cli) -> Result<serde_json::Value, Failure> {
    let mut body = vec![0u8; RESPONSE_BUFFER];
    let sandbox = cli.sandbox;
    match cli.command {
        Command::Permissions(Permissions::Apply {
            service_id,
            appid,
            authorization_code,
            notify_url,
            conn,
        }) => {
            let request = PreAuthorization::new(
                &service_id,
                &appid,
                &authorization_code,
                notify_url.as_deref(),
            )
            .map_err(request_failure)?;
            let (mut client, _emulator) = connect(&conn, sandbox)?;
            let token = client.call(&request, &mut body).map_err(client_failure)?;
            Ok(output::render(&token))
        }
        Command::Permissions(Permissions::Get {
            authorization_code,
            service_id,
            conn,
        }) => {
            segment("--authorization-code", &authorization_code)?;
            let request =
                QueryByCode::new(&authorization_code, &service_id).map_err(request_failure)?;
            let (mut client, _emulator) = connect(&conn, sandbox)?;
            let record = client.call(&request, &mut body).map_err(client_failure)?;
            Ok(output::render(&record))
        }
        Command::Permissions(Permissions::GetByOpenid {
            openid,
            appid,
            service_id,
            conn,
        }) => {
            segment("--openid", &openid)?;
            let request =
                QueryByOpenid::new(&openid, &appid, &service_id).map_err(request_failure)?;
            let (mut client, _emulator) = connect(&conn, sandbox)?;
            let record = client.call(&request, &mut body).map_err(client_failure)?;
            Ok(output::render(&record))
        }
        Command::Permissions(Permissions::Terminate {
            authorization_code,
            service_id,
            reason,
            conn,
        }) => {
            segment("--authorization-code", &authorization_code)?;
            let request = TerminateByCode::new(&authorization_code, &service_id, &reason)
                .map_err(request_failure)?;
            let (mut client, _emulator) = connect(&conn, sandbox)?;
            client.call(&request, &mut body).map_err(client_failure)?;
            Ok(serde_json::json!({ "authorization_code": authorization_code, "terminated": true }))
        }
        Command::Permissions(Permissions::TerminateByOpenid {
            openid,
            appid,
            service_id,
            reason,
            conn,
        }) => {
            segment("--openid", &openid)?;
            let request = TerminateByOpenid::new(&openid, &appid, &service_id, &reason)
                .map_err(request_failure)?;
            let (mut client, _emulator) = connect(&conn, sandbox)?;
            client.call(&request, &mut body).map_err(client_failure)?;
            Ok(serde_json::json!({ "openid": openid, "terminated": true }))
        }
        Command::Serviceorder(cmd) => serviceorder::run(cmd, sandbox),
        Command::Request(args) => serviceorder::request(args, sandbox),
        Command::Notify(Notify::VerifyDecrypt(args)) => notify::verify_decrypt(args, sandbox),
        Command::Sandbox(args) => sandbox::run(&args),
        Command::Certificates(command) => certificates::run(command, sandbox),
    }
}

/// Builds the client from options; with `--sandbox`, starts the built-in emulator instead.
/// The returned server (if any) must live as long as the client.
fn connect(conn: &Connection, sandbox: bool) -> Result<(WxClient, Option<Server>), Failure> {
    let timeouts = Timeouts::all(Duration::from_secs(conn.timeout_secs));
    if sandbox {
        let given = conn.given();
        if !given.is_empty() {
            return Err(Failure::usage(format!(
                "--sandbox uses the built-in emulator and its TEST keys: drop {} (or their WXPAY_* variables)",
                given.join(", ")
            )));
        }
        let server = Server::start(Arc::new(Emulator::demo()), "127.0.0.1:0").map_err(|e| {
            Failure(
                Exit::Transport,
                format!("cannot start the built-in emulator: {e}"),
            )
        })?;
        sandbox_notice(format!(
            "--sandbox: using the built-in emulator at {} (demo TEST keys)",
            server.base_url()
        ));
        let signer = HostSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL)
            .map_err(|e| Failure(Exit::Internal, format!("demo merchant key: {e}")))?;
        let platform = HostVerifier::from_pem(demo::PLATFORM_PUB_PEM)
            .map_err(|e| Failure(Exit::Internal, format!("demo platform key: {e}")))?;
        let transport = transport(&server.base_url(), timeouts, conn.proxy.as_deref())?;
        let client = build_client(
            transport,
            signer,
            platform,
            demo::MCHID,
            demo::PLATFORM_KEY_ID,
        )?;
        return Ok((client, Some(server)));
    }
    let certificates_only = conn.platform_public_key.is_none() && !conn.platform_cert.is_empty();
    let missing: Vec<String> = [
        ("mchid", "WXPAY_MCHID", conn.mchid.is_none()),
        ("serial", "WXPAY_SERIAL", conn.serial.is_none()),
        (
            "private-key",
            "WXPAY_PRIVATE_KEY",
            conn.private_key.is_none(),
        ),
        (
            "platform-public-key",
            "WXPAY_PLATFORM_PUBLIC_KEY (or --platform-cert)",
            conn.platform_public_key.is_none() && !certificates_only,
        ),
        (
            "platform-serial",
            "WXPAY_PLATFORM_SERIAL",
            conn.platform_serial.is_none() && !certificates_only,
        ),
    ]
    .into_iter()
    .filter(|(_, _, missing)| *missing)
    .map(|(name, env, _)| format!("--{name} (or {env})"))
    .collect();
    let (Some(mchid), Some(serial), Some(key_path)) = (
        conn.mchid.as_deref(),
        conn.serial.as_deref(),
        conn.private_key.as_deref(),
    ) else {
        return Err(no_credentials(&missing));
    };
    let base_url = conn.base_url.as_deref().unwrap_or(PRODUCTION_BASE_URL);
    // Before the keys are read: a bad URL is a usage error whatever the keys are.
    wxpay_ureq::check_base_url(base_url).map_err(|e| Failure::usage(format!("--base-url: {e}")))?;
    if certificates_only {
        let transport = transport(base_url, timeouts, conn.proxy.as_deref())?;
        return Ok((
            certificates::connect(conn, transport, mchid, serial, key_path)?,
            None,
        ));
    }
    let (Some(platform_path), Some(platform_serial)) = (
        conn.platform_public_key.as_deref(),
        conn.platform_serial.as_deref(),
    ) else {
        return Err(no_credentials(&missing));
    };
    let signer = backend::load_signer(key_path, serial)
        .map_err(|e| Failure::usage(format!("--private-key {}: {e}", key_path.display())))?;
    let platform = backend::load_verifier(platform_path).map_err(|e| {
        Failure::usage(format!(
            "--platform-public-key {}: {e}",
            platform_path.display()
        ))
    })?;
    let transport = transport(base_url, timeouts, conn.proxy.as_deref())?;
    let mut client = build_client(transport, signer, platform, mchid, platform_serial)?;
    certificates::install(&mut client, &conn.platform_cert)?;
    Ok((client, None))
}

/// No credentials (or not all): exit 2, naming what is missing and the way to the sandbox.
fn no_credentials(missing: &[String]) -> Failure {
    Failure::usage(format!(
        "missing {}; give the merchant's credentials, or --sandbox (WXPAY_SANDBOX=1) for the built-in emulator and its TEST keys",
        missing.join(", ")
    ))
}

/// A value that becomes a path segment: not empty, `.` or `..` (the core refuses them too;
/// checked here first so the line names the option).
fn segment(option: &'static str, value: &str) -> Result<(), Failure> {
    wxpay_core::path::check_segment(option, value).map_err(|e| Failure::usage(e.to_string()))
}

/// The strict transport: a refused base URL or proxy is a usage error, before any traffic.
fn transport(
    base_url: &str,
    timeouts: Timeouts,
    proxy: Option<&str>,
) -> Result<UreqTransport, Failure> {
    let transport = UreqTransport::checked(base_url, timeouts)
        .map_err(|e| Failure::usage(format!("--base-url: {e}")))?;
    match proxy {
        Some(url) => transport
            .with_proxy(url)
            .map_err(|e| Failure::usage(format!("--proxy: {e}"))),
        None => Ok(transport),
    }
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
/// A request the core refused before anything was signed (exit 2, the field named).
fn request_failure(error: wxpay_core::Error) -> Failure {
    client_failure(ClientError::Request(error))
}

fn client_failure(error: ClientError<UreqError>) -> Failure {
    let exit = match &error {
        ClientError::Request(_) => Exit::Usage,
        ClientError::Transport(_) => Exit::Transport,
        // An answer larger than the buffer is not what the API documents (nothing of it was
        // verified or printed).
        ClientError::ResponseTooLarge { .. } => Exit::Parse,
        ClientError::Api(_) => Exit::Api,
        ClientError::Verify { .. } => Exit::Verify,
        ClientError::Parse { .. } => Exit::Parse,
        _ => Exit::Internal,
    };
    Failure(exit, error.to_string())
}

/// Control characters (newlines included) and the bidi and format characters that reorder or
/// hide text become spaces: failures are one honest line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if wxpay_core::api_error::is_unsafe_in_one_line(c) {
                ' '
            } else {
                c
            }
        })
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
    fn one_line_strips_newlines_and_bidi() {
        assert_eq!(one_line("a\nb\r\tc"), "a b  c");
        assert_eq!(
            one_line("x\u{202E}y\u{200B}z\u{FEFF}\u{2066}中"),
            "x y z  中"
        );
    }
}
