//! Platform certificate rotation for hosts (PROTOCOL.md §10).
//!
//! A [`CertificateStore`] keeps WeChat Pay's platform certificates for a [`Client`]:
//!
//! - it downloads them every [`REFRESH_INTERVAL`] (12 h, the official advice) and, at most
//!   once per [`UNKNOWN_SERIAL_INTERVAL`] (a minute), when an answer or callback names a serial
//!   it does not hold;
//! - it keeps a certificate that left the list until it expires, and drops expired ones;
//! - it persists every certificate to a directory as `<serial>.pem`, written to a temporary
//!   file and renamed into place, so a restart needs no network;
//! - it installs its certificates into the client's key set beside any `PUB_KEY_ID_…` key
//!   (mixed mode), so callers never juggle key sets.
//!
//! Time comes from a [`Clock`], so tests drive rotation deterministically.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use wxpay_core::api::certificates::{DownloadError, OUT_PER_CERTIFICATE, WORK_PER_CERTIFICATE};
use wxpay_core::callback::ApiV3Key;
use wxpay_core::certificate::{self, CertificateError};
use wxpay_core::crypto::rsa::RsaVerifier;
use wxpay_core::{
    Client, ClientError, Clock, Method, RandomSource, Signer, Transport, VerifiedResponse,
    VerifyError,
};

/// How often the list is downloaded.
pub const REFRESH_INTERVAL: i64 = 12 * 3600;
/// The least time between two downloads prompted by an unknown serial (or a failed download).
pub const UNKNOWN_SERIAL_INTERVAL: i64 = 60;
/// Most certificates one download may carry.
pub const MAX_DOWNLOADED: usize = 8;
/// Largest certificates answer read.
pub const RESPONSE_CAPACITY: usize = 32 * 1024;

/// A certificate the store holds.
#[derive(Debug, Clone)]
pub struct StoredCertificate {
    /// Serial (upper-case hex).
    pub serial: String,
    /// `notBefore`, Unix seconds.
    pub not_before: i64,
    /// `notAfter`, Unix seconds.
    pub not_after: i64,
    /// The PEM text.
    pub pem: String,
    verifier: RsaVerifier,
}

/// Why the store could not do what was asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError<E> {
    /// The download was refused (see [`DownloadError`]; it names the certificate and why).
    Download(DownloadError<E>),
    /// A request through the client failed.
    Client(ClientError<E>),
    /// A file in the directory could not be read, written or removed.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A file in the directory is not an acceptable certificate.
    Certificate {
        /// The file.
        path: PathBuf,
        /// Why.
        error: CertificateError,
    },
    /// The client's key set has no room for another certificate.
    KeySetFull {
        /// The certificate that did not fit.
        serial: String,
    },
}

impl<E: fmt::Display> fmt::Display for StoreError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Download(e) => write!(f, "platform certificates download: {e}"),
            StoreError::Client(e) => write!(f, "{e}"),
            StoreError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            StoreError::Certificate { path, error } => write!(f, "{}: {error}", path.display()),
            StoreError::KeySetFull { serial } => write!(
                f,
                "certificate {serial}: the client's platform key set is full (raise its capacity K)"
            ),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for StoreError<E> {}

impl<E> From<ClientError<E>> for StoreError<E> {
    fn from(e: ClientError<E>) -> Self {
        StoreError::Client(e)
    }
}

/// Platform certificates for one merchant: downloaded, rotated, persisted, installed.
pub struct CertificateStore<C> {
    key: ApiV3Key,
    clock: C,
    dir: Option<PathBuf>,
    certificates: Vec<StoredCertificate>,
    /// Every serial ever installed into a client, so dropped ones can be removed again.
    installed: Vec<String>,
    last_download: Option<i64>,
    last_attempt: Option<i64>,
}

impl<C> fmt::Debug for CertificateStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateStore")
            .field("dir", &self.dir)
            .field(
                "serials",
                &self
                    .certificates
                    .iter()
                    .map(|c| &c.serial)
                    .collect::<Vec<_>>(),
            )
            .field("last_download", &self.last_download)
            .finish_non_exhaustive()
    }
}

fn io<E>(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError<E> + '_ {
    move |error| StoreError::Io {
        path: path.to_owned(),
        error,
    }
}

impl<C: Clock> CertificateStore<C> {
    /// An empty store that keeps nothing on disk.
    pub fn in_memory(key: ApiV3Key, clock: C) -> Self {
        CertificateStore {
            key,
            clock,
            dir: None,
            certificates: Vec::new(),
            installed: Vec::new(),
            last_download: None,
            last_attempt: None,
        }
    }

    /// A store persisted in `dir` (created if missing), loaded from its `*.pem` files without
    /// network. Expired certificates are deleted; any other unreadable file is an error.
    pub fn open<E>(key: ApiV3Key, clock: C, dir: &Path) -> Result<Self, StoreError<E>> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let mut store = Self::in_memory(key, clock);
        store.dir = Some(dir.to_owned());
        let now = store.clock.unix_seconds();
        let mut paths: Vec<PathBuf> = fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "pem"))
            .collect();
        paths.sort();
        for path in paths {
            let pem = fs::read_to_string(&path).map_err(io(&path))?;
            match parse(&pem, now) {
                Ok(cert) => store.certificates.push(cert),
                Err(CertificateError::Expired { .. }) => {
                    fs::remove_file(&path).map_err(io(&path))?;
                }
                Err(error) => return Err(StoreError::Certificate { path, error }),
            }
        }
        Ok(store)
    }

    /// The certificates held.
    pub fn certificates(&self) -> &[StoredCertificate] {
        &self.certificates
    }

    /// Their serials.
    pub fn serials(&self) -> Vec<String> {
        self.certificates.iter().map(|c| c.serial.clone()).collect()
    }

    /// When the list was last downloaded (Unix seconds).
    pub fn last_download(&self) -> Option<i64> {
        self.last_download
    }

    /// Drops (and deletes) certificates expired at the store's clock; returns their serials.
    pub fn prune<E>(&mut self) -> Result<Vec<String>, StoreError<E>> {
        let now = self.clock.unix_seconds();
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.certificates)
            .into_iter()
            .partition(|c| c.not_after < now);
        self.certificates = kept;
        for cert in &expired {
            self.delete(&cert.serial)?;
        }
        Ok(expired.into_iter().map(|c| c.serial).collect())
    }

    fn delete<E>(&self, serial: &str) -> Result<(), StoreError<E>> {
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("{serial}.pem"));
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Ok(())
    }

    fn persist<E>(&self, cert: &StoredCertificate) -> Result<(), StoreError<E>> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let path = dir.join(format!("{}.pem", cert.serial));
        let temp = dir.join(format!(".{}.pem.tmp", cert.serial));
        let mut file = fs::File::create(&temp).map_err(io(&temp))?;
        file.write_all(cert.pem.as_bytes()).map_err(io(&temp))?;
        file.sync_all().map_err(io(&temp))?;
        drop(file);
        fs::rename(&temp, &path).map_err(io(&path))?;
        Ok(())
    }

    /// Puts the store's certificates into the client's key set and removes the ones it has
    /// dropped; other keys (a `PUB_KEY_ID_…`) are left alone.
    pub fn install<T, S, Cc, R, const K: usize>(
        &mut self,
        client: &mut Client<T, S, RsaVerifier, Cc, R, K>,
    ) -> Result<(), StoreError<T::Error>>
    where
        T: Transport,
        S: Signer,
        Cc: Clock,
        R: RandomSource,
    {
        let keys = client.platform_keys_mut();
        for serial in &self.installed {
            if !self.certificates.iter().any(|c| &c.serial == serial) {
                keys.remove(serial);
            }
        }
        for cert in &self.certificates {
            keys.insert(&cert.serial, cert.verifier.clone())
                .map_err(|_| StoreError::KeySetFull {
                    serial: cert.serial.clone(),
                })?;
            if !self.installed.contains(&cert.serial) {
                self.installed.push(cert.serial.clone());
            }
        }
        Ok(())
    }

    /// Downloads the list now (verified with the client's keys, or bootstrapped), merges it,
    /// drops expired certificates, persists and installs. Returns the serials that are new.
    pub fn refresh<T, S, Cc, R, const K: usize>(
        &mut self,
        client: &mut Client<T, S, RsaVerifier, Cc, R, K>,
    ) -> Result<Vec<String>, StoreError<T::Error>>
    where
        T: Transport,
        S: Signer,
        Cc: Clock,
        R: RandomSource,
    {
        self.last_attempt = Some(self.clock.unix_seconds());
        // The client must hold what the store holds, so the answer is checked against it.
        self.install(client)?;
        let mut body = vec![0u8; RESPONSE_CAPACITY];
        let mut work = vec![0u8; WORK_PER_CERTIFICATE * MAX_DOWNLOADED];
        let mut out = vec![0u8; OUT_PER_CERTIFICATE * MAX_DOWNLOADED];
        let downloaded = client
            .download_certificates::<MAX_DOWNLOADED>(&self.key, &mut body, &mut work, &mut out)
            .map_err(StoreError::Download)?;
        let mut fresh = Vec::new();
        for cert in downloaded {
            let pem = String::from_utf8_lossy(cert.pem).into_owned();
            let stored = StoredCertificate {
                serial: cert.serial.to_string(),
                not_before: cert.not_before,
                not_after: cert.not_after,
                pem,
                verifier: cert.verifier,
            };
            self.persist(&stored)?;
            match self
                .certificates
                .iter_mut()
                .find(|c| c.serial == stored.serial)
            {
                Some(slot) => *slot = stored,
                None => {
                    fresh.push(stored.serial.clone());
                    self.certificates.push(stored);
                }
            }
        }
        self.last_download = Some(self.clock.unix_seconds());
        self.prune()?;
        self.install(client)?;
        Ok(fresh)
    }

    /// True when the 12-hour refresh is due.
    pub fn is_due(&self) -> bool {
        let now = self.clock.unix_seconds();
        let retry_allowed = self
            .last_attempt
            .is_none_or(|t| now.saturating_sub(t) >= UNKNOWN_SERIAL_INTERVAL);
        retry_allowed
            && self
                .last_download
                .is_none_or(|t| now.saturating_sub(t) >= REFRESH_INTERVAL)
    }

    /// Refreshes if [`Self::is_due`]; otherwise drops expired certificates and installs.
    pub fn refresh_if_due<T, S, Cc, R, const K: usize>(
        &mut self,
        client: &mut Client<T, S, RsaVerifier, Cc, R, K>,
    ) -> Result<Vec<String>, StoreError<T::Error>>
    where
        T: Transport,
        S: Signer,
        Cc: Clock,
        R: RandomSource,
    {
        if self.is_due() {
            return self.refresh(client);
        }
        self.prune()?;
        self.install(client)?;
        Ok(Vec::new())
    }

    /// An answer or callback named `serial`: refreshes if it is not held and no download was
    /// tried in the last minute. Returns true when `serial` is held afterwards.
    pub fn on_unknown_serial<T, S, Cc, R, const K: usize>(
        &mut self,
        client: &mut Client<T, S, RsaVerifier, Cc, R, K>,
        serial: &str,
    ) -> Result<bool, StoreError<T::Error>>
    where
        T: Transport,
        S: Signer,
        Cc: Clock,
        R: RandomSource,
    {
        let held = |s: &Self| s.certificates.iter().any(|c| c.serial == serial);
        if held(self) {
            return Ok(true);
        }
        let now = self.clock.unix_seconds();
        if self
            .last_attempt
            .is_some_and(|t| now.saturating_sub(t) < UNKNOWN_SERIAL_INTERVAL)
        {
            return Ok(false);
        }
        self.refresh(client)?;
        Ok(held(self))
    }

    /// Sends one request with the store's certificates installed: refreshes first when due.
    /// An answer signed with a serial the client does not hold prompts a (rate-limited)
    /// refresh; a `GET` is then sent once more, since asking again changes nothing. Other
    /// methods return the verification error; the caller may retry with the same
    /// parameters (WeChat Pay requests carry the merchant's idempotency keys).
    pub fn send<'b, T, S, Cc, R, const K: usize>(
        &mut self,
        client: &mut Client<T, S, RsaVerifier, Cc, R, K>,
        method: Method,
        target: &str,
        body: &[u8],
        response_body: &'b mut [u8],
    ) -> Result<VerifiedResponse<'b>, StoreError<T::Error>>
    where
        T: Transport,
        S: Signer,
        Cc: Clock,
        R: RandomSource,
    {
        // A failed scheduled refresh does not stop the request: the keys held still verify,
        // and the next attempt comes a minute later.
        if self.refresh_if_due(client).is_err() {
            self.install(client)?;
        }
        let unknown = match client.send(method, target, body, &mut *response_body) {
            Ok(answer) => Ok((answer.status, answer.body.len(), answer.request_id)),
            Err(ClientError::Verify {
                error: VerifyError::UnknownSerial,
                request_id,
            }) => Err(request_id),
            Err(e) => return Err(e.into()),
        };
        let request_id = match unknown {
            Ok((status, len, request_id)) => {
                // Rebuilt after the borrow of the client call ends; the bytes are the verified ones.
                return Ok(VerifiedResponse {
                    status,
                    body: response_body.get(..len).unwrap_or_default(),
                    request_id,
                });
            }
            Err(request_id) => request_id,
        };
        let unknown_serial = ClientError::Verify {
            error: VerifyError::UnknownSerial,
            request_id,
        };
        let now = self.clock.unix_seconds();
        let may_refresh = self
            .last_attempt
            .is_none_or(|t| now.saturating_sub(t) >= UNKNOWN_SERIAL_INTERVAL);
        if !may_refresh {
            return Err(unknown_serial.into());
        }
        let fresh = self.refresh(client)?;
        if method == Method::Get && !fresh.is_empty() {
            return Ok(client.send(method, target, body, response_body)?);
        }
        Err(unknown_serial.into())
    }
}

fn parse(pem: &str, now: i64) -> Result<StoredCertificate, CertificateError> {
    let mut buf = vec![0u8; pem.len()];
    let cert = certificate::Certificate::from_pem(pem.as_bytes(), &mut buf)?;
    let (serial, verifier) = cert.load::<RsaVerifier>(now)?;
    Ok(StoredCertificate {
        serial: serial.to_string(),
        not_before: cert.not_before(),
        not_after: cert.not_after(),
        pem: pem.to_owned(),
        verifier,
    })
}

/// Loads a platform certificate file (PEM) valid now: its serial and verifier, for a key set.
pub fn load_certificate(path: &Path, now: i64) -> Result<(String, RsaVerifier), String> {
    let pem = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cert = parse(&pem, now).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((cert.serial, cert.verifier))
}
