//! Platform certificates (PROTOCOL.md §10): WeChat Pay's X.509 certificates that legacy
//! merchants verify responses with, instead of a `PUB_KEY_ID_…` key.
//!
//! A certificate is read with RustCrypto's `der` reader, `spki` and `pkcs1` reference types,
//! borrowing the caller's bytes: no allocator. (`x509-cert` would be the natural choice, but it
//! links `alloc` unconditionally — its `Name` and extension lists are `Vec`s — so the core reads
//! the few fields it needs from the `TBSCertificate` itself, with the same RustCrypto types.)
//!
//! Only what verification needs is kept: the serial (upper-case hex, the `Wechatpay-Serial` of
//! responses it signs), the validity window and the RSA public key. The issuer's signature is
//! not checked: trust in a downloaded certificate rests on the AEAD tag under the APIv3 key and
//! on the download's own signature (see [`crate::api::certificates`]); a certificate file is
//! trusted as its operator's configuration, like a public-key file.

use core::fmt;

use der::asn1::{AnyRef, BitStringRef, GeneralizedTime, UintRef, UtcTime};
use der::{Decode, Reader, SliceReader, Tag, TagMode, TagNumber, Tagged};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use crate::crypto::KeyError;
use crate::verify::{PlatformKeys, Verifier};

/// Longest serial kept, in hex digits: X.509 serials are at most 20 bytes (RFC 5280 §4.1.2.2).
pub const SERIAL_HEX_CAPACITY: usize = 40;
/// The PEM label of a certificate.
pub const PEM_LABEL: &str = "CERTIFICATE";

/// A certificate serial as WeChat Pay writes it: upper-case hex, no leading zeros. `Copy`, so
/// errors can name the certificate they are about.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Serial {
    text: [u8; SERIAL_HEX_CAPACITY],
    len: u8,
}

impl Serial {
    /// From the big-endian bytes of a positive INTEGER (leading zero bytes allowed).
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Serial, CertificateError> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut text = [0u8; SERIAL_HEX_CAPACITY];
        let mut len = 0usize;
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        for (i, byte) in bytes.iter().skip(start).enumerate() {
            for (j, nibble) in [byte >> 4, byte & 0x0f].into_iter().enumerate() {
                // The first digit of the number is never a zero.
                if i == 0 && j == 0 && nibble == 0 {
                    continue;
                }
                let slot = text.get_mut(len).ok_or(CertificateError::SerialTooLong)?;
                *slot = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
                len += 1;
            }
        }
        if len == 0 {
            return Err(CertificateError::Der {
                what: "serial number is zero",
            });
        }
        Ok(Serial {
            text,
            len: len as u8,
        })
    }

    /// From text such as a `serial_no` field: 1 to 40 characters, kept as given.
    pub fn from_text(text: &str) -> Option<Serial> {
        if text.is_empty() || text.len() > SERIAL_HEX_CAPACITY {
            return None;
        }
        let mut out = [0u8; SERIAL_HEX_CAPACITY];
        out.get_mut(..text.len())?.copy_from_slice(text.as_bytes());
        Some(Serial {
            text: out,
            len: text.len() as u8,
        })
    }

    /// The serial as text.
    pub fn as_str(&self) -> &str {
        self.text
            .get(..usize::from(self.len))
            .and_then(|t| core::str::from_utf8(t).ok())
            .unwrap_or_default()
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.as_str())
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a certificate was refused. Nothing refused ever enters a key set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// Not a PEM `CERTIFICATE` block (RFC 7468).
    Pem,
    /// The DER is not an X.509 certificate; `what` says which part.
    Der {
        /// The part that did not decode.
        what: &'static str,
    },
    /// The serial is longer than 20 bytes.
    SerialTooLong,
    /// The subject key is not an RSA key.
    NotRsa {
        /// The certificate.
        serial: Serial,
    },
    /// The RSA key was refused by the verifier backend (e.g. not RSA-2048).
    Key {
        /// The certificate.
        serial: Serial,
        /// Why.
        error: KeyError,
    },
    /// `now` is before the certificate's `notBefore`.
    NotYetValid {
        /// The certificate.
        serial: Serial,
        /// `notBefore`, Unix seconds.
        not_before: i64,
    },
    /// `now` is after the certificate's `notAfter`.
    Expired {
        /// The certificate.
        serial: Serial,
        /// `notAfter`, Unix seconds.
        not_after: i64,
    },
    /// The work buffer is too small; `needed` bytes would do.
    BufferTooSmall {
        /// The size that would do.
        needed: usize,
    },
    /// The key set has no room for another key.
    KeySetFull {
        /// The certificate.
        serial: Serial,
    },
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateError::Pem => f.write_str("not a PEM CERTIFICATE"),
            CertificateError::Der { what } => write!(f, "not an X.509 certificate: {what}"),
            CertificateError::SerialTooLong => f.write_str("serial number is over 20 bytes"),
            CertificateError::NotRsa { serial } => {
                write!(f, "certificate {serial}: the key is not RSA")
            }
            CertificateError::Key { serial, error } => {
                write!(f, "certificate {serial}: {error}")
            }
            CertificateError::NotYetValid { serial, not_before } => {
                write!(
                    f,
                    "certificate {serial} is not valid before {not_before} (Unix time)"
                )
            }
            CertificateError::Expired { serial, not_after } => {
                write!(f, "certificate {serial} expired at {not_after} (Unix time)")
            }
            CertificateError::BufferTooSmall { needed } => {
                write!(f, "work buffer too small: {needed} bytes needed")
            }
            CertificateError::KeySetFull { serial } => {
                write!(f, "certificate {serial}: the platform key set is full")
            }
        }
    }
}

impl core::error::Error for CertificateError {}

/// A verifier backend that can be built from an RSA public key's modulus and exponent
/// (big-endian, without leading zeros). Both the `rsa` crate backend and fixed-size backends
/// fit; a secure element may implement it by loading the key.
pub trait FromRsaPublicKey: Sized {
    /// The verifier for this key.
    fn from_rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Result<Self, KeyError>;
}

#[cfg(feature = "rsa")]
impl FromRsaPublicKey for crate::crypto::rsa::RsaVerifier {
    fn from_rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Result<Self, KeyError> {
        crate::crypto::rsa::RsaVerifier::from_components(modulus, exponent)
    }
}

/// An X.509 certificate, read but not yet trusted: borrows the DER it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Certificate<'a> {
    serial: Serial,
    not_before: i64,
    not_after: i64,
    modulus: &'a [u8],
    exponent: &'a [u8],
    spki: &'a [u8],
}

/// A failure inside a DER `SEQUENCE` reader, which needs `From<der::Error>`.
struct Fail(CertificateError);

impl From<der::Error> for Fail {
    fn from(_: der::Error) -> Self {
        Fail(CertificateError::Der {
            what: "certificate",
        })
    }
}

impl From<CertificateError> for Fail {
    fn from(e: CertificateError) -> Self {
        Fail(e)
    }
}

fn der_error(what: &'static str) -> impl Fn(der::Error) -> CertificateError {
    move |_| CertificateError::Der { what }
}

/// Reads a `Time` (UTCTime or GeneralizedTime) as Unix seconds.
fn read_time(r: &mut SliceReader<'_>, what: &'static str) -> Result<i64, CertificateError> {
    let tag = Tag::peek(r).map_err(der_error(what))?;
    let secs = match tag {
        Tag::UtcTime => UtcTime::decode(r)
            .map_err(der_error(what))?
            .to_unix_duration(),
        Tag::GeneralizedTime => GeneralizedTime::decode(r)
            .map_err(der_error(what))?
            .to_unix_duration(),
        _ => return Err(CertificateError::Der { what }),
    }
    .as_secs();
    i64::try_from(secs).map_err(|_| CertificateError::Der { what })
}

struct Tbs<'a> {
    serial: Serial,
    not_before: i64,
    not_after: i64,
    key: SubjectPublicKeyInfoRef<'a>,
    spki: &'a [u8],
}

fn read_tbs<'a>(r: &mut SliceReader<'a>) -> Result<Tbs<'a>, Fail> {
    r.sequence(|r: &mut SliceReader<'a>| {
        let version = r
            .context_specific::<u8>(TagNumber(0), TagMode::Explicit)
            .map_err(der_error("version"))?
            .unwrap_or(0);
        if version > 2 {
            return Err(CertificateError::Der { what: "version" }.into());
        }
        let serial = UintRef::decode(r).map_err(der_error("serial number"))?;
        let serial = Serial::from_be_bytes(serial.as_bytes())?;
        AlgorithmIdentifierRef::decode(r).map_err(der_error("signature algorithm"))?;
        let issuer = AnyRef::decode(r).map_err(der_error("issuer"))?;
        if issuer.tag() != Tag::Sequence {
            return Err(CertificateError::Der { what: "issuer" }.into());
        }
        let (not_before, not_after) = r.sequence(|r: &mut SliceReader<'a>| {
            let not_before = read_time(r, "validity notBefore")?;
            let not_after = read_time(r, "validity notAfter")?;
            Ok::<_, Fail>((not_before, not_after))
        })?;
        if not_after < not_before {
            return Err(CertificateError::Der {
                what: "validity ends before it starts",
            }
            .into());
        }
        let subject = AnyRef::decode(r).map_err(der_error("subject"))?;
        if subject.tag() != Tag::Sequence {
            return Err(CertificateError::Der { what: "subject" }.into());
        }
        let spki = r.tlv_bytes().map_err(der_error("subjectPublicKeyInfo"))?;
        let key =
            SubjectPublicKeyInfoRef::from_der(spki).map_err(der_error("subjectPublicKeyInfo"))?;
        // issuerUniqueID, subjectUniqueID, extensions: well-formed TLVs, not needed here.
        while !r.is_finished() {
            r.tlv_bytes().map_err(der_error("extensions"))?;
        }
        Ok(Tbs {
            serial,
            not_before,
            not_after,
            key,
            spki,
        })
    })
}

impl<'a> Certificate<'a> {
    /// Reads a DER certificate. Checks structure only; see [`Certificate::check_validity`].
    pub fn from_der(der: &'a [u8]) -> Result<Certificate<'a>, CertificateError> {
        let mut reader = SliceReader::new(der).map_err(der_error("certificate"))?;
        let tbs = reader
            .sequence(|r: &mut SliceReader<'a>| {
                let tbs = read_tbs(r)?;
                AlgorithmIdentifierRef::decode(r).map_err(der_error("signatureAlgorithm"))?;
                BitStringRef::decode(r).map_err(der_error("signatureValue"))?;
                Ok::<_, Fail>(tbs)
            })
            .map_err(|f| f.0)?;
        reader
            .finish()
            .map_err(der_error("bytes after the certificate"))?;
        let serial = tbs.serial;
        if tbs.key.algorithm.oid != pkcs1::ALGORITHM_OID {
            return Err(CertificateError::NotRsa { serial });
        }
        let bits = tbs
            .key
            .subject_public_key
            .as_bytes()
            .ok_or(CertificateError::NotRsa { serial })?;
        let rsa = pkcs1::RsaPublicKey::<UintRef<'a>>::from_der(bits)
            .map_err(|_| CertificateError::NotRsa { serial })?;
        Ok(Certificate {
            serial,
            not_before: tbs.not_before,
            not_after: tbs.not_after,
            modulus: rsa.modulus.as_bytes(),
            exponent: rsa.public_exponent.as_bytes(),
            spki: tbs.spki,
        })
    }

    /// Decodes a PEM `CERTIFICATE` into `buf` and reads it.
    pub fn from_pem(pem: &[u8], buf: &'a mut [u8]) -> Result<Certificate<'a>, CertificateError> {
        Certificate::from_der(pem_to_der(pem, buf)?)
    }

    /// The serial (upper-case hex), the `Wechatpay-Serial` of what it signs.
    pub fn serial(&self) -> Serial {
        self.serial
    }

    /// `notBefore`, Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// `notAfter`, Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// The RSA modulus, big-endian, no leading zeros.
    pub fn modulus(&self) -> &'a [u8] {
        self.modulus
    }

    /// The RSA public exponent, big-endian, no leading zeros.
    pub fn exponent(&self) -> &'a [u8] {
        self.exponent
    }

    /// The `SubjectPublicKeyInfo` DER: what backends that load SPKI keys take.
    pub fn public_key_der(&self) -> &'a [u8] {
        self.spki
    }

    /// Refuses a certificate outside its validity at `now` (Unix seconds, the caller's clock).
    pub fn check_validity(&self, now: i64) -> Result<(), CertificateError> {
        if now < self.not_before {
            Err(CertificateError::NotYetValid {
                serial: self.serial,
                not_before: self.not_before,
            })
        } else if now > self.not_after {
            Err(CertificateError::Expired {
                serial: self.serial,
                not_after: self.not_after,
            })
        } else {
            Ok(())
        }
    }

    /// A verifier for the certificate's key.
    pub fn verifier<V: FromRsaPublicKey>(&self) -> Result<V, CertificateError> {
        V::from_rsa_public_key(self.modulus, self.exponent).map_err(|error| CertificateError::Key {
            serial: self.serial,
            error,
        })
    }

    /// The serial and verifier of a certificate valid at `now`: what a key set needs.
    pub fn load<V: FromRsaPublicKey>(&self, now: i64) -> Result<(Serial, V), CertificateError> {
        self.check_validity(now)?;
        Ok((self.serial, self.verifier()?))
    }
}

/// Decodes a PEM `CERTIFICATE` block into `buf`; returns the DER.
pub fn pem_to_der<'o>(pem: &[u8], buf: &'o mut [u8]) -> Result<&'o [u8], CertificateError> {
    // Surrounding white space (a trailing blank line, CRLF endings) is common in files.
    let start = pem
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(pem.len());
    let end = pem
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    let pem = pem.get(start..end).ok_or(CertificateError::Pem)?;
    let needed = pem.len() / 4 * 3 + 3;
    let room = buf.len();
    match pem_rfc7468::decode(pem, buf) {
        Ok((PEM_LABEL, der)) => Ok(der),
        Ok(_) => Err(CertificateError::Pem),
        Err(pem_rfc7468::Error::Length) if room < needed => {
            Err(CertificateError::BufferTooSmall { needed })
        }
        Err(_) => Err(CertificateError::Pem),
    }
}

/// Loads a PEM platform certificate valid at `now`: its serial and a verifier for its key.
/// `buf` holds the DER while it is read (2 KiB holds a WeChat Pay certificate).
pub fn load_pem<V: FromRsaPublicKey>(
    pem: &[u8],
    now: i64,
    buf: &mut [u8],
) -> Result<(Serial, V), CertificateError> {
    Certificate::from_pem(pem, buf)?.load(now)
}

impl<V: Verifier + FromRsaPublicKey, const N: usize> PlatformKeys<V, N> {
    /// Adds (or replaces) a platform certificate's key under its serial, if it is valid at
    /// `now`. Certificates and `PUB_KEY_ID_…` keys share one set (mixed mode).
    pub fn insert_certificate(
        &mut self,
        certificate: &Certificate<'_>,
        now: i64,
    ) -> Result<Serial, CertificateError> {
        let (serial, key) = certificate.load(now)?;
        self.insert(serial.as_str(), key)
            .map_err(|_| CertificateError::KeySetFull { serial })?;
        Ok(serial)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::prelude::rust_2024::*;

    pub(crate) const CERT_1: &str =
        include_str!("../../adapters/emulator/keys/platform_cert_1.pem");
    pub(crate) const CERT_2: &str =
        include_str!("../../adapters/emulator/keys/platform_cert_2.pem");
    pub(crate) const CERT_3: &str =
        include_str!("../../adapters/emulator/keys/platform_cert_3.pem");
    const EXPIRED: &str = include_str!("../../adapters/emulator/keys/platform_cert_expired.pem");
    const Y2020: i64 = 1_577_836_800;
    const Y2021: i64 = 1_609_459_200;
    const Y2026: i64 = 1_767_225_600;
    const Y2040: i64 = 2_208_988_800;
    const Y2050: i64 = 2_524_608_000;

    /// Accepts anything; records nothing. Stands in for a backend in parse-only tests.
    #[derive(Debug, PartialEq)]
    pub(crate) struct Parts(pub usize, pub Vec<u8>);
    impl FromRsaPublicKey for Parts {
        fn from_rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Result<Self, KeyError> {
            if modulus.len() == 256 {
                Ok(Parts(modulus.len(), exponent.to_vec()))
            } else {
                Err(KeyError::WrongSize)
            }
        }
    }
    impl Verifier for Parts {
        fn verify_prehash(&self, _: &crate::sign::Sha256Digest, _: &[u8; 256]) -> bool {
            false
        }
    }

    fn read(pem: &str) -> Result<(String, i64, i64, usize, Vec<u8>), CertificateError> {
        let mut buf = [0u8; 2048];
        let c = Certificate::from_pem(pem.as_bytes(), &mut buf)?;
        Ok((
            c.serial().to_string(),
            c.not_before(),
            c.not_after(),
            c.modulus().len(),
            c.exponent().to_vec(),
        ))
    }

    #[test]
    fn fixtures() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, i64, i64)] = &[
            (CERT_1,  "3A1F5C0E6B9D27480C1E5A7F9B3D2E6C4A8F0B17", Y2020, Y2040),
            // Top bit set: DER carries a leading zero byte, which is not part of the serial.
            (CERT_2,  "D27E4B19A0C35F8E61B7D2094C5A3E8F7B0C1D26", 1_735_689_600, 2_366_841_600),
            // notAfter in 2050 is a GeneralizedTime.
            (CERT_3,  "6C0B8E3F2A9D4175E8C3B6A0D9F2E5174B8A3C92", Y2026, Y2050),
            (EXPIRED, "1B9E7C3A5D0F2846A3E9C7B1D5F0A2846C9E3B51", Y2020, Y2021),
        ];
        for (pem, serial, nb, na) in cases {
            assert_eq!(
                read(pem),
                Ok((serial.to_string(), *nb, *na, 256, vec![1, 0, 1])),
                "{serial}"
            );
        }
    }

    #[test]
    fn validity() {
        let mut buf = [0u8; 2048];
        let c = Certificate::from_pem(CERT_3.as_bytes(), &mut buf).unwrap();
        let serial = c.serial();
        #[rustfmt::skip]
        let cases: &[(i64, Result<(), CertificateError>)] = &[
            (Y2026,     Ok(())),
            (Y2050,     Ok(())),
            (Y2026 - 1, Err(CertificateError::NotYetValid { serial, not_before: Y2026 })),
            (Y2050 + 1, Err(CertificateError::Expired { serial, not_after: Y2050 })),
        ];
        for (now, want) in cases {
            assert_eq!(c.check_validity(*now), *want, "{now}");
            assert_eq!(c.load::<Parts>(*now).map(|(s, _)| s), want.map(|()| serial));
        }
        let expired = load_pem::<Parts>(EXPIRED.as_bytes(), Y2026, &mut buf);
        assert!(matches!(expired, Err(CertificateError::Expired { .. })));
        let text = expired.err().unwrap().to_string();
        assert!(
            text.contains("1B9E7C3A5D0F2846A3E9C7B1D5F0A2846C9E3B51"),
            "{text}"
        );
    }

    #[test]
    fn malformed() {
        let mut der = [0u8; 2048];
        let len = pem_to_der(CERT_1.as_bytes(), &mut der).unwrap().len();
        let good = der[..len].to_vec();
        let mut truncated = good.clone();
        truncated.truncate(len - 1);
        let mut trailing = good.clone();
        trailing.push(0);
        let mut bad_version = good.clone();
        // The version INTEGER of v3 is at a fixed place after two SEQUENCE headers and [0].
        let at = good
            .windows(5)
            .position(|w| w == [0xa0, 3, 2, 1, 2])
            .unwrap();
        bad_version[at + 4] = 7;
        #[rustfmt::skip]
        let cases: &[(&str, &[u8], CertificateError)] = &[
            ("empty",      &[],              CertificateError::Der { what: "certificate" }),
            ("truncated",  &truncated,       CertificateError::Der { what: "certificate" }),
            ("trailing",   &trailing,        CertificateError::Der { what: "bytes after the certificate" }),
            ("version",    &bad_version,     CertificateError::Der { what: "version" }),
            ("not a cert", &[0x30, 0],       CertificateError::Der { what: "certificate" }),
            ("null",       &[5, 0],          CertificateError::Der { what: "certificate" }),
        ];
        for (name, bytes, want) in cases {
            let got = Certificate::from_der(bytes).map(|c| c.serial());
            assert_eq!(got, Err(*want), "{name}");
        }
        #[rustfmt::skip]
        let pems: &[(&str, CertificateError)] = &[
            ("",                                                     CertificateError::Pem),
            ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", CertificateError::Pem),
            ("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", CertificateError::Pem),
        ];
        for (pem, want) in pems {
            assert_eq!(
                pem_to_der(pem.as_bytes(), &mut der).map(|d| d.len()),
                Err(*want),
                "{pem}"
            );
        }
        let mut small = [0u8; 100];
        assert!(matches!(
            pem_to_der(CERT_1.as_bytes(), &mut small),
            Err(CertificateError::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn serials() {
        #[rustfmt::skip]
        let cases: &[(&[u8], Result<&str, CertificateError>)] = &[
            (&[0x01],                 Ok("1")),
            (&[0x00, 0xab, 0x0c],     Ok("AB0C")),
            (&[0x0a, 0xbc],           Ok("ABC")),
            (&[0x00],                 Err(CertificateError::Der { what: "serial number is zero" })),
            (&[0x11; 20],             Ok("1111111111111111111111111111111111111111")),
            (&[0x11; 21],             Err(CertificateError::SerialTooLong)),
        ];
        for (bytes, want) in cases {
            let got = Serial::from_be_bytes(bytes);
            assert_eq!(
                got.as_ref().map(Serial::as_str),
                want.as_ref().map(|s| *s),
                "{bytes:?}"
            );
        }
        assert_eq!(Serial::from_text(""), None);
        assert_eq!(Serial::from_text(&"A".repeat(41)), None);
        assert_eq!(
            Serial::from_text("PUB").map(|s| s.to_string()),
            Some("PUB".into())
        );
    }

    #[test]
    fn mixed_key_set() {
        let mut buf = [0u8; 2048];
        let c = Certificate::from_pem(CERT_1.as_bytes(), &mut buf).unwrap();
        let mut set: PlatformKeys<Parts, 2> = PlatformKeys::new();
        set.insert(
            "PUB_KEY_ID_0114232134912410000000000000001",
            Parts(0, vec![]),
        )
        .unwrap();
        assert_eq!(
            set.insert_certificate(&c, Y2026).map(|s| s.to_string()),
            Ok("3A1F5C0E6B9D27480C1E5A7F9B3D2E6C4A8F0B17".to_string())
        );
        assert_eq!(set.serials().count(), 2);
        let mut buf3 = [0u8; 2048];
        let c3 = Certificate::from_pem(CERT_3.as_bytes(), &mut buf3).unwrap();
        assert_eq!(
            set.insert_certificate(&c3, Y2026),
            Err(CertificateError::KeySetFull {
                serial: c3.serial()
            })
        );
        assert!(matches!(
            set.insert_certificate(&c, Y2040 + 1),
            Err(CertificateError::Expired { .. })
        ));
    }

    #[cfg(feature = "rsa")]
    #[test]
    fn rsa_backend_verifies_with_the_certificate_key() {
        use crate::crypto::rsa::{RsaSigner, RsaVerifier};
        use crate::sign::Signer;
        let key = include_str!("../../adapters/emulator/keys/platform_cert_1_key.pem");
        let mut signer =
            RsaSigner::from_pem(key, "3A1F5C0E6B9D27480C1E5A7F9B3D2E6C4A8F0B17").unwrap();
        let digest = crate::verify::response_digest("1", "n", b"{}");
        let mut sig = [0u8; 256];
        signer.sign_prehash(&digest, &mut sig).unwrap();
        let mut buf = [0u8; 2048];
        let (serial, verifier) =
            load_pem::<RsaVerifier>(CERT_1.as_bytes(), Y2026, &mut buf).unwrap();
        assert_eq!(serial.as_str(), signer.serial_no());
        assert!(verifier.verify_prehash(&digest, &sig));
        let c = Certificate::from_pem(CERT_1.as_bytes(), &mut buf).unwrap();
        let by_spki = RsaVerifier::from_der(c.public_key_der()).unwrap();
        assert!(by_spki.verify_prehash(&digest, &sig));
        let (_, other) = load_pem::<RsaVerifier>(CERT_2.as_bytes(), Y2026, &mut buf).unwrap();
        assert!(!other.verify_prehash(&digest, &sig));
        assert_eq!(
            RsaVerifier::from_components(&[0xff; 128], &[1, 0, 1]).map(|_| ()),
            Err(KeyError::WrongSize)
        );
    }
}
