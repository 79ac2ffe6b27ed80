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

use crate::error::{ParseError, VerifyError};
use crate::json::{Reader, Seen};
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

/// The decrypted payload of a `USER_OPEN_SERVICE` / `USER_CLOSE_SERVICE` event. Parsed
/// tolerantly: any field may be absent, unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserServiceEvent {
    /// `appid`.
    pub appid: Option<String<32>>,
    /// `mchid`.
    pub mchid: Option<String<32>>,
    /// `service_id`.
    pub service_id: Option<String<32>>,
    /// `openid`.
    pub openid: Option<String<128>>,
    /// `user_service_status`: `USER_OPEN_SERVICE` or `USER_CLOSE_SERVICE`.
    pub user_service_status: Option<String<32>>,
    /// `openorclose_time`, compact `yyyyMMddHHmmss` (Beijing time), exactly as received.
    pub openorclose_time: Option<String<32>>,
    /// `authorization_code`.
    pub authorization_code: Option<String<32>>,
    /// `out_request_no`, when present.
    pub out_request_no: Option<String<64>>,
}

impl UserServiceEvent {
    /// Parses a decrypted payload.
    pub fn from_json(plaintext: &[u8]) -> Result<Self, ParseError> {
        let mut e = UserServiceEvent::default();
        let mut seen = Seen::default();
        Reader::object(plaintext, |key, r| {
            match key {
                "appid" => {
                    seen.mark(0, "appid")?;
                    e.appid = r.read_opt_str("appid")?;
                }
                "mchid" => {
                    seen.mark(1, "mchid")?;
                    e.mchid = r.read_opt_str("mchid")?;
                }
                "service_id" => {
                    seen.mark(2, "service_id")?;
                    e.service_id = r.read_opt_str("service_id")?;
                }
                "openid" => {
                    seen.mark(3, "openid")?;
                    e.openid = r.read_opt_str("openid")?;
                }
                "user_service_status" => {
                    seen.mark(4, "user_service_status")?;
                    e.user_service_status = r.read_opt_str("user_service_status")?;
                }
                "openorclose_time" => {
                    seen.mark(5, "openorclose_time")?;
                    e.openorclose_time = r.read_opt_str("openorclose_time")?;
                }
                "authorization_code" => {
                    seen.mark(6, "authorization_code")?;
                    e.authorization_code = r.read_opt_str("authorization_code")?;
                }
                "out_request_no" => {
                    seen.mark(7, "out_request_no")?;
                    e.out_request_no = r.read_opt_str("out_request_no")?;
                }
                _ => r.skip_value()?,
            }
            Ok(())
        })?;
        Ok(e)
    }

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
    /// Any other event type: the decrypted bytes, verified and authenticated, unparsed.
    Other(&'b [u8]),
}

/// A verified, decrypted callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification<'b> {
    /// `id`: the notification id; handling must be idempotent per id (WeChat Pay retries).
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
    let mut env = Envelope {
        id: None,
        create_time: None,
        event_type: None,
        algorithm: None,
        nonce: None,
        associated_data: None,
        original_type: None,
        ciphertext_len: None,
    };
    // A repeated field is refused, as in every parser here: otherwise two `resource` objects
    // would merge into one that neither of them is, while other JSON readers keep the last.
    let mut seen = Seen::default();
    let mut seen_in_resource = Seen::default();
    let parsed = Reader::object(body, |key, r| {
        match key {
            "id" => {
                seen.mark(0, "id")?;
                env.id = Some(r.read_str("id")?);
            }
            "create_time" => {
                seen.mark(1, "create_time")?;
                env.create_time = r.read_opt_str("create_time")?;
            }
            "event_type" => {
                seen.mark(2, "event_type")?;
                env.event_type = Some(r.read_str("event_type")?);
            }
            "resource" => {
                seen.mark(3, "resource")?;
                r.read_object("resource", |key, r| {
                    let seen = &mut seen_in_resource;
                    match key {
                        "algorithm" => {
                            seen.mark(0, "algorithm")?;
                            env.algorithm = Some(r.read_str("algorithm")?);
                        }
                        "nonce" => {
                            seen.mark(1, "nonce")?;
                            env.nonce = Some(r.read_str("nonce")?);
                        }
                        "associated_data" => {
                            seen.mark(2, "associated_data")?;
                            env.associated_data = r.read_opt_str("associated_data")?;
                        }
                        "original_type" => {
                            seen.mark(3, "original_type")?;
                            env.original_type = r.read_opt_str("original_type")?;
                        }
                        "ciphertext" => {
                            seen.mark(4, "ciphertext")?;
                            env.ciphertext_len = Some(r.read_str_bytes("ciphertext", work)?);
                        }
                        _ => r.skip_value()?,
                    }
                    Ok(())
                })?;
            }
            _ => r.skip_value()?,
        }
        Ok(())
    });
    match parsed {
        Ok(()) => Ok(env),
        Err(ParseError::FieldTooLong { field: "nonce", .. }) => Err(CallbackError::BadNonce),
        Err(e) => Err(CallbackError::Envelope(e)),
    }
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
}
