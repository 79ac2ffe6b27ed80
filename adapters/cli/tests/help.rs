//! `--help` documents the exit codes. (Also makes `cargo test --workspace` build the binary
//! that the integration tests in `tests/` drive.)

use std::process::Command;

#[test]
fn help_documents_exit_codes_and_env() {
    let out = Command::new(env!("CARGO_BIN_EXE_wxpay"))
        .args(["permissions", "get", "--help"])
        .output()
        .expect("wxpay runs");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Exit codes:",
        "  3  transport error",
        "  5  verification failed",
        "[env: WXPAY_MCHID=]",
        "--timeout-secs",
    ] {
        assert!(help.contains(needle), "{needle:?} missing from:\n{help}");
    }
}
