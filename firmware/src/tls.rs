//! TLS 1.3 for the `tls_query` variant: embedded-tls (P-256 ECDHE, AES-128-GCM with SHA-256),
//! the server's certificate checked against the test CA that the device carries, and
//! randomness from the host's `/dev/urandom` through semihosting, expanded by ChaCha20.
//!
//! The certificate check is embedded-tls's `rustpki` verifier: every certificate the server
//! sends must be signed (ECDSA P-256, SHA-256) by the one before it, the first by the test CA;
//! the server's certificate must be valid at the host's time and name [`SERVER_NAME`]; and the
//! handshake's `CertificateVerify` must be signed by its key. Any failure ends the handshake
//! with an error: the device never falls back to plain HTTP.
//!
//! embedded-tls 0.19 calls the verifier only for the messages the server sends: a server that
//! sends neither `Certificate` nor `CertificateVerify` and goes straight to `Finished` completes
//! its handshake unauthenticated. [`CaVerifier`] records that both were checked, in order, and
//! the caller must see [`Provider::authenticated`] before sending anything.

use embedded_tls::blocking::{
    Aes128GcmSha256, Certificate, CertificateRef, CertificateVerifyRef, CryptoProvider,
    TlsCipherSuite, TlsClock, TlsError, TlsVerifier,
};
use embedded_tls::pki::CertVerifier;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, CryptoRngCore, RngCore, SeedableRng};

use crate::uart::HostClock;

/// The test CA (DER) the server's certificate must chain to; test material only
/// (`adapters/emulator/tests/tls/`).
pub const TEST_CA: &[u8] = include_bytes!("../../adapters/emulator/tests/tls/test-ca.der");

/// The name the server's certificate must carry (the emulator's test certificate is for
/// `localhost` and `127.0.0.1`; embedded-tls matches DNS names only).
pub const SERVER_NAME: &str = "localhost";

/// Largest certificate chain the verifier keeps between the `Certificate` and
/// `CertificateVerify` messages (the test server's is 0.5 KiB).
pub const CERT_SIZE: usize = 2048;

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

/// embedded-tls's certificate verifier for [`TEST_CA`], recording that the server's
/// certificate and then its `CertificateVerify` were each checked once.
pub struct CaVerifier {
    inner: CertVerifier<'static, Aes128GcmSha256, HostTlsClock, CERT_SIZE>,
    certificate: bool,
    signature: bool,
}

impl TlsVerifier<Aes128GcmSha256> for CaVerifier {
    fn set_hostname_verification(&mut self, hostname: &str) -> Result<(), TlsError> {
        // Called at the start of every handshake: nothing of an earlier one counts.
        self.certificate = false;
        self.signature = false;
        self.inner.set_hostname_verification(hostname)
    }

    fn verify_certificate(
        &mut self,
        transcript: &<Aes128GcmSha256 as TlsCipherSuite>::Hash,
        cert: CertificateRef<'_>,
    ) -> Result<(), TlsError> {
        if self.certificate {
            return Err(TlsError::InvalidHandshake);
        }
        // The test CA signs the server's certificate itself. embedded-tls's chain check does
        // not look at CA flags, so a longer chain could pass off any certificate the CA
        // issued (whose key may be known) as an intermediate: only a lone leaf is accepted.
        if cert.entries.len() != 1 {
            return Err(TlsError::InvalidCertificate);
        }
        self.inner.verify_certificate(transcript, cert)?;
        self.certificate = true;
        Ok(())
    }

    fn verify_signature(&mut self, verify: CertificateVerifyRef<'_>) -> Result<(), TlsError> {
        // Before the certificate (or twice), embedded-tls's verifier would panic.
        if !self.certificate || self.signature {
            return Err(TlsError::InvalidHandshake);
        }
        self.inner.verify_signature(verify)?;
        self.signature = true;
        Ok(())
    }
}

/// The device's TLS provider: the generator and the certificate verifier for [`TEST_CA`].
pub struct Provider {
    rng: Csprng,
    verifier: CaVerifier,
}

impl Provider {
    /// A provider drawing on `rng`, trusting only [`TEST_CA`].
    pub fn new(rng: Csprng) -> Self {
        Provider {
            rng,
            verifier: CaVerifier {
                inner: CertVerifier::new(Certificate::X509(TEST_CA)),
                certificate: false,
                signature: false,
            },
        }
    }

    /// Whether the server proved itself in the handshake: a certificate chained to the CA and
    /// a `CertificateVerify` by its key. Check after the handshake, before any data.
    pub fn authenticated(&self) -> bool {
        self.verifier.certificate && self.verifier.signature
    }
}

impl CryptoProvider for Provider {
    type CipherSuite = Aes128GcmSha256;
    // No client certificate: the default `signer` refuses.
    type Signature = &'static [u8];

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// Names a TLS failure (no `Debug` formatting, see the panic handler).
pub fn tls_error(e: &TlsError) -> &'static str {
    match e {
        TlsError::InvalidCertificate => {
            "TLS: certificate refused (not signed by the test CA, out of its dates, or for another host)"
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
