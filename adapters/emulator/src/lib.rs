//! An offline WeChat Pay APIv3 for tests and demos. WeChat Pay has no sandbox.
//!
//! The [`Emulator`] authenticates every request like the real server: it rebuilds the signed
//! message from the raw method, target, timestamp, nonce and body, verifies it with the
//! merchant public key, and checks `mchid`, `serial_no` and a ±300 s window. It answers with
//! bodies signed by its platform key and all `Wechatpay-*` headers. It builds and checks the
//! signed messages with `wxpay-core`'s own code, so nothing in the protocol is written twice;
//! the RSA itself is AWS-LC (`wxpay-aws-lc`, default feature `aws-lc`) or the `rsa` crate.
//! Connections are served in parallel: no lock is held while a request is verified or an
//! answer signed. On a connection that polls, the server signs the next identical answer
//! ahead ([`Emulator::set_presigning`]).
//!
//! Source layout: `auth` (request authentication), `router` (method and path dispatch),
//! `handlers/` (one module per API family), `faults`, `signing` (response signing),
//! `callbacks`, `server`, `transport`.
//!
//! It runs in-process as a [`Transport`](wxpay_core::Transport) ([`EmulatorTransport`]) or as a
//! loopback HTTP/1.1 server ([`server::Server`]). Faults are chosen per request with an
//! authorization code `FAULT_<NAME>` (see [`Fault`]) or for every request with
//! [`Emulator::set_fault`].

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wxpay_core::callback::ApiV3Key;
use wxpay_core::crypto::KeyError;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::{Error, RandomSource};

mod auth;
mod callbacks;
mod faults;
mod handlers;
mod router;
pub mod server;
mod signing;
mod transport;

use auth::MerchantKey;
pub use callbacks::CallbackMessage;
pub use faults::Fault;
pub use handlers::certificates::{CertificateFault, test_certificates};
pub use handlers::serviceorder::OrderRefusal;
use signing::{PlatformSigner, Presigned};
pub use transport::{EmulatorTransport, EmulatorTransportError};

/// The demo identity the emulator serves by default. TEST ONLY keys (see `keys/README.md`).
pub mod demo {
    /// Demo merchant id.
    pub const MCHID: &str = "1230000109";
    /// Serial of the demo merchant certificate.
    pub const MERCHANT_SERIAL: &str = "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29";
    /// The emulator's platform public-key id.
    pub const PLATFORM_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000001";
    /// Demo merchant private key, PKCS#8 PEM.
    pub const MERCHANT_KEY_PEM: &str = include_str!("../keys/merchant_key.pem");
    /// Demo merchant public key.
    pub const MERCHANT_PUB_PEM: &str = include_str!("../keys/merchant_pub.pem");
    /// The emulator's platform private key.
    pub const PLATFORM_KEY_PEM: &str = include_str!("../keys/platform_key.pem");
    /// The emulator's platform public key, for clients.
    pub const PLATFORM_PUB_PEM: &str = include_str!("../keys/platform_pub.pem");
    /// Demo Payscore service id.
    pub const SERVICE_ID: &str = "500001";
    /// Demo app id.
    pub const APPID: &str = "wxd678efh567hg6787";
    /// Authorization code of the seeded, authorised demo record.
    pub const AUTHORIZATION_CODE: &str = "1234323JKHDFE1243252";
    /// Openid of the seeded demo user.
    pub const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
    /// The demo merchant's APIv3 key (32 ASCII bytes) that callbacks are encrypted with.
    pub const APIV3_KEY: &str = "wxpayDemoApiV3Key-TEST-ONLY-0001";
}

/// How the body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// `Content-Length` and the whole body.
    Normal,
    /// `Content-Length` of the whole body, half of it sent, then the connection closes.
    Truncated,
    /// Chunked, with a boundary inside a UTF-8 character.
    ChunkedSplitUtf8,
}

/// A request as the emulator sees it: raw method, target, headers and body.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    /// Method as sent.
    pub method: String,
    /// Request target exactly as sent (never decoded before verification).
    pub target: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// First header named `name`, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The emulator's answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (without framing headers; the server adds those).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// How the body is framed on the wire.
    pub wire: Wire,
    /// Wait before answering.
    pub delay: Option<Duration>,
}

impl HttpResponse {
    /// First header named `name`, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One authorization record held by the emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// `service_id`.
    pub service_id: String,
    /// `appid`.
    pub appid: String,
    /// `openid`, once a user is bound.
    pub openid: Option<String>,
    /// `authorization_code`.
    pub authorization_code: String,
    /// `UNBINDUSER`, `AVAILABLE` or `UNAVAILABLE`.
    pub authorization_state: String,
    /// `notify_url`.
    pub notify_url: Option<String>,
    /// `authorization_success_time`.
    pub authorization_success_time: Option<String>,
    /// `cancel_authorization_time`.
    pub cancel_authorization_time: Option<String>,
}

/// OS randomness for nonces and request ids.
struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(dest).map_err(|_| Error::Random)
    }
}

/// Seconds since the Unix epoch by the system clock.
pub fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Capacity of the log of seen request targets.
const SEEN_TARGETS_CAPACITY: usize = 1024;

/// The offline WeChat Pay.
pub struct Emulator {
    mchid: String,
    merchant_serial: String,
    merchant_key: MerchantKey,
    platform_key_id: String,
    platform_signer: PlatformSigner,
    records: RwLock<HashMap<String, StoredRecord>>,
    fault: RwLock<Option<Fault>>,
    seen_targets: Mutex<VecDeque<String>>,
    apiv3_key: ApiV3Key,
    callbacks: Mutex<Vec<CallbackMessage>>,
    callback_dir: Mutex<Option<PathBuf>>,
    certificates: Mutex<Option<handlers::certificates::CertificateState>>,
    orders: Mutex<handlers::serviceorder::Orders>,
    /// Whether connections sign ahead for clients that poll ([`Emulator::set_presigning`]).
    presigning: AtomicBool,
    /// Answers sent with a signature made ahead ([`Emulator::presigned_answers`]).
    presigned_used: AtomicUsize,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("platform_key_id", &self.platform_key_id)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// The demo merchant and platform (see [`demo`]), with seeded records.
    pub fn demo() -> Emulator {
        // The demo keys are compiled in and known to load; a failure here is a build defect.
        let emulator = Emulator::from_pem(
            demo::MCHID,
            demo::MERCHANT_SERIAL,
            demo::MERCHANT_PUB_PEM,
            demo::PLATFORM_KEY_ID,
            demo::PLATFORM_KEY_PEM,
        )
        .expect("demo keys load");
        emulator.seed_demo_records();
        emulator
    }

    /// An emulator for any merchant identity and platform key pair, from PEM: the merchant's
    /// public key (SPKI or PKCS#1) and the platform's private key (PKCS#8 or PKCS#1).
    ///
    /// With the default feature `aws-lc` it verifies and signs with AWS-LC (`wxpay-aws-lc`),
    /// shared by all connections without a lock; without it, with the `rsa` crate and one
    /// signer per CPU.
    pub fn from_pem(
        mchid: &str,
        merchant_serial: &str,
        merchant_pub_pem: &str,
        platform_key_id: &str,
        platform_key_pem: &str,
    ) -> Result<Emulator, KeyError> {
        let merchant_key = MerchantKey::from_pem(merchant_pub_pem)?;
        let platform_signer = PlatformSigner::from_pem(platform_key_pem, platform_key_id)?;
        Ok(Emulator::with_backends(
            mchid,
            merchant_serial,
            merchant_key,
            platform_key_id,
            platform_signer,
        ))
    }

    /// Sets the APIv3 key callbacks are encrypted with (the demo key by default).
    pub fn with_apiv3_key(mut self, key: ApiV3Key) -> Emulator {
        self.apiv3_key = key;
        self
    }

    /// An emulator for any merchant identity and platform key pair.
    pub fn new(
        mchid: &str,
        merchant_serial: &str,
        merchant_key: RsaVerifier,
        platform_key_id: &str,
        platform_signer: RsaSigner,
    ) -> Emulator {
        Emulator::with_backends(
            mchid,
            merchant_serial,
            MerchantKey::Rsa(merchant_key),
            platform_key_id,
            PlatformSigner::from_rsa(platform_signer),
        )
    }

    fn with_backends(
        mchid: &str,
        merchant_serial: &str,
        merchant_key: MerchantKey,
        platform_key_id: &str,
        platform_signer: PlatformSigner,
    ) -> Emulator {
        Emulator {
            mchid: mchid.to_owned(),
            merchant_serial: merchant_serial.to_owned(),
            merchant_key,
            platform_key_id: platform_key_id.to_owned(),
            platform_signer,
            records: RwLock::new(HashMap::new()),
            fault: RwLock::new(None),
            seen_targets: Mutex::new(VecDeque::with_capacity(SEEN_TARGETS_CAPACITY)),
            // The demo key is a 32-byte constant.
            apiv3_key: ApiV3Key::from_text(demo::APIV3_KEY).expect("32-byte demo key"),
            callbacks: Mutex::new(Vec::new()),
            callback_dir: Mutex::new(None),
            certificates: Mutex::new(None),
            orders: Mutex::new(handlers::serviceorder::Orders::default()),
            presigning: AtomicBool::new(true),
            presigned_used: AtomicUsize::new(0),
        }
    }

    fn seed_demo_records(&self) {
        let authorised = StoredRecord {
            service_id: demo::SERVICE_ID.to_owned(),
            appid: demo::APPID.to_owned(),
            openid: Some(demo::OPENID.to_owned()),
            authorization_code: demo::AUTHORIZATION_CODE.to_owned(),
            authorization_state: "AVAILABLE".to_owned(),
            notify_url: Some("https://api.test.com/payscore/notify".to_owned()),
            authorization_success_time: Some("2015-05-20T13:29:35+08:00".to_owned()),
            cancel_authorization_time: None,
        };
        self.insert_record(authorised.clone());
        // Codes with every character peers get wrong, and CJK; each one path segment.
        for code in [
            "a|b*c",
            "a/b?c#d%e f",
            "授权码-001",
            "AUTHCODE-001|*",
            "PCT+a/b=c d",
        ] {
            self.insert_record(StoredRecord {
                authorization_code: code.to_owned(),
                notify_url: Some("https://商户.example.com/支付分/通知".to_owned()),
                ..authorised.clone()
            });
        }
    }

    /// Adds or replaces a record, keyed by its authorization code.
    pub fn insert_record(&self, record: StoredRecord) {
        write(&self.records).insert(record.authorization_code.clone(), record);
    }

    /// A copy of the record for `authorization_code`.
    pub fn record(&self, authorization_code: &str) -> Option<StoredRecord> {
        read(&self.records).get(authorization_code).cloned()
    }

    /// Applies `fault` to every response from now on (`None` to stop).
    pub fn set_fault(&self, fault: Option<Fault>) {
        *write(&self.fault) = fault;
    }

    /// Request targets exactly as received, oldest first (the last 1024).
    pub fn seen_targets(&self) -> Vec<String> {
        lock(&self.seen_targets).iter().cloned().collect()
    }

    /// The merchant id clients must sign as.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The platform key id responses are signed with.
    pub fn platform_key_id(&self) -> &str {
        &self.platform_key_id
    }

    /// Answers one request as WeChat Pay would at time `now` (Unix seconds).
    ///
    /// No lock is held while a request is authenticated or an answer signed: the records and
    /// the fault sit behind read-write locks held only to read or change them, and the log of
    /// targets behind a mutex held for one push.
    pub fn handle(&self, request: &HttpRequest, now: i64) -> HttpResponse {
        self.handle_presigned(request, now, None).0
    }

    /// Whether the server signs ahead on connections that poll (on by default).
    ///
    /// When a keep-alive connection has had the same answer twice in a row (a client polling
    /// a record or an order), the server signs that body again with a fresh nonce and the
    /// current second right after sending it, while the client prepares its next request. If
    /// the next answer is byte for byte that body, in that same second, with no fault injected
    /// and the platform key signing (not certificate mode), it goes out with the signature
    /// made ahead; otherwise that signature is dropped and the answer is signed as usual. Every
    /// answer still carries a nonce used once and the timestamp of the second its request is
    /// handled in, and the request is still authenticated and routed in full: only the RSA
    /// signature of the answer leaves the time a client waits. The cost is one wasted
    /// signature when polling stops (the body changes), which a request arriving meanwhile
    /// waits for. Off, every answer is signed after its request.
    pub fn set_presigning(&self, on: bool) {
        self.presigning.store(on, Ordering::Relaxed);
    }

    /// How many answers went out with a signature made ahead (see [`Emulator::set_presigning`]).
    pub fn presigned_answers(&self) -> usize {
        self.presigned_used.load(Ordering::Relaxed)
    }

    /// [`Emulator::handle`] with the answer a connection signed ahead, if it has one; and
    /// whether the answer may be signed ahead again: it answered an API request (not a test
    /// hook) with no fault injected.
    pub(crate) fn handle_presigned(
        &self,
        request: &HttpRequest,
        now: i64,
        presigned: Option<Presigned>,
    ) -> (HttpResponse, bool) {
        let target = request.target.clone();
        {
            let mut seen = lock(&self.seen_targets);
            if seen.len() == SEEN_TARGETS_CAPACITY {
                seen.pop_front();
            }
            seen.push_back(target);
        }
        handlers::certificates::note_request(request);
        let global_fault = *read(&self.fault);
        if request.target.starts_with("/emulator/") {
            return (self.test_hook(request, now), false);
        }
        if let Err(response) = self.authenticate(request, now) {
            return (self.finish(response, global_fault, now), false);
        }
        let (answer, code_fault) = self.route(request, now);
        let fault = code_fault.or(global_fault);
        let plain = fault.is_none();
        (self.finish_presigned(answer, fault, now, presigned), plain)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use wxpay_core::{Client, ClientError, Clock, PlatformKeys};

    use super::*;

    const NOW: i64 = 1_700_000_000;

    struct Fixed(i64);
    impl Clock for Fixed {
        fn unix_seconds(&self) -> i64 {
            self.0
        }
    }

    #[test]
    fn in_process_transport_serves_the_core_client() {
        let emulator = Arc::new(Emulator::demo());
        let transport = EmulatorTransport::new(Arc::clone(&emulator)).with_time(NOW);
        let signer =
            RsaSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL).expect("key");
        let keys: PlatformKeys<RsaVerifier> = PlatformKeys::with_key(
            demo::PLATFORM_KEY_ID,
            RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("key"),
        )
        .expect("fits");
        let mut client = Client::new(transport, signer, keys, Fixed(NOW), OsRandom, demo::MCHID)
            .expect("client");
        let mut body = [0u8; 2048];
        let record = client
            .call(
                &wxpay_core::api::permissions::QueryByCode::new("a|b*c", demo::SERVICE_ID)
                    .expect("fits"),
                &mut body,
            )
            .expect("record");
        assert_eq!(record.authorization_code.as_deref(), Some("a|b*c"));
        let mut body = [0u8; 2048];
        assert_eq!(
            client.call(
                &wxpay_core::api::permissions::QueryByCode::new(
                    "FAULT_TRUNCATED_BODY",
                    demo::SERVICE_ID
                )
                .expect("fits"),
                &mut body
            ),
            Err(ClientError::Transport(EmulatorTransportError::Truncated))
        );
        emulator.set_fault(Some(Fault::BadSignature));
        let mut body = [0u8; 2048];
        assert!(matches!(
            client.call(
                &wxpay_core::api::permissions::QueryByCode::new(
                    demo::AUTHORIZATION_CODE,
                    demo::SERVICE_ID
                )
                .expect("fits"),
                &mut body
            ),
            Err(ClientError::Verify { .. })
        ));
    }
}
