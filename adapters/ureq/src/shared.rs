//! [`SharedClient`]: one client for a whole program, held in a `static`, a struct field or an
//! `Arc`, and called from any number of threads at once.
//!
//! A core [`Client`] signs with `&mut self`, so sharing one means a lock that makes every call
//! wait for the one before it. `SharedClient` keeps the parts that can be shared (the AWS-LC
//! key, which signs through `&self`; the platform key; the ureq agent and its keep-alive pool)
//! behind one `Arc` and builds a `Client` on the stack for each call: no lock is taken, and
//! calls on different threads run side by side.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use wxpay_aws_lc::{AwsLcSigner, AwsLcVerifier};
use wxpay_core::sign::{SIGNATURE_LEN, Sha256Digest};
use wxpay_core::{Call, Client, ClientError, Error, PlatformKeys, Signer};

use crate::{
    KeyFileError, KeyMaterial, OsRandom, PRODUCTION_BASE_URL, SystemClock, Timeouts, USER_AGENT,
    UreqError, UreqTransport, load_key,
};

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

/// A blocking WeChat Pay client that is `Send + Sync` and cheap to clone (one `Arc`): every
/// clone shares the keys and the connection pool, and concurrent calls never wait on each other.
///
/// It signs and verifies with AWS-LC (`wxpay-aws-lc`, the library the TLS stack already
/// links) and uses the [`SystemClock`] and [`OsRandom`].
#[derive(Clone)]
pub struct SharedClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: UreqTransport,
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
    /// A key file did not load; `what` names the setting (`WXPAY_PRIVATE_KEY` or the path).
    Key {
        /// The variable or argument that named the file.
        what: String,
        /// Why it did not load.
        error: KeyFileError,
    },
    /// The base URL is refused by the transport policy (https, or http only to loopback).
    BaseUrl(UreqError),
    /// A value does not fit the protocol (mchid or key id too long).
    Invalid(Error),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Missing(name) => write!(f, "{name} is not set"),
            SetupError::NotUnicode(name) => write!(f, "{name} is not valid Unicode"),
            SetupError::Key { what, error } => write!(f, "{what}: {error}"),
            SetupError::BaseUrl(e) => write!(f, "base URL: {e}"),
            SetupError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
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
    Client<UreqTransport, SharedSigner<'a>, &'a AwsLcVerifier, SystemClock, OsRandom, 1>;

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
        let transport = UreqTransport::checked(base_url, timeouts).map_err(SetupError::BaseUrl)?;
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
        let signer = load_key(key_path, |key| match key {
            KeyMaterial::Pem(pem) => AwsLcSigner::from_pem(pem, serial),
            KeyMaterial::Der(der) => AwsLcSigner::from_der(der, serial),
        })
        .map_err(|error| SetupError::Key {
            what: key_path.display().to_string(),
            error,
        })?;
        let platform_key = load_key(platform_key_path, |key| match key {
            KeyMaterial::Pem(pem) => AwsLcVerifier::from_pem(pem),
            KeyMaterial::Der(der) => AwsLcVerifier::from_der(der),
        })
        .map_err(|error| SetupError::Key {
            what: platform_key_path.display().to_string(),
            error,
        })?;
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
        .map_err(|e| match e {
            SetupError::Key { what, error } if what == key_path => SetupError::Key {
                what: format!("WXPAY_PRIVATE_KEY ({what})"),
                error,
            },
            SetupError::Key { what, error } => SetupError::Key {
                what: format!("WXPAY_PLATFORM_PUBLIC_KEY ({what})"),
                error,
            },
            other => other,
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
    /// [`Client::call`] does, with a [`WORK_BUFFER_BYTES`] buffer of its own. Any number of
    /// threads may call at once; none waits for another.
    pub fn call<Q: Call>(&self, call: &Q) -> Result<Q::Response, ClientError<UreqError>> {
        let mut work = vec![0u8; WORK_BUFFER_BYTES];
        self.client()?.call(call, &mut work)
    }

    fn client(&self) -> Result<CallClient<'_>, Error> {
        let inner = &*self.inner;
        let keys = PlatformKeys::with_key(&inner.platform_key_id, &inner.platform_key)?;
        // A clone of the transport shares the agent and its connection pool.
        let client = Client::new(
            inner.transport.clone(),
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
