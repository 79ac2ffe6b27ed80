//! The RSA backend the binary signs and verifies with: AWS-LC by default (feature `aws-lc`,
//! about ten times the pure-Rust rate), or the core's pure-Rust `rsa` without it.

#[cfg(feature = "aws-lc")]
pub use wxpay_aws_lc::{
    AwsLcSigner as HostSigner, AwsLcVerifier as HostVerifier, load_signer, load_verifier,
};
#[cfg(not(feature = "aws-lc"))]
pub use wxpay_core::crypto::rsa::{RsaSigner as HostSigner, RsaVerifier as HostVerifier};
#[cfg(not(feature = "aws-lc"))]
pub use wxpay_ureq::{load_signer, load_verifier};
