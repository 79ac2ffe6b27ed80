//! Fixtures for the integration tests: an emulator on 127.0.0.1, demo key files, and a client
//! wired to them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::{Client, PlatformKeys};
use wxpay_emulator::server::Server;
use wxpay_emulator::{Emulator, demo};
use wxpay_ureq::{OsRandom, SystemClock, Timeouts, UreqTransport};

/// A client over ureq with the demo keys.
pub type DemoClient = Client<UreqTransport, RsaSigner, RsaVerifier, SystemClock, OsRandom>;

/// An emulator serving on an ephemeral loopback port.
#[derive(Debug)]
pub struct Sandbox {
    /// The emulator (for seen targets, records, faults).
    pub emulator: Arc<Emulator>,
    /// The server (stops on drop).
    pub server: Server,
}

impl Sandbox {
    /// Starts the demo emulator on 127.0.0.1:0.
    pub fn start() -> Sandbox {
        let emulator = Arc::new(Emulator::demo());
        let server = Server::start(Arc::clone(&emulator), "127.0.0.1:0").expect("emulator listens");
        Sandbox { emulator, server }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// A client with the demo keys and these timeouts.
    pub fn client(&self, timeouts: Timeouts) -> DemoClient {
        let signer =
            RsaSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL).expect("demo key");
        let platform = RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("demo platform key");
        let keys = PlatformKeys::with_key(demo::PLATFORM_KEY_ID, platform).expect("fits");
        Client::new(
            UreqTransport::new(&self.base_url(), timeouts),
            signer,
            keys,
            SystemClock,
            OsRandom,
            demo::MCHID,
        )
        .and_then(|c| c.with_wechatpay_serial(demo::PLATFORM_KEY_ID))
        .expect("client builds")
        .with_user_agent(wxpay_ureq::USER_AGENT)
    }
}

/// The demo key files, written once into a per-process temp directory.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    /// Merchant private key (PKCS#8 PEM).
    pub private_key: PathBuf,
    /// Platform public key PEM.
    pub platform_public_key: PathBuf,
}

impl KeyFiles {
    /// Writes the demo keys under the system temp dir (once per process).
    pub fn write() -> KeyFiles {
        static FILES: std::sync::OnceLock<KeyFiles> = std::sync::OnceLock::new();
        FILES.get_or_init(Self::write_now).clone()
    }

    fn write_now() -> KeyFiles {
        let dir = std::env::temp_dir().join(format!("wxpay-tests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let write = |name: &str, pem: &str| {
            let path = dir.join(name);
            std::fs::write(&path, pem).expect("key file");
            path
        };
        KeyFiles {
            private_key: write("merchant_key.pem", demo::MERCHANT_KEY_PEM),
            platform_public_key: write("platform_pub.pem", demo::PLATFORM_PUB_PEM),
        }
    }
}

/// The `wxpay` binary next to the test executable (`cargo test --workspace` builds it).
pub fn wxpay_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = dir.join(format!("wxpay{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace` (it builds the wxpay binary)",
        bin.display()
    );
    bin
}

/// A command for the `wxpay` binary with no `WXPAY_*` variable of the test runner's
/// environment: every one is removed, not a list of the known ones, since an unknown one is
/// an error too. Tests set what they mean.
pub fn wxpay_command() -> std::process::Command {
    let mut command = std::process::Command::new(wxpay_binary());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WXPAY_") {
            command.env_remove(name);
        }
    }
    command
}
