//! Cross-crate test support: the fuzz harness (shared by `fuzz/` and the replay test) and,
//! with the default feature `fixtures`, the emulator fixtures of the integration tests.
//! The fuzz crate turns `fixtures` off, so fuzz builds do not compile the HTTP stack.

pub mod fuzz_harness;
/// The non-RSA query path shared by the zero-allocation test and the benchmarks.
#[cfg(feature = "fixtures")]
pub mod query;

#[cfg(feature = "fixtures")]
mod fixtures;
#[cfg(feature = "fixtures")]
pub use fixtures::*;

/// The repository README's Rust examples, run as doctests (each crate's own README is its
/// crate doc and is tested there).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RootReadme;
