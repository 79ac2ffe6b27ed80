//! TLS 1.3 for the `tls_query` variant: embedded-tls (P-256 ECDHE, AES-128-GCM with SHA-256),
//! the server's certificate checked against the test CA that the device carries, and
//! randomness from the host's `/dev/urandom` through semihosting, expanded by ChaCha20.
//!
//! The certificate check is [`CaVerifier`]'s own (embedded-tls's `rustpki` verifier decodes
//! certificates with `der`'s derived decoders, which took 22 KiB of stack): the server must
//! send one certificate, an X.509 v3 certificate for a P-256 key, issued and signed
//! (ecdsa-with-SHA256) by the test CA itself, valid at the host's time, with the DNS name
//! [`SERVER_NAME`] in its subjectAltName, not a CA, and with no critical extension the check
//! does not know; and the handshake's `CertificateVerify` must be an `ecdsa_secp256r1_sha256`
//! signature by its key (over the transcript up to `Certificate`, as RFC 8446 says). Without
//! the host's time the certificate is refused. The DER is walked with `der`'s reader, every
//! length checked; bad DER is an error, never a panic. Any failure ends the handshake with an error: the device never
//! falls back to plain HTTP.
//!
//! embedded-tls 0.19 calls the verifier only for the messages the server sends: a server that
//! sends neither `Certificate` nor `CertificateVerify` and goes straight to `Finished` completes
//! its handshake unauthenticated. [`CaVerifier`] records that both were checked, in order, and
//! the caller must see [`Provider::authenticated`] before sending anything.

use der::asn1::{AnyRef, BitStringRef, GeneralizedTime, UtcTime};
use der::{Decode, Header, Reader, SliceReader, Tag, TagNumber, Tagged};
use embedded_tls::SignatureScheme;
use embedded_tls::blocking::{
    Aes128GcmSha256, CertificateEntryRef, CertificateRef, CertificateVerifyRef, CryptoProvider,
    TlsCipherSuite, TlsClock, TlsError, TlsVerifier,
};
use p256::ecdsa::signature::digest::Digest;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, CryptoRngCore, RngCore, SeedableRng};

use crate::uart::HostClock;

/// The test CA (DER) that must have signed the server's certificate; test material only
/// (`adapters/emulator/tests/tls/`).
pub const TEST_CA: &[u8] = include_bytes!("../../adapters/emulator/tests/tls/test-ca.der");

/// The name the server's certificate must carry (the emulator's test certificate is for
/// `localhost` and `127.0.0.1`; [`CaVerifier`] matches DNS names only, exactly, without
/// wildcards).
pub const SERVER_NAME: &str = "localhost";

/// The largest TLS record (16 KiB of plaintext and its overhead): the read buffer's size,
/// since a server (rustls, WeChat Pay) need not agree to smaller records.
pub const READ_BUFFER_LEN: usize = 16_640;

/// The write buffer: the ClientHello and the request fit in one record.
pub const WRITE_BUFFER_LEN: usize = 4096;

/// Fills `dest` from the host's `/dev/urandom` (semihosting `SYS_OPEN`, `SYS_READ`). False if
/// the file cannot be opened or read in full: the caller must not go on without entropy.
pub fn host_entropy(dest: &mut [u8]) -> bool {
    const PATH: &[u8] = b"/dev/urandom\0";
    // SAFETY: SYS_OPEN reads the NUL-terminated path (its length without the NUL is given)
    // and returns a handle or -1.
    let handle = unsafe {
        cortex_m_semihosting::syscall!(
            OPEN,
            PATH.as_ptr(),
            cortex_m_semihosting::nr::open::R_BINARY,
            PATH.len() - 1
        )
    };
    if handle as isize == -1 {
        return false;
    }
    let mut filled = 0;
    while filled < dest.len() {
        let Some(rest) = dest.get_mut(filled..) else {
            break;
        };
        // SAFETY: SYS_READ writes at most `rest.len()` bytes into `rest` and returns how many
        // it did not read.
        let unread =
            unsafe { cortex_m_semihosting::syscall!(READ, handle, rest.as_mut_ptr(), rest.len()) };
        if unread >= rest.len() {
            break;
        }
        filled += rest.len() - unread;
    }
    // SAFETY: closes the handle opened above.
    unsafe { cortex_m_semihosting::syscall!(CLOSE, handle) };
    filled == dest.len()
}

/// ChaCha20 seeded with 32 bytes of the host's entropy: the TLS key share, the request nonces
/// and the RSA blinding each get one.
pub struct Csprng(ChaCha20Rng);

impl Csprng {
    /// A generator seeded from [`host_entropy`]; `None` without entropy.
    pub fn from_host() -> Option<Self> {
        let mut seed = [0u8; 32];
        host_entropy(&mut seed).then(|| Csprng(ChaCha20Rng::from_seed(seed)))
    }
}

/// The run's three generators, one each for the TLS handshake, the request nonces and the RSA
/// blinding, each seeded from [`host_entropy`], in a static (0.3 KiB each): held by reference,
/// they are not copied through every frame that passes them on. `None` without entropy, or
/// on a second call.
#[inline(never)]
pub fn host_generators() -> Option<[&'static mut Csprng; 3]> {
    let generators = cortex_m::singleton!(
        : [Option<Csprng>; 3] = [Csprng::from_host(), Csprng::from_host(), Csprng::from_host()]
    )?;
    let [Some(a), Some(b), Some(c)] = generators else {
        return None;
    };
    Some([a, b, c])
}

impl RngCore for Csprng {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl CryptoRng for Csprng {}

impl wxpay_core::RandomSource for Csprng {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), wxpay_core::Error> {
        RngCore::fill_bytes(&mut self.0, dest);
        Ok(())
    }
}

/// The host's time (semihosting `SYS_TIME`) for the certificate's validity.
pub struct HostTlsClock;

impl TlsClock for HostTlsClock {
    fn now() -> Option<u64> {
        u64::try_from(wxpay_core::Clock::unix_seconds(&HostClock)).ok()
    }
}

/// The DER contents of ecdsa-with-SHA256 (1.2.840.10045.4.3.2), the only signature algorithm
/// accepted, in certificates and (as `ecdsa_secp256r1_sha256`) in `CertificateVerify`.
const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// id-ecPublicKey (1.2.840.10045.2.1).
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1, that is P-256 (1.2.840.10045.3.1.7).
const PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// Extensions the verifier understands: keyUsage (2.5.29.15), subjectAltName (2.5.29.17),
/// basicConstraints (2.5.29.19), extKeyUsage (2.5.29.37).
const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
/// id-kp-serverAuth (1.3.6.1.5.5.7.3.1).
const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
/// An uncompressed P-256 point: 0x04, x, y.
const POINT_LEN: usize = 65;

/// Malformed DER: the certificate cannot be read (never a panic).
fn undecodable(_: der::Error) -> TlsError {
    TlsError::DecodeError
}

/// Refused: read, but not acceptable.
const REFUSED: TlsError = TlsError::InvalidCertificate;

/// The contents of the next element, which must carry `tag`.
fn contents<'a>(r: &mut SliceReader<'a>, tag: Tag) -> Result<&'a [u8], TlsError> {
    let header = Header::decode(r).map_err(undecodable)?;
    header.tag.assert_eq(tag).map_err(undecodable)?;
    r.read_slice(header.length).map_err(undecodable)
}

/// The contents of `bytes`, which must be exactly one element carrying `tag`.
fn only(bytes: &[u8], tag: Tag) -> Result<&[u8], TlsError> {
    let mut r = reader(bytes)?;
    let inner = contents(&mut r, tag)?;
    finished(r)?;
    Ok(inner)
}

fn reader(bytes: &[u8]) -> Result<SliceReader<'_>, TlsError> {
    SliceReader::new(bytes).map_err(undecodable)
}

/// Everything in `r` was read.
fn finished(r: SliceReader<'_>) -> Result<(), TlsError> {
    r.finish(()).map_err(undecodable)
}

/// An AlgorithmIdentifier that must be ecdsa-with-SHA256 with its parameters absent.
fn ecdsa_with_sha256(r: &mut SliceReader<'_>) -> Result<(), TlsError> {
    let algorithm = contents(r, Tag::Sequence)?;
    let mut a = reader(algorithm)?;
    if contents(&mut a, Tag::ObjectIdentifier)? != ECDSA_WITH_SHA256 {
        return Err(REFUSED);
    }
    finished(a)
}

/// A UTCTime or GeneralizedTime as seconds since the Unix epoch.
fn time(r: &mut SliceReader<'_>) -> Result<u64, TlsError> {
    let at = match r.peek_tag().map_err(undecodable)? {
        Tag::UtcTime => UtcTime::decode(r).map(|t| t.to_unix_duration()),
        Tag::GeneralizedTime => GeneralizedTime::decode(r).map(|t| t.to_unix_duration()),
        tag => Err(tag.value_error()),
    };
    at.map(|d| d.as_secs()).map_err(undecodable)
}

/// The parts of a certificate the verifier checks, as slices of its DER.
struct Parsed<'a> {
    /// The whole `tbsCertificate` element: what the issuer signed.
    tbs: &'a [u8],
    /// The signature (a DER `ECDSA-Sig-Value`).
    signature: &'a [u8],
    /// The issuer's and the subject's Name, whole elements.
    issuer: &'a [u8],
    subject: &'a [u8],
    not_before: u64,
    not_after: u64,
    /// The subject's P-256 public key, an uncompressed point.
    key: &'a [u8],
    /// The contents of the `Extensions` SEQUENCE (empty if there are none).
    extensions: &'a [u8],
}

/// Reads an X.509 v3 certificate signed with ecdsa-with-SHA256 for a P-256 key. Every element
/// is read with its exact length and nothing may follow it: the DER is walked with `der`'s
/// reader, without decoding it into structures (whose derived decoders took 22 KiB of
/// stack).
fn parse(certificate: &[u8]) -> Result<Parsed<'_>, TlsError> {
    let mut outer = reader(only(certificate, Tag::Sequence)?)?;
    let tbs = {
        let header = outer.peek_header().map_err(undecodable)?;
        header.tag.assert_eq(Tag::Sequence).map_err(undecodable)?;
        outer.tlv_bytes().map_err(undecodable)?
    };
    ecdsa_with_sha256(&mut outer)?;
    let signature = BitStringRef::decode(&mut outer)
        .map_err(undecodable)?
        .as_bytes()
        .ok_or(TlsError::DecodeError)?;
    finished(outer)?;

    let mut r = reader(only(tbs, Tag::Sequence)?)?;
    // version [0] EXPLICIT INTEGER: v3 (2) only.
    let version = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N0,
    };
    if contents(&mut r, version)? != [0x02, 0x01, 0x02] {
        return Err(REFUSED);
    }
    contents(&mut r, Tag::Integer)?; // serialNumber
    ecdsa_with_sha256(&mut r)?;
    let issuer = whole(&mut r, Tag::Sequence)?;
    let mut validity = reader(contents(&mut r, Tag::Sequence)?)?;
    let not_before = time(&mut validity)?;
    let not_after = time(&mut validity)?;
    finished(validity)?;
    let subject = whole(&mut r, Tag::Sequence)?;

    let mut spki = reader(contents(&mut r, Tag::Sequence)?)?;
    let mut algorithm = reader(contents(&mut spki, Tag::Sequence)?)?;
    if contents(&mut algorithm, Tag::ObjectIdentifier)? != EC_PUBLIC_KEY
        || contents(&mut algorithm, Tag::ObjectIdentifier)? != PRIME256V1
    {
        return Err(REFUSED);
    }
    finished(algorithm)?;
    let key = BitStringRef::decode(&mut spki)
        .map_err(undecodable)?
        .as_bytes()
        .ok_or(TlsError::DecodeError)?;
    finished(spki)?;
    if key.len() != POINT_LEN || key.first() != Some(&0x04) {
        return Err(REFUSED);
    }

    // No issuerUniqueID or subjectUniqueID (RFC 5280: CAs must not issue them): only the
    // extensions, [3] EXPLICIT, may follow.
    let extensions = if r.is_finished() {
        &[][..]
    } else {
        let tag = Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N3,
        };
        only(contents(&mut r, tag)?, Tag::Sequence)?
    };
    finished(r)?;
    Ok(Parsed {
        tbs,
        signature,
        issuer,
        subject,
        not_before,
        not_after,
        key,
        extensions,
    })
}

/// The next element, whole (header and contents), which must carry `tag`.
fn whole<'a>(r: &mut SliceReader<'a>, tag: Tag) -> Result<&'a [u8], TlsError> {
    r.peek_header()
        .and_then(|header| header.tag.assert_eq(tag))
        .and_then(|_| r.tlv_bytes())
        .map_err(undecodable)
}

/// Checks the server certificate's extensions: a subjectAltName with the DNS name
/// [`SERVER_NAME`], not a CA, usable for signatures and server authentication (if it says),
/// and no critical extension the verifier does not know. Each may appear once.
fn check_extensions(extensions: &[u8]) -> Result<(), TlsError> {
    let mut r = reader(extensions)?;
    let (mut name, mut seen) = (false, [false; 4]);
    while !r.is_finished() {
        let mut extension = reader(contents(&mut r, Tag::Sequence)?)?;
        let id = contents(&mut extension, Tag::ObjectIdentifier)?;
        let critical = if extension.peek_tag().map_err(undecodable)? == Tag::Boolean {
            bool::decode(&mut extension).map_err(undecodable)?
        } else {
            false
        };
        let value = contents(&mut extension, Tag::OctetString)?;
        finished(extension)?;
        let known = [
            KEY_USAGE,
            SUBJECT_ALT_NAME,
            BASIC_CONSTRAINTS,
            EXT_KEY_USAGE,
        ];
        let Some(which) = known.iter().position(|k| *k == id) else {
            if critical {
                return Err(REFUSED);
            }
            continue;
        };
        if let Some(seen) = seen.get_mut(which) {
            if *seen {
                return Err(REFUSED);
            }
            *seen = true;
        }
        match which {
            0 => {
                // keyUsage: digitalSignature (bit 0) must be set.
                let bits = BitStringRef::from_der(value).map_err(undecodable)?;
                if bits.raw_bytes().first().is_none_or(|b| b & 0x80 == 0) {
                    return Err(REFUSED);
                }
            }
            1 => name = names_server(only(value, Tag::Sequence)?)?,
            2 => {
                // basicConstraints: cA, DEFAULT FALSE, must not be TRUE.
                let mut constraints = reader(only(value, Tag::Sequence)?)?;
                if constraints.peek_tag().ok() == Some(Tag::Boolean)
                    && bool::decode(&mut constraints).map_err(undecodable)?
                {
                    return Err(REFUSED);
                }
                if !constraints.is_finished() {
                    contents(&mut constraints, Tag::Integer)?; // pathLenConstraint
                }
                finished(constraints)?;
            }
            _ => {
                // extKeyUsage: must include serverAuth.
                let mut purposes = reader(only(value, Tag::Sequence)?)?;
                let mut server_auth = false;
                while !purposes.is_finished() {
                    server_auth |= contents(&mut purposes, Tag::ObjectIdentifier)? == SERVER_AUTH;
                }
                if !server_auth {
                    return Err(REFUSED);
                }
            }
        }
    }
    if name { Ok(()) } else { Err(REFUSED) }
}

/// Whether the GeneralNames hold the dNSName [`SERVER_NAME`] (exact, ASCII case-insensitive;
/// no wildcards). Other kinds of name are skipped.
fn names_server(names: &[u8]) -> Result<bool, TlsError> {
    let dns_name = Tag::ContextSpecific {
        constructed: false,
        number: TagNumber::N2,
    };
    let mut r = reader(names)?;
    let mut found = false;
    while !r.is_finished() {
        let name = AnyRef::decode(&mut r).map_err(undecodable)?;
        found |=
            name.tag() == dns_name && name.value().eq_ignore_ascii_case(SERVER_NAME.as_bytes());
    }
    Ok(found)
}

/// Verifies `message` against a DER ECDSA signature by the P-256 key `key` (a SEC1 point):
/// ecdsa-with-SHA256. Hashing and verifying are separate frames, never on the stack together.
fn ecdsa_p256(key: &[u8], message: &[u8], signature: &[u8]) -> Result<bool, TlsError> {
    verify_prehash(key, &sha256(message), signature)
}

#[inline(never)]
fn sha256(message: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(message).into()
}

/// [`ecdsa_p256`] over the message's SHA-256 digest.
#[inline(never)]
fn verify_prehash(key: &[u8], digest: &[u8; 32], signature: &[u8]) -> Result<bool, TlsError> {
    let key = VerifyingKey::from_sec1_bytes(key).map_err(|_| TlsError::DecodeError)?;
    let signature = Signature::from_der(signature).map_err(|_| TlsError::DecodeError)?;
    Ok(key.verify_prehash(digest, &signature).is_ok())
}

/// The longest DER `ECDSA-Sig-Value` for P-256: two 33-byte INTEGERs in a SEQUENCE.
const MAX_SIGNATURE_LEN: usize = 72;

impl CaVerifier {
    /// Checks everything about the server's certificate but the CA's signature (both
    /// certificates' dates, the issuer's name, the extensions) and keeps what that signature
    /// check needs: the `tbsCertificate`'s digest, the signature and the server's key, here
    /// rather than on the stack. The CA's key.
    #[inline(never)]
    fn examine(&mut self, certificate: &[u8], now: u64) -> Result<&'static [u8], TlsError> {
        let ca = parse(TEST_CA)?;
        let leaf = parse(certificate)?;
        // Within both certificates' dates.
        for (not_before, not_after) in [
            (ca.not_before, ca.not_after),
            (leaf.not_before, leaf.not_after),
        ] {
            if now < not_before || now > not_after {
                return Err(REFUSED);
            }
        }
        // Issued by the test CA itself (its signature: see `verify_certificate`).
        if leaf.issuer != ca.subject {
            return Err(REFUSED);
        }
        check_extensions(leaf.extensions)?;
        let signature = self
            .ca_signature
            .get_mut(..leaf.signature.len())
            .ok_or(TlsError::DecodeError)?;
        signature.copy_from_slice(leaf.signature);
        self.ca_signature_len = leaf.signature.len();
        self.tbs_digest = sha256(leaf.tbs);
        self.key.copy_from_slice(leaf.key);
        Ok(ca.key)
    }
}

/// The certificate verifier for [`TEST_CA`]: checks the server's certificate, keeps its public
/// key and the transcript hash, checks `CertificateVerify` with them, and records that the
/// certificate and then its `CertificateVerify` were each checked once.
pub struct CaVerifier {
    /// The server certificate's P-256 key, once checked.
    key: [u8; POINT_LEN],
    /// The transcript hash up to and including the `Certificate` message, which
    /// `CertificateVerify` signs (RFC 8446, 4.4.3).
    transcript: [u8; 32],
    /// The server certificate's `tbsCertificate` digest and the CA's signature over it, kept
    /// between [`CaVerifier::examine`] and the signature check.
    tbs_digest: [u8; 32],
    ca_signature: [u8; MAX_SIGNATURE_LEN],
    ca_signature_len: usize,
    certificate: bool,
    signature: bool,
}

impl TlsVerifier<Aes128GcmSha256> for CaVerifier {
    fn set_hostname_verification(&mut self, hostname: &str) -> Result<(), TlsError> {
        // Called at the start of every handshake: nothing of an earlier one counts.
        self.certificate = false;
        self.signature = false;
        // The certificate is checked for SERVER_NAME: no other name may be asked for.
        if hostname.eq_ignore_ascii_case(SERVER_NAME) {
            Ok(())
        } else {
            Err(TlsError::InvalidCertificate)
        }
    }

    fn verify_certificate(
        &mut self,
        transcript: &<Aes128GcmSha256 as TlsCipherSuite>::Hash,
        cert: CertificateRef<'_>,
    ) -> Result<(), TlsError> {
        if self.certificate {
            return Err(TlsError::InvalidHandshake);
        }
        // The test CA signs the server's certificate itself: only a lone leaf is accepted
        // (a longer chain could pass off any certificate the CA issued as an intermediate).
        let [CertificateEntryRef::X509(certificate)] = cert.entries.as_slice() else {
            return Err(TlsError::InvalidCertificate);
        };
        // Without the time the dates cannot be checked: refuse.
        let now = HostTlsClock::now().ok_or(TlsError::InvalidCertificate)?;
        // The CA's signature is checked here, from a small frame: the ECDSA verification is
        // the deepest point of the handshake.
        let ca_key = self.examine(certificate, now)?;
        let signature = self
            .ca_signature
            .get(..self.ca_signature_len)
            .ok_or(TlsError::DecodeError)?;
        if !verify_prehash(ca_key, &self.tbs_digest, signature)? {
            return Err(REFUSED);
        }
        // embedded-tls has already added the Certificate message to the transcript.
        self.transcript
            .copy_from_slice(&transcript.clone().finalize());
        self.certificate = true;
        Ok(())
    }

    fn verify_signature(&mut self, verify: CertificateVerifyRef<'_>) -> Result<(), TlsError> {
        if !self.certificate || self.signature {
            return Err(TlsError::InvalidHandshake);
        }
        if verify.signature_scheme != SignatureScheme::EcdsaSecp256r1Sha256 {
            return Err(TlsError::InvalidSignatureScheme);
        }
        // RFC 8446, 4.4.3: 64 spaces, the context string, a zero byte, the transcript hash.
        const CONTEXT: &[u8] = b"TLS 1.3, server CertificateVerify\0";
        let mut message = [0x20; 64 + CONTEXT.len() + 32];
        let (context, hash) = message[64..].split_at_mut(CONTEXT.len());
        context.copy_from_slice(CONTEXT);
        hash.copy_from_slice(&self.transcript);
        if !ecdsa_p256(&self.key, &message, verify.signature)? {
            return Err(TlsError::InvalidSignature);
        }
        self.signature = true;
        Ok(())
    }
}

/// The device's TLS provider: the generator and the certificate verifier for [`TEST_CA`].
pub struct Provider<'a> {
    rng: &'a mut Csprng,
    verifier: CaVerifier,
}

impl<'a> Provider<'a> {
    /// A provider drawing on `rng`, trusting only [`TEST_CA`].
    pub fn new(rng: &'a mut Csprng) -> Self {
        Provider {
            rng,
            verifier: CaVerifier {
                key: [0; POINT_LEN],
                transcript: [0; 32],
                tbs_digest: [0; 32],
                ca_signature: [0; MAX_SIGNATURE_LEN],
                ca_signature_len: 0,
                certificate: false,
                signature: false,
            },
        }
    }

    /// Whether the server proved itself in the handshake: a certificate the CA signed and
    /// a `CertificateVerify` by its key. Check after the handshake, before any data.
    pub fn authenticated(&self) -> bool {
        self.verifier.certificate && self.verifier.signature
    }
}

impl CryptoProvider for Provider<'_> {
    type CipherSuite = Aes128GcmSha256;
    // No client certificate: the default `signer` refuses.
    type Signature = &'static [u8];

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut *self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// Names a TLS failure (no `Debug` formatting, see the panic handler).
pub fn tls_error(e: &TlsError) -> &'static str {
    match e {
        TlsError::InvalidCertificate => {
            "TLS: certificate refused (not a server certificate the test CA signed for this host, in its dates)"
        }
        TlsError::InvalidSignature => "TLS: the server's CertificateVerify signature is bad",
        TlsError::InvalidSignatureScheme => "TLS: unsupported signature scheme",
        TlsError::DecodeError => "TLS: certificate or key not decodable",
        TlsError::HandshakeAborted(..) => "TLS: the server aborted the handshake",
        TlsError::Io(_) | TlsError::IoError => "TLS: I/O",
        TlsError::ConnectionClosed => "TLS: connection closed",
        TlsError::InsufficientSpace => "TLS: buffer too small",
        TlsError::InvalidHandshake => "TLS: handshake messages out of order",
        _ => "TLS: handshake failed",
    }
}
