//! [`Signer`](crate::sign::Signer) and [`Verifier`](crate::verify::Verifier) implementations.
//!
//! The core never picks a backend: these are options. A secure element implements the traits
//! itself; hosts can use a faster backend from an adapter crate.

#[cfg(feature = "rsa-fixed")]
mod montgomery;
#[cfg(feature = "rsa")]
#[cfg_attr(docsrs, doc(cfg(feature = "rsa")))]
pub mod rsa;
#[cfg(feature = "rsa-fixed")]
#[cfg_attr(docsrs, doc(cfg(feature = "rsa-fixed")))]
pub mod rsa_fixed;

use core::fmt;

/// Why a key did not load, whatever the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum KeyError {
    /// Not a PKCS#8 or PKCS#1 RSA key in PEM or DER.
    Unreadable,
    /// Not a 2048-bit key.
    WrongSize,
    /// The key's parts do not belong together (e.g. `p·q ≠ n`, or an even modulus).
    Inconsistent,
    /// The serial is longer than [`SERIAL_CAPACITY`](crate::sign::SERIAL_CAPACITY) or empty.
    BadSerial,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyError::Unreadable => "not an RSA key in PKCS#8 or PKCS#1 PEM/DER form",
            KeyError::WrongSize => "not an RSA-2048 key",
            KeyError::Inconsistent => "the RSA key's parts do not belong together",
            KeyError::BadSerial => "certificate serial is empty or too long",
        })
    }
}

impl core::error::Error for KeyError {}
