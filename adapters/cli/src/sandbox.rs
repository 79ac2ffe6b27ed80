//! `wxpay sandbox`: the emulator as a loopback HTTP server, and the settings a client needs.
//!
//! The demo key files go into a new directory each run: a random name, created with mkdir
//! semantics (it fails if anything, a planted symlink included, already has that name), mode
//! 0700, and files created exclusively, mode 0600.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wxpay_core::RandomSource;
use wxpay_emulator::server::Server;
use wxpay_emulator::{Emulator, Fault, demo};
use wxpay_ureq::OsRandom;

use crate::{Exit, Failure, SandboxArgs};

pub(crate) fn run(args: &SandboxArgs) -> Result<serde_json::Value, Failure> {
    // Refused before anything is bound.
    let listen = loopback_addr(&args.listen)?;
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
    let parent = args.keys_dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = new_private_dir(&parent)?;
    let private_key = write_new(&dir, "merchant_key.pem", demo::MERCHANT_KEY_PEM)?;
    let platform_pub = write_new(&dir, "platform_pub.pem", demo::PLATFORM_PUB_PEM)?;
    let apiv3_key = write_new(&dir, "apiv3.key", demo::APIV3_KEY)?;
    let server = Server::start(Arc::new(emulator), &listen.to_string())
        .map_err(|e| Failure::new(Exit::Transport, format!("cannot listen on {listen}: {e}")))?;
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
        format!("WXPAY_PLATFORM_PUBLIC_KEY={}", platform_pub.display()),
        format!("WXPAY_PLATFORM_SERIAL={}", demo::PLATFORM_KEY_ID),
        format!("WXPAY_APIV3_KEY_FILE={}", apiv3_key.display()),
        format!(
            "# demo: wxpay permissions get --authorization-code {} --service-id {}",
            demo::AUTHORIZATION_CODE,
            demo::SERVICE_ID
        ),
    ];
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    drop(out);
    server.wait();
    Err(Failure::new(Exit::Transport, "the sandbox stopped"))
}

/// The one loopback address `listen` names; anything else is a usage error.
fn loopback_addr(listen: &str) -> Result<SocketAddr, Failure> {
    let refuse = || {
        Failure::usage(format!(
            "--listen {listen}: the sandbox listens on loopback addresses only (127.0.0.0/8, [::1], localhost)"
        ))
    };
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| Failure::usage(format!("--listen {listen}: {e}")))?
        .collect();
    match addrs.first() {
        Some(first) if addrs.iter().all(|a| a.ip().is_loopback()) => Ok(*first),
        _ => Err(refuse()),
    }
}

/// Creates `parent/wxpay-sandbox-<random>` (mode 0700), failing if the name exists.
fn new_private_dir(parent: &Path) -> Result<PathBuf, Failure> {
    let mut random = [0u8; 12];
    OsRandom
        .fill_bytes(&mut random)
        .map_err(|e| Failure::new(Exit::Internal, format!("random directory name: {e}")))?;
    let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let dir = parent.join(format!("wxpay-sandbox-{name}"));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&dir)
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// Writes a new file (never an existing one, never through a symlink), mode 0600.
fn write_new(dir: &Path, name: &str, content: &str) -> Result<PathBuf, Failure> {
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&path)
        .and_then(|mut f| f.write_all(content.as_bytes()))
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_is_loopback_only() {
        #[rustfmt::skip]
        let cases: &[(&str, bool)] = &[
            ("127.0.0.1:0", true), ("127.1.2.3:8787", true), ("[::1]:0", true),
            ("0.0.0.0:8787", false), ("[::]:0", false), ("192.0.2.1:8787", false),
            ("127.0.0.1", false), ("nonsense", false),
        ];
        for (listen, ok) in cases {
            assert_eq!(loopback_addr(listen).is_ok(), *ok, "{listen}");
        }
    }

    #[test]
    fn key_directories_are_new_private_and_unique() {
        let parent = std::env::temp_dir();
        let a = new_private_dir(&parent).expect("creates");
        let b = new_private_dir(&parent).expect("creates");
        assert_ne!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&a).expect("exists").permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let file = write_new(&a, "k", "secret").expect("writes");
        // Never over an existing file, nor through a planted symlink.
        assert!(write_new(&a, "k", "other").is_err());
        #[cfg(unix)]
        {
            let victim = a.join("victim");
            std::fs::write(&victim, "keep").expect("writes");
            std::os::unix::fs::symlink(&victim, b.join("planted")).expect("symlink");
            assert!(write_new(&b, "planted", "overwrite").is_err());
            assert_eq!(std::fs::read_to_string(&victim).expect("reads"), "keep");
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&a);
        let _ = std::fs::remove_dir_all(&b);
    }
}
