//! Callback notifications (PROTOCOL.md §5): `PAYSCORE.USER_OPEN_SERVICE` and
//! `PAYSCORE.USER_CLOSE_SERVICE`, POSTed by WeChat Pay to `notify_url`.
//!
//! The order is fixed: verify the `Wechatpay-*` headers over the raw body (±300 s), then parse
//! the envelope, then decrypt `resource` with AEAD_AES_256_GCM, then parse the payload. All in
//! a caller buffer, without allocation.

use core::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use heapless::String;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::api::serviceorder::ServiceOrder;
use crate::error::{ParseError, VerifyError};
use crate::json::{Reader, once};
use crate::model::Record;
use crate::time::DateTime;
use crate::transport::ResponseHeaders;
use crate::verify::{PlatformKeys, Verifier, verify_response};

/// The APIv3 key is 32 ASCII bytes, used as-is as the AES-256 key.
pub const APIV3_KEY_LEN: usize = 32;
/// The AES-GCM nonce is 12 ASCII bytes.
pub const NONCE_LEN: usize = 12;
/// The GCM tag at the end of the ciphertext.
pub const TAG_LEN: usize = 16;
/// The only algorithm WeChat Pay uses for resources.
pub const ALGORITHM: &str = "AEAD_AES_256_GCM";
/// Event type of a user opening the service.
pub const USER_OPEN_SERVICE: &str = "PAYSCORE.USER_OPEN_SERVICE";
/// Event type of a user closing the service.
pub const USER_CLOSE_SERVICE: &str = "PAYSCORE.USER_CLOSE_SERVICE";
/// Event type of a user confirming a service order.
pub const USER_CONFIRM: &str = "PAYSCORE.USER_CONFIRM";
/// Event type of WeChat having collected a completed service order.
pub const USER_PAID: &str = "PAYSCORE.USER_PAID";

/// The merchant's APIv3 key. Zeroized on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct ApiV3Key([u8; APIV3_KEY_LEN]);

impl Drop for ApiV3Key {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for ApiV3Key {}

impl ApiV3Key {
    /// From the 32-character key as configured in the merchant platform.
    pub fn from_text(text: &str) -> Result<Self, CallbackError> {
        Self::from_bytes(text.as_bytes())
    }

    /// From 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CallbackError> {
        bytes
            .try_into()
            .map(ApiV3Key)
            .map_err(|_| CallbackError::BadKeyLength)
    }
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(<redacted>)")
    }
}

/// Why a callback was refused. Whatever the variant, nothing in it may be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CallbackError {
    /// The `Wechatpay-*` headers did not verify over the raw body.
    Verify(VerifyError),
    /// The envelope is not the documented JSON.
    Envelope(ParseError),
    /// `resource.algorithm` is not `AEAD_AES_256_GCM`.
    UnsupportedAlgorithm,
    /// `resource.nonce` is not 12 bytes.
    BadNonce,
    /// `resource.ciphertext` is not valid base64.
    BadBase64,
    /// The ciphertext is shorter than its 16-byte tag (truncated).
    TruncatedTag,
    /// The tag did not verify: a wrong APIv3 key, or a damaged or forged message.
    Decrypt,
    /// The work buffer is too small for the ciphertext; `needed` bytes would do.
    BufferTooSmall {
        /// The size that would do.
        needed: usize,
    },
    /// The decrypted payload is not the documented JSON.
    Payload(ParseError),
    /// The APIv3 key is not 32 bytes.
    BadKeyLength,
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackError::Verify(e) => write!(f, "callback verification failed: {e}"),
            CallbackError::Envelope(e) => write!(f, "callback envelope: {e}"),
            CallbackError::UnsupportedAlgorithm => {
                f.write_str("resource algorithm is not AEAD_AES_256_GCM")
            }
            CallbackError::BadNonce => f.write_str("resource nonce is not 12 bytes"),
            CallbackError::BadBase64 => f.write_str("resource ciphertext is not base64"),
            CallbackError::TruncatedTag => {
                f.write_str("resource ciphertext is shorter than its tag")
            }
            CallbackError::Decrypt => {
                f.write_str("decryption failed: wrong APIv3 key or damaged message")
            }
            CallbackError::BufferTooSmall { needed } => {
                write!(f, "work buffer too small: {needed} bytes needed")
            }
            CallbackError::Payload(e) => write!(f, "decrypted payload: {e}"),
            CallbackError::BadKeyLength => f.write_str("the APIv3 key must be 32 bytes"),
        }
    }
}

impl core::error::Error for CallbackError {}

/// Decrypts `data` (ciphertext followed by its 16-byte tag) in place and returns the plaintext.
pub fn decrypt_in_place<'d>(
    key: &ApiV3Key,
    nonce: &[u8],
    associated_data: &[u8],
    data: &'d mut [u8],
) -> Result<&'d mut [u8], CallbackError> {
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CallbackError::BadNonce)?;
    let split = data
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(CallbackError::TruncatedTag)?;
    let (text, tag) = data.split_at_mut(split);
    let tag = Tag::try_from(&*tag).map_err(|_| CallbackError::TruncatedTag)?;
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| CallbackError::BadKeyLength)?;
    cipher
        .decrypt_inout_detached(&Nonce::from(nonce), associated_data, text.into(), &tag)
        .map_err(|_| CallbackError::Decrypt)?;
    Ok(text)
}

/// Encrypts `plaintext` in place and writes the tag after it: `data` holds the plaintext in its
/// first `plaintext_len` bytes and has room for 16 more. Returns ciphertext || tag. (Servers and
/// emulators make callbacks with this; clients only decrypt.)
pub fn encrypt_in_place<'d>(
    key: &ApiV3Key,
    nonce: &[u8],
    associated_data: &[u8],
    data: &'d mut [u8],
    plaintext_len: usize,
) -> Result<&'d [u8], CallbackError> {
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CallbackError::BadNonce)?;
    let needed = plaintext_len + TAG_LEN;
    let data = data
        .get_mut(..needed)
        .ok_or(CallbackError::BufferTooSmall { needed })?;
    let (text, tag_out) = data.split_at_mut(plaintext_len);
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| CallbackError::BadKeyLength)?;
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(nonce), associated_data, text.into())
        .map_err(|_| CallbackError::Decrypt)?;
    tag_out.copy_from_slice(&tag);
    Ok(data)
}

crate::record! {
    /// The decrypted payload of a `USER_OPEN_SERVICE` / `USER_CLOSE_SERVICE` event. Parsed
    /// tolerantly: any field may be absent, unknown fields are ignored.
    #[derive(Default)]
    pub struct UserServiceEvent {
        /// `appid`.
        appid: Option<String<32>>,
        /// `mchid`.
        mchid: Option<String<32>>,
        /// `service_id`.
        service_id: Option<String<32>>,
        /// `openid`.
        openid: Option<String<128>>,
        /// `user_service_status`: `USER_OPEN_SERVICE` or `USER_CLOSE_SERVICE`.
        user_service_status: Option<String<32>>,
        /// `openorclose_time`, compact `yyyyMMddHHmmss` (Beijing time), exactly as received.
        openorclose_time: Option<String<32>>,
        /// `authorization_code`.
        authorization_code: Option<String<32>>,
        /// `out_request_no`, when present.
        out_request_no: Option<String<64>>,
    }
}

impl UserServiceEvent {
    /// `openorclose_time` parsed (Beijing time), if present and well formed.
    pub fn openorclose_datetime(&self) -> Option<DateTime> {
        self.openorclose_time
            .as_deref()
            .and_then(DateTime::parse_compact_beijing)
    }
}

/// What the callback says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'b> {
    /// `PAYSCORE.USER_OPEN_SERVICE`: the user authorised.
    UserOpenService(UserServiceEvent),
    /// `PAYSCORE.USER_CLOSE_SERVICE`: the user (or merchant) ended the authorization.
    UserCloseService(UserServiceEvent),
    /// `PAYSCORE.USER_CONFIRM`: the user confirmed a need-confirm order (state `DOING`,
    /// `state_description` `USER_CONFIRM`): release the item.
    UserConfirm(OrderEvent<'b>),
    /// `PAYSCORE.USER_PAID`: WeChat collected the money after complete (state `DONE`,
    /// `collection.state` `USER_PAID`).
    UserPaid(OrderEvent<'b>),
    /// Any other event type: the decrypted bytes, verified and authenticated, unparsed.
    Other(&'b [u8]),
}

/// The service order a `USER_CONFIRM` / `USER_PAID` callback carries: authenticated,
/// decrypted and checked to be one JSON object, parsed when asked for with the capacities the
/// caller picks. A host takes [`OrderEvent::order`] (any documented order); firmware that
/// knows its tariff takes `order_with::<4, 2>()` and keeps a 30 KiB order off its stack, or
/// [`OrderEvent::order_into`] a record it owns (a `static`), so no copy is on the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderEvent<'b> {
    plaintext: &'b [u8],
}

impl<'b> OrderEvent<'b> {
    /// The order, with capacities for any documented answer.
    pub fn order(&self) -> Result<ServiceOrder, ParseError> {
        ServiceOrder::from_json(self.plaintext)
    }

    /// The order with `P` fee items and `D` discounts at most: more is `TooMany`, never a cut.
    pub fn order_with<const P: usize, const D: usize>(
        &self,
    ) -> Result<ServiceOrder<P, D>, ParseError> {
        ServiceOrder::from_json(self.plaintext)
    }

    /// [`OrderEvent::order_with`] into the caller's order (on the caller's stack once, or in
    /// a `static`), never moved through a `Result`; on error its content is unspecified.
    pub fn order_into<const P: usize, const D: usize>(
        &self,
        out: &mut ServiceOrder<P, D>,
    ) -> Result<(), ParseError> {
        Record::parse_into(out, self.plaintext)
    }

    /// The decrypted JSON, as received.
    pub fn plaintext(&self) -> &'b [u8] {
        self.plaintext
    }
}

/// A verified, decrypted callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification<'b> {
    /// `id`: the notification id; WeChat Pay re-sends an unacknowledged callback with the same
    /// id, so handling must be idempotent per id (see [`RecentIds`]).
    pub id: String<64>,
    /// `create_time`, as received.
    pub create_time: Option<String<64>>,
    /// `event_type`.
    pub event_type: String<64>,
    /// `resource.original_type`, e.g. `payscore`.
    pub original_type: Option<String<32>>,
    /// The event.
    pub event: Event<'b>,
}

/// Whether a notification id was handled before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Seen {
    /// Not among the recent ids: process the event, then [`RecentIds::mark_handled`].
    New,
    /// Handled already (a re-sent callback): acknowledge it, do not process it again.
    Duplicate,
}

/// A fixed-capacity, allocation-free guard of the `N` most recently handled notification ids,
/// for every callback type. WeChat Pay re-sends an unacknowledged callback with the same `id`
/// (15 s, 15 s, 30 s, 3 min, … for a day or more): check before processing, mark after the
/// processing succeeded (so a failure is retried), and answer 2xx to a duplicate.
///
/// Ids are forgotten oldest first once `N` are held; size `N` for the callbacks that can arrive
/// in a day. A host that must survive restarts persists its handled ids itself.
///
/// ```
/// use wxpay_core::callback::{RecentIds, Seen};
/// let mut recent: RecentIds<64> = RecentIds::new();
/// assert_eq!(recent.check("EV-1"), Seen::New);
/// recent.mark_handled("EV-1");
/// assert_eq!(recent.check("EV-1"), Seen::Duplicate);
/// ```
#[derive(Debug, Clone, Default)]
pub struct RecentIds<const N: usize> {
    ids: heapless::Deque<String<64>, N>,
}

impl<const N: usize> RecentIds<N> {
    /// An empty guard.
    pub const fn new() -> Self {
        RecentIds {
            ids: heapless::Deque::new(),
        }
    }

    /// Whether `id` was marked handled among the last `N`.
    pub fn check(&self, id: &str) -> Seen {
        if self.ids.iter().any(|seen| seen == id) {
            Seen::Duplicate
        } else {
            Seen::New
        }
    }

    /// Records `id` as handled, forgetting the oldest id when full. An id longer than 64
    /// bytes cannot come from a verified envelope (it would not have parsed) and is ignored.
    pub fn mark_handled(&mut self, id: &str) {
        if self.check(id) == Seen::Duplicate {
            return;
        }
        let Ok(id) = String::try_from(id) else {
            return;
        };
        if self.ids.is_full() {
            self.ids.pop_front();
        }
        let _ = self.ids.push_back(id);
    }

    /// [`RecentIds::check`] and, when new, [`RecentIds::mark_handled`] at once: for handlers
    /// that cannot fail after the check.
    pub fn first_time(&mut self, id: &str) -> Seen {
        let seen = self.check(id);
        self.mark_handled(id);
        seen
    }
}

/// The envelope's fields before decryption.
struct Envelope {
    id: Option<String<64>>,
    create_time: Option<String<64>>,
    event_type: Option<String<64>>,
    algorithm: Option<String<32>>,
    nonce: Option<String<NONCE_LEN>>,
    associated_data: Option<String<256>>,
    original_type: Option<String<32>>,
    ciphertext_len: Option<usize>,
}

/// Parses the envelope, copying `resource.ciphertext` (base64 text) into `work` (as much as
/// fits; `ciphertext_len` is the whole length).
fn parse_envelope(body: &[u8], work: &mut [u8]) -> Result<Envelope, CallbackError> {
    // A repeated field is refused, as in every parser here: otherwise two `resource` objects
    // would merge into one that neither of them is, while other JSON readers keep the last.
    let mut id = None;
    let mut create_time = None;
    let mut event_type = None;
    let mut resource = None;
    let mut algorithm = None;
    let mut nonce = None;
    let mut associated_data = None;
    let mut original_type = None;
    let mut ciphertext_len = None;
    let parsed = Reader::object(body, |key, r| match key {
        "id" => once(&mut id, "id", || r.read_str("id")),
        "create_time" => once(&mut create_time, "create_time", || {
            r.read_opt_str("create_time")
        }),
        "event_type" => once(&mut event_type, "event_type", || r.read_str("event_type")),
        "resource" => once(&mut resource, "resource", || {
            r.read_object("resource", |key, r| match key {
                "algorithm" => once(&mut algorithm, "algorithm", || r.read_str("algorithm")),
                "nonce" => once(&mut nonce, "nonce", || r.read_str("nonce")),
                "associated_data" => once(&mut associated_data, "associated_data", || {
                    r.read_opt_str("associated_data")
                }),
                "original_type" => once(&mut original_type, "original_type", || {
                    r.read_opt_str("original_type")
                }),
                "ciphertext" => once(&mut ciphertext_len, "ciphertext", || {
                    r.read_str_bytes("ciphertext", work)
                }),
                _ => r.skip_value(),
            })
        }),
        _ => r.skip_value(),
    });
    match parsed {
        Ok(()) => Ok(Envelope {
            id,
            create_time: create_time.flatten(),
            event_type,
            algorithm,
            nonce,
            associated_data: associated_data.flatten(),
            original_type: original_type.flatten(),
            ciphertext_len,
        }),
        Err(ParseError::FieldTooLong { field: "nonce", .. }) => Err(CallbackError::BadNonce),
        Err(e) => Err(CallbackError::Envelope(e)),
    }
}

/// A service-order payload: one well-formed JSON object (parsed into an order on demand).
fn order_event(plaintext: &[u8]) -> Result<OrderEvent<'_>, CallbackError> {
    Reader::document(plaintext, false, |r| r.skip_value()).map_err(CallbackError::Payload)?;
    Ok(OrderEvent { plaintext })
}

/// Verifies, decrypts and parses a callback. `work` must hold the base64 ciphertext (its
/// decoded plaintext is left there, and `Event::Other` borrows it).
pub fn verify_and_decrypt<'b, V: Verifier, const N: usize>(
    keys: &PlatformKeys<V, N>,
    headers: &ResponseHeaders,
    body: &[u8],
    now: i64,
    key: &ApiV3Key,
    work: &'b mut [u8],
) -> Result<Notification<'b>, CallbackError> {
    verify_response(keys, headers, body, now).map_err(CallbackError::Verify)?;
    let env = parse_envelope(body, work)?;
    let missing = |field| CallbackError::Envelope(ParseError::MissingField { field });
    let id = env.id.ok_or(missing("id"))?;
    let event_type = env.event_type.ok_or(missing("event_type"))?;
    let algorithm = env.algorithm.ok_or(missing("algorithm"))?;
    if algorithm != ALGORITHM {
        return Err(CallbackError::UnsupportedAlgorithm);
    }
    let nonce = env.nonce.ok_or(missing("nonce"))?;
    let ciphertext_len = env.ciphertext_len.ok_or(missing("ciphertext"))?;
    let associated_data = env.associated_data.unwrap_or_default();
    let text = work
        .get_mut(..ciphertext_len)
        .ok_or(CallbackError::BufferTooSmall {
            needed: ciphertext_len,
        })?;
    let decoded_len = crate::base64::decode_in_place(text).map_err(|_| CallbackError::BadBase64)?;
    let data = work
        .get_mut(..decoded_len)
        .ok_or(CallbackError::BadBase64)?;
    let plaintext = decrypt_in_place(key, nonce.as_bytes(), associated_data.as_bytes(), data)?;
    let plaintext: &'b [u8] = plaintext;
    let event = match event_type.as_str() {
        USER_OPEN_SERVICE => Event::UserOpenService(
            UserServiceEvent::from_json(plaintext).map_err(CallbackError::Payload)?,
        ),
        USER_CLOSE_SERVICE => Event::UserCloseService(
            UserServiceEvent::from_json(plaintext).map_err(CallbackError::Payload)?,
        ),
        USER_CONFIRM => Event::UserConfirm(order_event(plaintext)?),
        USER_PAID => Event::UserPaid(order_event(plaintext)?),
        _ => Event::Other(plaintext),
    };
    Ok(Notification {
        id,
        create_time: env.create_time,
        event_type,
        original_type: env.original_type,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64, Encoding};
    use std::prelude::rust_2024::*;

    /// wechatpay-java's published AES-256-GCM check vector.
    #[test]
    fn wechatpay_java_vector() {
        let key = ApiV3Key::from_text("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").expect("32 bytes");
        let mut data = [0u8; 64];
        let n = Base64::decode(b"ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=", &mut data)
            .map(|d| d.len())
            .expect("base64");
        let plain = decrypt_in_place(&key, b"uluk4a9R25RW", b"associatedData", &mut data[..n]);
        assert_eq!(plain.map(|p| &*p), Ok(&b"message"[..]));

        let mut buf = [0u8; 64];
        buf[..7].copy_from_slice(b"message");
        let sealed =
            encrypt_in_place(&key, b"uluk4a9R25RW", b"associatedData", &mut buf, 7).expect("seals");
        let mut b64 = [0u8; 64];
        assert_eq!(
            Base64::encode(sealed, &mut b64),
            Ok("ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=")
        );
    }

    #[test]
    fn decrypt_failures() {
        let key = ApiV3Key::from_text("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").expect("32 bytes");
        let wrong = ApiV3Key::from_text("b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").expect("32 bytes");
        let sealed = || {
            let mut data = [0u8; 23];
            let n = Base64::decode(b"ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=", &mut data)
                .map(|d| d.len())
                .unwrap_or(0);
            assert_eq!(n, 23);
            data
        };
        let mut d = sealed();
        assert_eq!(
            decrypt_in_place(&wrong, b"uluk4a9R25RW", b"associatedData", &mut d),
            Err(CallbackError::Decrypt)
        );
        let mut d = sealed();
        d[0] ^= 1;
        assert_eq!(
            decrypt_in_place(&key, b"uluk4a9R25RW", b"associatedData", &mut d),
            Err(CallbackError::Decrypt)
        );
        let mut d = sealed();
        assert_eq!(
            decrypt_in_place(&key, b"uluk4a9R25RW", b"", &mut d),
            Err(CallbackError::Decrypt)
        );
        let mut d = sealed();
        assert_eq!(
            decrypt_in_place(&key, b"short", b"associatedData", &mut d),
            Err(CallbackError::BadNonce)
        );
        let mut short = [0u8; 15];
        assert_eq!(
            decrypt_in_place(&key, b"uluk4a9R25RW", b"", &mut short),
            Err(CallbackError::TruncatedTag)
        );
        assert_eq!(
            ApiV3Key::from_text("short").err(),
            Some(CallbackError::BadKeyLength)
        );
        assert_eq!(format!("{key:?}"), "ApiV3Key(<redacted>)");
    }

    /// Found by the callback fuzz target: two `resource` objects merged into one that was
    /// neither (serde_json keeps the last). Any repeated known field is refused now.
    #[test]
    fn envelope_refuses_repeated_fields() {
        let resource =
            r#"{"algorithm":"AEAD_AES_256_GCM","ciphertext":"AAAA","nonce":"fqzyA1b2C3d4"}"#;
        #[rustfmt::skip]
        let cases: &[(std::string::String, &str)] = &[
            (format!(r#"{{"id":"1","event_type":"E","resource":{resource},"resource":{{"original_type":"p"}}}}"#), "resource"),
            (format!(r#"{{"id":"1","id":"2","event_type":"E","resource":{resource}}}"#), "id"),
            (format!(r#"{{"id":"1","event_type":"E","event_type":"F","resource":{resource}}}"#), "event_type"),
            (r#"{"create_time":null,"create_time":"t","id":"1"}"#.into(), "create_time"),
            (r#"{"resource":{"ciphertext":"AAAA","ciphertext":"BBBB"}}"#.into(), "ciphertext"),
            (r#"{"resource":{"nonce":"a","nonce":"b"}}"#.into(), "nonce"),
            (r#"{"resource":{"algorithm":"a","algorithm":"b"}}"#.into(), "algorithm"),
            (r#"{"resource":{"associated_data":"","associated_data":"x"}}"#.into(), "associated_data"),
            (r#"{"resource":{"original_type":"a","original_type":"b"}}"#.into(), "original_type"),
        ];
        for (body, field) in cases {
            let mut work = [0u8; 64];
            assert_eq!(
                parse_envelope(body.as_bytes(), &mut work).err(),
                Some(CallbackError::Envelope(ParseError::DuplicateField {
                    field
                })),
                "{body}"
            );
        }
        let mut work = [0u8; 64];
        let once = format!(r#"{{"id":"1","event_type":"E","resource":{resource},"x":1,"x":2}}"#);
        assert!(parse_envelope(once.as_bytes(), &mut work).is_ok());
    }

    #[test]
    fn payload_parsing_is_tolerant() {
        let e = UserServiceEvent::from_json(
            br#"{"appid":"wx1","mchid":"1230000109","service_id":"500001","openid":"o1","user_service_status":"USER_OPEN_SERVICE","openorclose_time":"20190730163659","authorization_code":"c1","extra":{"x":1}}"#,
        )
        .expect("parses");
        assert_eq!(e.openid.as_deref(), Some("o1"));
        assert_eq!(
            e.openorclose_datetime().map(|d| d.unix_seconds()),
            DateTime::parse_rfc3339("2019-07-30T16:36:59+08:00").map(|d| d.unix_seconds())
        );
        assert_eq!(
            UserServiceEvent::from_json(b"{}"),
            Ok(UserServiceEvent::default())
        );
        assert!(UserServiceEvent::from_json(b"not json").is_err());
    }

    struct AcceptAll;
    impl Verifier for AcceptAll {
        fn verify_prehash(
            &self,
            _: &crate::sign::Sha256Digest,
            _: &[u8; crate::sign::SIGNATURE_LEN],
        ) -> bool {
            true
        }
    }

    /// A callback of `event_type` carrying `payload`, encrypted with `key` (signature checks
    /// are the verifier's business and are covered in tests/tests/lifecycle.rs).
    fn callback(
        event_type: &str,
        payload: &str,
        key: &ApiV3Key,
    ) -> (ResponseHeaders, std::string::String) {
        let nonce = "0123456789ab";
        let mut data = payload.as_bytes().to_vec();
        data.resize(payload.len() + TAG_LEN, 0);
        let sealed = encrypt_in_place(key, nonce.as_bytes(), b"", &mut data, payload.len())
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let body = format!(
            r#"{{"id":"EV-1","create_time":"2026-01-01T14:05:00+08:00","resource_type":"encrypt-resource","event_type":"{event_type}","resource":{{"algorithm":"AEAD_AES_256_GCM","ciphertext":"{}","nonce":"{nonce}","associated_data":"","original_type":"payscore"}},"summary":"x"}}"#,
            Base64::encode_string(&sealed)
        );
        let mut headers = ResponseHeaders::default();
        headers.capture("Wechatpay-Timestamp", b"1767247500");
        headers.capture("Wechatpay-Nonce", b"n");
        headers.capture("Wechatpay-Serial", b"PUB_KEY_ID_1");
        headers.capture(
            "Wechatpay-Signature",
            Base64::encode_string(&[0u8; 256]).as_bytes(),
        );
        (headers, body)
    }

    #[test]
    fn service_order_events_carry_the_order() {
        let key = ApiV3Key::from_text("0123456789abcdef0123456789abcdef")
            .unwrap_or_else(|e| std::panic!("{e}"));
        let keys: PlatformKeys<AcceptAll> = PlatformKeys::with_key("PUB_KEY_ID_1", AcceptAll)
            .unwrap_or_else(|e| std::panic!("{e}"));
        let order = crate::api::serviceorder::tests::ORDER;
        for event_type in [USER_CONFIRM, USER_PAID] {
            let (headers, body) = callback(event_type, order, &key);
            let mut work = vec![0u8; 4096];
            let n = verify_and_decrypt(
                &keys,
                &headers,
                body.as_bytes(),
                1_767_247_500,
                &key,
                &mut work,
            );
            let n = n.unwrap_or_else(|e| std::panic!("{event_type}: {e}"));
            let event = match (&n.event, event_type) {
                (Event::UserConfirm(o), USER_CONFIRM) | (Event::UserPaid(o), USER_PAID) => *o,
                _ => std::panic!("{event_type}: {:?}", n.event),
            };
            let order = event.order().map(|o| o.out_order_no);
            assert_eq!(order.as_deref(), Ok("RENT-0001"));
            // Firmware capacities: the same order fits in <1, 1>; <0, 0> refuses, never cuts.
            assert!(event.order_with::<1, 1>().is_ok());
            assert_eq!(
                event.order_with::<0, 0>().map(|_| ()),
                Err(ParseError::TooMany {
                    field: "post_payments",
                    max: 0
                })
            );
            // In place: the same order as by value, also over a record that held another.
            let mut into = event
                .order_with::<1, 1>()
                .unwrap_or_else(|e| std::panic!("{e}"));
            into.out_order_no.clear();
            into.post_payments.clear();
            assert_eq!(event.order_into(&mut into), Ok(()));
            assert_eq!(Ok(&into), event.order_with::<1, 1>().as_ref());
            let mut small = crate::model::Value::placeholder();
            assert_eq!(
                event.order_into::<0, 0>(&mut small),
                Err(ParseError::TooMany {
                    field: "post_payments",
                    max: 0
                })
            );
        }
        // Not an object: refused at once. An object that is no order: refused when parsed.
        let (headers, body) = callback(USER_PAID, "not json", &key);
        let mut work = vec![0u8; 4096];
        let n = verify_and_decrypt(
            &keys,
            &headers,
            body.as_bytes(),
            1_767_247_500,
            &key,
            &mut work,
        );
        assert_eq!(
            n.map(|_| ()),
            Err(CallbackError::Payload(ParseError::NotAnObject))
        );
        let (headers, body) = callback(USER_PAID, r#"{"out_order_no":"x"}"#, &key);
        let mut work = vec![0u8; 4096];
        let n = verify_and_decrypt(
            &keys,
            &headers,
            body.as_bytes(),
            1_767_247_500,
            &key,
            &mut work,
        );
        let order = match n.map(|n| n.event) {
            Ok(Event::UserPaid(o)) => o.order().map(|_| ()),
            other => std::panic!("{other:?}"),
        };
        assert_eq!(order, Err(ParseError::MissingField { field: "appid" }));
    }

    #[test]
    fn recent_ids_report_duplicates() {
        let mut recent: RecentIds<2> = RecentIds::new();
        #[rustfmt::skip]
        let steps: &[(&str, bool, Seen)] = &[
            // (id, mark after the check, what the check says)
            ("EV-1", false, Seen::New),        // processing failed: not marked
            ("EV-1", true,  Seen::New),        // the retry is processed
            ("EV-1", false, Seen::Duplicate),  // a re-send is a duplicate
            ("EV-2", true,  Seen::New),
            ("EV-3", true,  Seen::New),        // full: EV-1 is forgotten
            ("EV-2", false, Seen::Duplicate),
            ("EV-1", false, Seen::New),
        ];
        for (i, (id, mark, want)) in steps.iter().enumerate() {
            assert_eq!(recent.check(id), *want, "step {i}");
            if *mark {
                recent.mark_handled(id);
            }
        }
        assert_eq!(recent.first_time("EV-9"), Seen::New);
        assert_eq!(recent.first_time("EV-9"), Seen::Duplicate);
    }
}
