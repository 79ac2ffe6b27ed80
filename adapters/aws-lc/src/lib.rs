#![doc = include_str!("../README.md")]

use std::fmt;

use aws_lc_rs::digest::{Digest, SHA256};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::PublicEncryptingKey;
use aws_lc_rs::signature::{
    ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
};
use wxpay_core::sign::{SERIAL_CAPACITY, SIGNATURE_LEN, Sha256Digest, Signer};
use wxpay_core::verify::Verifier;
use zeroize::Zeroizing;

/// Modulus size in bytes that WeChat Pay uses (RSA-2048).
pub const MODULUS_LEN: usize = SIGNATURE_LEN;

pub use wxpay_core::crypto::KeyError;

/// AWS-LC refused to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignError;

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AWS-LC RSA signing failed")
    }
}

impl std::error::Error for SignError {}

/// Decodes PEM into a zeroizing DER buffer, returning its label.
fn pem_to_der(pem: &str) -> Result<(String, Zeroizing<Vec<u8>>), KeyError> {
    let (label, der) =
        pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|_| KeyError::Unreadable)?;
    Ok((label.to_owned(), Zeroizing::new(der)))
}

/// The merchant API private key with its certificate serial.
pub struct AwsLcSigner {
    key: RsaKeyPair,
    serial_no: String,
}

impl fmt::Debug for AwsLcSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsLcSigner")
            .field("serial_no", &self.serial_no)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl AwsLcSigner {
    /// Loads a private key from PEM text (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
    pub fn from_pem(pem: &str, serial_no: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_to_der(pem)?;
        let key = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            _ => return Err(KeyError::Unreadable),
        }
        .map_err(|_| KeyError::Unreadable)?;
        Self::from_key(key, serial_no)
    }

    /// Loads a private key from DER bytes (PKCS#8 or PKCS#1).
    pub fn from_der(der: &[u8], serial_no: &str) -> Result<Self, KeyError> {
        let key = RsaKeyPair::from_pkcs8(der)
            .or_else(|_| RsaKeyPair::from_der(der))
            .map_err(|_| KeyError::Unreadable)?;
        Self::from_key(key, serial_no)
    }

    /// [`Signer::sign_prehash`] through a shared reference: AWS-LC's RSA key is safe to use
    /// from many threads at once, so a server can sign on every connection without a lock.
    pub fn sign_prehash_shared(
        &self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), SignError> {
        // The core hashed the streamed message; AWS-LC pads this digest with the SHA-256
        // DigestInfo (RSASSA-PKCS1-v1_5) and signs it: the same bytes as signing the message.
        let digest = Digest::import_less_safe(digest, &SHA256).map_err(|_| SignError)?;
        self.key
            .sign_digest(&RSA_PKCS1_SHA256, &digest, out)
            .map_err(|_| SignError)
    }

    fn from_key(key: RsaKeyPair, serial_no: &str) -> Result<Self, KeyError> {
        if key.public_modulus_len() != MODULUS_LEN {
            return Err(KeyError::WrongSize);
        }
        if serial_no.is_empty() || serial_no.len() > SERIAL_CAPACITY {
            return Err(KeyError::BadSerial);
        }
        Ok(AwsLcSigner {
            key,
            serial_no: serial_no.to_owned(),
        })
    }
}

impl Signer for AwsLcSigner {
    type Error = SignError;

    fn serial_no(&self) -> &str {
        &self.serial_no
    }

    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), SignError> {
        self.sign_prehash_shared(digest, out)
    }
}

/// A platform (WeChat Pay) public key.
pub struct AwsLcVerifier {
    key: ParsedPublicKey,
}

impl fmt::Debug for AwsLcVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AwsLcVerifier(RSA-2048)")
    }
}

impl AwsLcVerifier {
    /// Loads a public key from PEM text (SPKI `BEGIN PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_to_der(pem)?;
        match label.as_str() {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Self::from_der(&der),
            _ => Err(KeyError::Unreadable),
        }
    }

    /// Loads a public key from DER bytes (SPKI or PKCS#1).
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
            .map_err(|_| KeyError::Unreadable)?;
        let spki = key.as_der().map_err(|_| KeyError::Unreadable)?;
        let bits = PublicEncryptingKey::from_der(spki.as_ref())
            .map_err(|_| KeyError::Unreadable)?
            .key_size_bits();
        if bits != MODULUS_LEN * 8 {
            return Err(KeyError::WrongSize);
        }
        Ok(AwsLcVerifier { key })
    }
}

#[cfg(feature = "certificates")]
#[cfg_attr(docsrs, doc(cfg(feature = "certificates")))]
impl wxpay_core::certificate::FromRsaPublicKey for AwsLcVerifier {
    fn from_rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Result<Self, KeyError> {
        use pkcs1::der::Encode;
        use pkcs1::der::asn1::UintRef;
        let key = pkcs1::RsaPublicKey {
            modulus: UintRef::new(modulus).map_err(|_| KeyError::Unreadable)?,
            public_exponent: UintRef::new(exponent).map_err(|_| KeyError::Unreadable)?,
        };
        // RSA-2048: 270 bytes of PKCS#1 DER; larger keys are refused as WrongSize below.
        let mut der = [0u8; 1100];
        let der = key
            .encode_to_slice(&mut der)
            .map_err(|_| KeyError::WrongSize)?;
        Self::from_der(der)
    }
}

impl Verifier for AwsLcVerifier {
    fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
        Digest::import_less_safe(digest, &SHA256)
            .is_ok_and(|digest| self.key.verify_digest_sig(&digest, signature).is_ok())
    }
}
