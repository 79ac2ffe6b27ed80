//! Fixtures shared by the integration tests.

pub mod fuzz_harness;
