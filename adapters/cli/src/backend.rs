//! The RSA backend the binary signs and verifies with: AWS-LC by default (feature `aws-lc`,
//! about ten times the pure-Rust rate), or the core's pure-Rust `rsa` without it.

#[cfg(feature = "aws-lc")]
pub use wxpay_aws_lc::{AwsLcSigner as HostSigner, AwsLcVerifier as HostVerifier};

/// Loads the merchant private key file into the AWS-LC signer.
#[cfg(feature = "aws-lc")]
pub fn load_signer(
    path: &std::path::Path,
    serial_no: &str,
) -> Result<HostSigner, wxpay_ureq::KeyFileError> {
    use wxpay_ureq::KeyMaterial::{Der, Pem};
    wxpay_ureq::load_key(path, |key| match key {
        Pem(pem) => HostSigner::from_pem(pem, serial_no),
        Der(der) => HostSigner::from_der(der, serial_no),
    })
}

/// Loads a platform public key file into the AWS-LC verifier.
#[cfg(feature = "aws-lc")]
pub fn load_verifier(path: &std::path::Path) -> Result<HostVerifier, wxpay_ureq::KeyFileError> {
    use wxpay_ureq::KeyMaterial::{Der, Pem};
    wxpay_ureq::load_key(path, |key| match key {
        Pem(pem) => HostVerifier::from_pem(pem),
        Der(der) => HostVerifier::from_der(der),
    })
}
#[cfg(not(feature = "aws-lc"))]
pub use wxpay_core::crypto::rsa::{RsaSigner as HostSigner, RsaVerifier as HostVerifier};
#[cfg(not(feature = "aws-lc"))]
pub use wxpay_ureq::{load_signer, load_verifier};
