//! [`SharedClient`]: one async client for a whole program, held in a struct field or an `Arc`,
//! and called from any number of tasks at once.
//!
//! A core [`Client`] signs with `&mut self`, so sharing one means a lock that makes every call
//! wait for the one before it. `SharedClient` keeps the parts that can be shared (the AWS-LC
//! key, which signs through `&self`; the platform key; the hyper pool) behind one `Arc` and
//! builds a `Client` for each call: no lock is taken, and calls in different tasks run side by
//! side. The blocking twin is `wxpay_ureq::SharedClient`.

use std::path::Path;
use std::sync::Arc;
use std::{fmt, io};

use wxpay_aws_lc::{AwsLcSigner, AwsLcVerifier};
use wxpay_core::crypto::KeyError;
use wxpay_core::sign::{SIGNATURE_LEN, Sha256Digest};
use wxpay_core::{Call, Client, ClientError, Clock, Error, PlatformKeys, RandomSource, Signer};
use zeroize::Zeroizing;

use crate::{PRODUCTION_BASE_URL, Timeouts, TokioError, TokioTransport, USER_AGENT};

/// The size of the buffer each [`SharedClient::call`] allocates for the target, the request
/// body and the raw response: room for any Payscore answer.
pub const WORK_BUFFER_BYTES: usize = 64 * 1024;

/// The environment variables [`SharedClient::from_env`] reads, the same as the `wxpay` command
/// line's. All but `WXPAY_BASE_URL` (default [`PRODUCTION_BASE_URL`]) are required.
pub const ENV_VARS: [&str; 6] = [
    "WXPAY_BASE_URL",
    "WXPAY_MCHID",
    "WXPAY_SERIAL",
    "WXPAY_PRIVATE_KEY",
    "WXPAY_PLATFORM_PUBLIC_KEY",
    "WXPAY_PLATFORM_SERIAL",
];

/// An async WeChat Pay client that is `Send + Sync` and cheap to clone (one `Arc`): every
/// clone shares the keys and the connection pool, and concurrent calls never wait on each other.
///
/// It signs and verifies with AWS-LC (`wxpay-aws-lc`, the library the TLS stack already
/// links), reads the system clock and draws nonces from the operating system.
#[derive(Clone)]
pub struct SharedClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: TokioTransport,
    signer: AwsLcSigner,
    platform_key_id: String,
    platform_key: AwsLcVerifier,
    mchid: String,
}

impl fmt::Debug for SharedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedClient")
            .field("base_url", &self.inner.transport.base_url())
            .field("mchid", &self.inner.mchid)
            .field("serial_no", &self.inner.signer.serial_no())
            .field("platform_key_id", &self.inner.platform_key_id)
            .finish_non_exhaustive()
    }
}

/// Why a [`SharedClient`] could not be built. Each names the setting that was wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// A required environment variable is not set (or is empty).
    Missing(&'static str),
    /// An environment variable is not valid Unicode.
    NotUnicode(&'static str),
    /// A key file could not be read (or is larger than [`MAX_KEY_FILE_BYTES`]); `what` names
    /// the setting (`WXPAY_PRIVATE_KEY` or the path).
    KeyFile {
        /// The variable or argument that named the file.
        what: String,
        /// Why it could not be read.
        error: io::Error,
    },
    /// A key file's content is not a usable key; `what` names the setting or the path.
    Key {
        /// The variable or argument that named the file.
        what: String,
        /// Why it is not usable.
        error: KeyError,
    },
    /// The base URL is refused by the transport policy (https, or http only to loopback).
    BaseUrl(TokioError),
    /// A value does not fit the protocol (mchid or key id too long).
    Invalid(Error),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Missing(name) => write!(f, "{name} is not set"),
            SetupError::NotUnicode(name) => write!(f, "{name} is not valid Unicode"),
            SetupError::KeyFile { what, error } => write!(f, "{what}: cannot read: {error}"),
            SetupError::Key { what, error } => write!(f, "{what}: {error}"),
            SetupError::BaseUrl(e) => write!(f, "base URL: {e}"),
            SetupError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SetupError::KeyFile { error, .. } => Some(error),
            SetupError::Key { error, .. } => Some(error),
            SetupError::BaseUrl(e) => Some(e),
            _ => None,
        }
    }
}

/// Signs through a shared reference: AWS-LC's key is safe to use from many threads at once.
struct SharedSigner<'a>(&'a AwsLcSigner);

impl Signer for SharedSigner<'_> {
    type Error = wxpay_aws_lc::SignError;

    fn serial_no(&self) -> &str {
        self.0.serial_no()
    }

    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), Self::Error> {
        self.0.sign_prehash_shared(digest, out)
    }
}

/// The core client one call is made with, built from the shared parts.
type CallClient<'a> =
    Client<&'a TokioTransport, SharedSigner<'a>, &'a AwsLcVerifier, SystemClock, OsRandom, 1>;

/// Largest key file [`SharedClient::from_files`] reads. An RSA-4096 PKCS#8 PEM is about 3.3 kB.
pub const MAX_KEY_FILE_BYTES: usize = 64 * 1024;

/// The system clock.
#[derive(Debug, Clone, Copy)]
struct SystemClock;

impl Clock for SystemClock {
    fn unix_seconds(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy)]
struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(dest).map_err(|_| Error::Random)
    }
}

/// Reads a key file of at most [`MAX_KEY_FILE_BYTES`] (zeroized once parsed) and parses it as
/// PEM (text with a `-----BEGIN` line) or DER.
fn load<T>(
    path: &Path,
    pem: impl FnOnce(&str) -> Result<T, KeyError>,
    der: impl FnOnce(&[u8]) -> Result<T, KeyError>,
) -> Result<T, SetupError> {
    use std::io::Read;
    let what = || path.display().to_string();
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(MAX_KEY_FILE_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|error| SetupError::KeyFile {
            what: what(),
            error,
        })?;
    if bytes.len() > MAX_KEY_FILE_BYTES {
        return Err(SetupError::KeyFile {
            what: what(),
            error: io::Error::other(format!("larger than {MAX_KEY_FILE_BYTES} bytes: not a key")),
        });
    }
    let parsed = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => pem(text),
        _ => der(&bytes),
    };
    parsed.map_err(|error| SetupError::Key {
        what: what(),
        error,
    })
}

impl SharedClient {
    /// A client for merchant `mchid` at `base_url` (e.g. [`PRODUCTION_BASE_URL`]) that trusts
    /// one platform key, `platform_key` under `platform_key_id` (a `PUB_KEY_ID_…` id is also
    /// sent as `Wechatpay-Serial`). A base URL the transport policy refuses is an error now.
    pub fn new(
        base_url: &str,
        timeouts: Timeouts,
        mchid: &str,
        signer: AwsLcSigner,
        platform_key_id: &str,
        platform_key: AwsLcVerifier,
    ) -> Result<Self, SetupError> {
        let transport = TokioTransport::new(base_url, timeouts).map_err(SetupError::BaseUrl)?;
        let client = SharedClient {
            inner: Arc::new(Inner {
                transport,
                signer,
                platform_key_id: platform_key_id.to_owned(),
                platform_key,
                mchid: mchid.to_owned(),
            }),
        };
        // Every per-call client is built the same way: refuse what would fail there now.
        client.client().map_err(SetupError::Invalid)?;
        Ok(client)
    }

    /// A client from key files: the merchant private key `key_path` (PKCS#8 or PKCS#1, PEM or
    /// DER) with its certificate `serial`, and the platform public key `platform_key_path`
    /// under `platform_key_id`. Default [`Timeouts`].
    pub fn from_files(
        base_url: &str,
        mchid: &str,
        serial: &str,
        key_path: impl AsRef<Path>,
        platform_key_path: impl AsRef<Path>,
        platform_key_id: &str,
    ) -> Result<Self, SetupError> {
        let key_path = key_path.as_ref();
        let platform_key_path = platform_key_path.as_ref();
        let signer = load(
            key_path,
            |pem| AwsLcSigner::from_pem(pem, serial),
            |der| AwsLcSigner::from_der(der, serial),
        )?;
        let platform_key = load(
            platform_key_path,
            AwsLcVerifier::from_pem,
            AwsLcVerifier::from_der,
        )?;
        Self::new(
            base_url,
            Timeouts::default(),
            mchid,
            signer,
            platform_key_id,
            platform_key,
        )
    }

    /// A client from the `WXPAY_*` variables of [`ENV_VARS`], the same settings as the `wxpay`
    /// command line. A missing one is [`SetupError::Missing`] with its name.
    pub fn from_env() -> Result<Self, SetupError> {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// [`SharedClient::from_env`] with the variables looked up by `var` (a map in a test, a
    /// configuration file's section).
    pub fn from_vars(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Self, SetupError> {
        let get = |name: &'static str| -> Result<Option<String>, SetupError> {
            match var(name) {
                None => Ok(None),
                Some(value) if value.is_empty() => Ok(None),
                Some(value) => value
                    .into_string()
                    .map(Some)
                    .map_err(|_| SetupError::NotUnicode(name)),
            }
        };
        let required = |name: &'static str| get(name)?.ok_or(SetupError::Missing(name));
        let base_url = get("WXPAY_BASE_URL")?.unwrap_or_else(|| PRODUCTION_BASE_URL.to_owned());
        let mchid = required("WXPAY_MCHID")?;
        let serial = required("WXPAY_SERIAL")?;
        let key_path = required("WXPAY_PRIVATE_KEY")?;
        let platform_key_path = required("WXPAY_PLATFORM_PUBLIC_KEY")?;
        let platform_key_id = required("WXPAY_PLATFORM_SERIAL")?;
        Self::from_files(
            &base_url,
            &mchid,
            &serial,
            &key_path,
            &platform_key_path,
            &platform_key_id,
        )
        .map_err(|e| {
            let name = |what: String| {
                let var = if what == key_path {
                    "WXPAY_PRIVATE_KEY"
                } else {
                    "WXPAY_PLATFORM_PUBLIC_KEY"
                };
                format!("{var} ({what})")
            };
            match e {
                SetupError::Key { what, error } => SetupError::Key {
                    what: name(what),
                    error,
                },
                SetupError::KeyFile { what, error } => SetupError::KeyFile {
                    what: name(what),
                    error,
                },
                other => other,
            }
        })
    }

    /// The merchant id this client signs for.
    pub fn mchid(&self) -> &str {
        &self.inner.mchid
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.inner.transport.base_url()
    }

    /// Sends one typed [`Call`] and returns its verified answer, bound to the request, as
    /// [`Client::call_async`] does, with a [`WORK_BUFFER_BYTES`] buffer of its own. Any
    /// number of tasks may call at once; none waits for another. Dropping the future at any
    /// await point leaves the client usable and hands back nothing.
    pub async fn call<Q: Call>(&self, call: &Q) -> Result<Q::Response, ClientError<TokioError>> {
        let mut work = vec![0u8; WORK_BUFFER_BYTES];
        self.client()?.call_async(call, &mut work).await
    }

    fn client(&self) -> Result<CallClient<'_>, Error> {
        let inner = &*self.inner;
        let keys = PlatformKeys::with_key(&inner.platform_key_id, &inner.platform_key)?;
        let client = Client::new(
            &inner.transport,
            SharedSigner(&inner.signer),
            keys,
            SystemClock,
            OsRandom,
            &inner.mchid,
        )?;
        let client = if inner.platform_key_id.starts_with("PUB_KEY_ID_") {
            client.with_wechatpay_serial(&inner.platform_key_id)?
        } else {
            client
        };
        Ok(client.with_user_agent(USER_AGENT))
    }
}

// Checked at compile time: the client can be shared between threads and cloned.
const _: () = {
    const fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<SharedClient>();
};
