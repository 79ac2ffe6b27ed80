//! [`Signer`](crate::sign::Signer) and [`Verifier`](crate::verify::Verifier) implementations.
//!
//! The core never picks a backend: these are options. A secure element implements the traits
//! itself; hosts can use a faster backend from an adapter crate.

#[cfg(feature = "rsa")]
pub mod rsa;
