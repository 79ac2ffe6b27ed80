//! Link flags for the `.wasm` module only (host builds are untouched).
//!
//! wasm-ld leaves every function and global index in the code section as a padded 5-byte
//! LEB128, ready for relocation. `--compress-relocations` rewrites them at their minimal width:
//! 257,615 -> 242,750 bytes raw (99,147 -> 97,123 gzip) with no tool after cargo. wasm-ld
//! accepts it only without DWARF, hence `--strip-debug` (the release-wasm profile strips
//! everything anyway; a wasm32 dev build loses its DWARF).
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo::rustc-link-arg-cdylib=--strip-debug");
        println!("cargo::rustc-link-arg-cdylib=--compress-relocations");
    }
}
