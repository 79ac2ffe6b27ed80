//! Request signing: the five-line message streamed into SHA-256, a [`Signer`] over the prehash,
//! and the `Authorization` header written into a caller buffer (and parsed back, for servers).

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::transport::Method;
use crate::writer::{CountingWriter, Decimal};

/// An RSA-2048 signature is 256 bytes.
pub const SIGNATURE_LEN: usize = 256;
/// Its padded standard base64 form is 344 characters.
pub const SIGNATURE_BASE64_LEN: usize = 344;
/// The `Authorization` scheme.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";
/// Room for any `Authorization` value this crate writes (about 520 bytes in practice).
pub const AUTHORIZATION_CAPACITY: usize = 640;
/// Longest merchant id accepted (PROTOCOL.md: string(32)).
pub const MCHID_CAPACITY: usize = 32;
/// Longest certificate serial or public-key id accepted.
pub const SERIAL_CAPACITY: usize = 64;

/// A SHA-256 digest.
pub type Sha256Digest = [u8; 32];

/// RSASSA-PKCS1-v1_5 over a SHA-256 prehash: fits the `rsa` crate and a secure element alike.
pub trait Signer {
    /// The signer's own error.
    type Error: core::fmt::Debug;
    /// Serial of the merchant API certificate (40 upper-case hex characters).
    fn serial_no(&self) -> &str;
    /// Signs `digest`, writing the 256-byte signature into `out`.
    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), Self::Error>;
}

impl<S: Signer + ?Sized> Signer for &mut S {
    type Error = S::Error;
    fn serial_no(&self) -> &str {
        (**self).serial_no()
    }
    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), Self::Error> {
        (**self).sign_prehash(digest, out)
    }
}

/// The request message `METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n`, hashed as it is fed.
///
/// The body may arrive in pieces; no buffer as large as the body is needed.
#[derive(Debug, Clone)]
pub struct RequestDigest(Sha256);

impl RequestDigest {
    /// Hashes the first four lines.
    pub fn new(method: Method, target: &str, timestamp: u64, nonce: &str) -> Self {
        let mut hash = Sha256::new();
        for line in [
            method.as_str().as_bytes(),
            target.as_bytes(),
            Decimal::new(timestamp).as_bytes(),
            nonce.as_bytes(),
        ] {
            hash.update(line);
            hash.update(b"\n");
        }
        RequestDigest(hash)
    }

    /// Feeds (part of) the body, exactly the bytes that are sent.
    pub fn update_body(&mut self, chunk: &[u8]) {
        self.0.update(chunk);
    }

    /// Adds the final `\n` and returns the digest.
    pub fn finalize(mut self) -> Sha256Digest {
        self.0.update(b"\n");
        self.0.finalize().into()
    }
}

/// The digest of a whole request.
pub fn request_digest(
    method: Method,
    target: &str,
    timestamp: u64,
    nonce: &str,
    body: &[u8],
) -> Sha256Digest {
    let mut digest = RequestDigest::new(method, target, timestamp, nonce);
    digest.update_body(body);
    digest.finalize()
}

/// What a request is signed over, besides the key.
#[derive(Debug, Clone, Copy)]
pub struct SigningInput<'a> {
    /// Merchant id.
    pub mchid: &'a str,
    /// HTTP method.
    pub method: Method,
    /// Target exactly as sent (see [`TargetBuilder`](crate::path::TargetBuilder)).
    pub target: &'a str,
    /// Body exactly as sent; empty for GET.
    pub body: &'a [u8],
    /// Unix seconds.
    pub timestamp: u64,
    /// 32 characters `[A-Za-z0-9]`.
    pub nonce: &'a str,
}

/// Signs a request and writes its `Authorization` value into `out`.
///
/// ```
/// # use wxpay_core::{sign::*, transport::Method};
/// struct FakeSigner;
/// impl Signer for FakeSigner {
///     type Error = ();
///     fn serial_no(&self) -> &str { "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29" }
///     fn sign_prehash(&mut self, _: &Sha256Digest, out: &mut [u8; SIGNATURE_LEN]) -> Result<(), ()> {
///         out.fill(0); Ok(())
///     }
/// }
/// let mut buf = [0u8; AUTHORIZATION_CAPACITY];
/// let header = authorization(&mut FakeSigner, &SigningInput {
///     mchid: "1230000109", method: Method::Get,
///     target: "/v3/payscore/permissions/authorization-code/X?service_id=500001",
///     body: b"", timestamp: 1554208460, nonce: "593BEC0C930BF1AFEB40B4A08C8FB242",
/// }, &mut buf)?;
/// assert!(header.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str="));
/// # Ok::<(), wxpay_core::Error>(())
/// ```
pub fn authorization<'o, S: Signer>(
    signer: &mut S,
    input: &SigningInput<'_>,
    out: &'o mut [u8],
) -> Result<&'o str, Error> {
    check_value("mchid", input.mchid, MCHID_CAPACITY)?;
    check_value("serial_no", signer.serial_no(), SERIAL_CAPACITY)?;
    if input.nonce.is_empty() || !input.nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::InvalidInput {
            what: "nonce must be [A-Za-z0-9]",
        });
    }
    let digest = request_digest(
        input.method,
        input.target,
        input.timestamp,
        input.nonce,
        input.body,
    );
    let mut signature = [0u8; SIGNATURE_LEN];
    signer
        .sign_prehash(&digest, &mut signature)
        .map_err(|_| Error::Signer)?;
    write_authorization(
        out,
        &AuthorizationFields {
            mchid: input.mchid,
            nonce_str: input.nonce,
            timestamp: Decimal::new(input.timestamp).as_str(),
            serial_no: signer.serial_no(),
            signature: "",
        },
        &signature,
    )
}

/// Writes the header value; `fields.signature` is ignored in favour of `signature`.
fn write_authorization<'o>(
    out: &'o mut [u8],
    fields: &AuthorizationFields<'_>,
    signature: &[u8; SIGNATURE_LEN],
) -> Result<&'o str, Error> {
    let mut w = CountingWriter::new(out);
    w.put(AUTH_SCHEME.as_bytes());
    w.put(b" ");
    for (key, value) in [
        ("mchid", fields.mchid.as_bytes()),
        (",nonce_str", fields.nonce_str.as_bytes()),
        (",timestamp", fields.timestamp.as_bytes()),
        (",serial_no", fields.serial_no.as_bytes()),
    ] {
        w.put(key.as_bytes());
        w.put(b"=\"");
        w.put(value);
        w.put(b"\"");
    }
    // The signature is encoded straight into the header; the whole is validated once.
    w.put(b",signature=\"");
    w.put_base64(signature);
    w.put(b"\"");
    w.finish_str()
}

/// Base64 (standard, padded) of a signature: 344 characters.
pub fn encode_signature<'o>(
    signature: &[u8; SIGNATURE_LEN],
    out: &'o mut [u8; SIGNATURE_BASE64_LEN],
) -> &'o str {
    // 256 bytes always encode to exactly 344 characters, which `out` holds.
    crate::base64::encode(signature, out).unwrap_or_default()
}

fn is_token(value: &str) -> bool {
    // `fold` rather than `all`: no early exit, so the check over ~80 bytes a request vectorises.
    !value.is_empty()
        && value
            .bytes()
            .fold(true, |ok, b| ok & (b.is_ascii_alphanumeric() | (b == b'_')))
}

fn check_value(what: &'static str, value: &str, max: usize) -> Result<(), Error> {
    if value.len() > max {
        Err(Error::TooLong { what, max })
    } else if !is_token(value) {
        Err(Error::InvalidInput {
            what: "mchid and serial_no must be non-empty [A-Za-z0-9_]",
        })
    } else {
        Ok(())
    }
}

/// The five fields of an `Authorization` value, as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthorizationFields<'a> {
    /// `mchid`.
    pub mchid: &'a str,
    /// `nonce_str`.
    pub nonce_str: &'a str,
    /// `timestamp`, decimal seconds as sent.
    pub timestamp: &'a str,
    /// `serial_no` of the merchant certificate.
    pub serial_no: &'a str,
    /// `signature`, base64.
    pub signature: &'a str,
}

/// Parses an `Authorization` value, as a server does. Field order is free; every field must
/// appear exactly once, quoted, and nothing else may appear.
pub fn parse_authorization(header: &str) -> Result<AuthorizationFields<'_>, Error> {
    let bad = |what| Err(Error::InvalidInput { what });
    let Some(params) = header
        .strip_prefix(AUTH_SCHEME)
        .and_then(|rest| rest.strip_prefix(' '))
    else {
        return bad("authorization scheme is not WECHATPAY2-SHA256-RSA2048");
    };
    let mut fields = AuthorizationFields::default();
    let mut seen = 0u8;
    for param in params.split(',') {
        let Some((key, quoted)) = param.split_once('=') else {
            return bad("authorization parameter without '='");
        };
        let Some(value) = quoted
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .filter(|v| !v.contains('"'))
        else {
            return bad("authorization value is not quoted");
        };
        if value.is_empty() {
            return bad("authorization value is empty");
        }
        let (bit, slot) = match key {
            "mchid" => (1, &mut fields.mchid),
            "nonce_str" => (2, &mut fields.nonce_str),
            "timestamp" => (4, &mut fields.timestamp),
            "serial_no" => (8, &mut fields.serial_no),
            "signature" => (16, &mut fields.signature),
            _ => return bad("unknown authorization parameter"),
        };
        if seen & bit != 0 {
            return bad("repeated authorization parameter");
        }
        seen |= bit;
        *slot = value;
    }
    if seen != 31 {
        return bad("authorization parameter missing");
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2024::*;

    struct FixedSigner(u8);
    impl Signer for FixedSigner {
        type Error = ();
        fn serial_no(&self) -> &str {
            "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29"
        }
        fn sign_prehash(&mut self, _: &Sha256Digest, out: &mut [u8; 256]) -> Result<(), ()> {
            out.fill(self.0);
            Ok(())
        }
    }

    fn input<'a>(body: &'a [u8]) -> SigningInput<'a> {
        SigningInput {
            mchid: "1230000109",
            method: Method::Post,
            target: "/v3/payscore/permissions",
            body,
            timestamp: 1_554_208_460,
            nonce: "593BEC0C930BF1AFEB40B4A08C8FB242",
        }
    }

    #[test]
    fn streamed_digest_equals_one_shot() {
        let body = br#"{"service_id":"500001"}"#;
        let mut streamed = RequestDigest::new(Method::Post, "/v3/x", 7, "N");
        for chunk in body.chunks(3) {
            streamed.update_body(chunk);
        }
        let whole: Sha256Digest =
            Sha256::digest(b"POST\n/v3/x\n7\nN\n{\"service_id\":\"500001\"}\n").into();
        assert_eq!(streamed.finalize(), whole);
        assert_eq!(request_digest(Method::Post, "/v3/x", 7, "N", body), whole);
    }

    #[test]
    fn header_round_trip_and_exact_size() {
        let mut buf = [0u8; AUTHORIZATION_CAPACITY];
        let header =
            authorization(&mut FixedSigner(0xAB), &input(b"{}"), &mut buf).map(String::from);
        let header = header.unwrap_or_default();
        let fields = parse_authorization(&header);
        assert_eq!(
            fields.map(|f| (
                f.mchid,
                f.nonce_str,
                f.timestamp,
                f.serial_no,
                f.signature.len()
            )),
            Ok((
                "1230000109",
                "593BEC0C930BF1AFEB40B4A08C8FB242",
                "1554208460",
                "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29",
                SIGNATURE_BASE64_LEN
            ))
        );
        let mut small = vec![0u8; header.len() - 1];
        assert_eq!(
            authorization(&mut FixedSigner(0xAB), &input(b"{}"), &mut small),
            Err(Error::BufferTooSmall {
                needed: header.len()
            })
        );
        let mut exact = vec![0u8; header.len()];
        assert_eq!(
            authorization(&mut FixedSigner(0xAB), &input(b"{}"), &mut exact),
            Ok(header.as_str())
        );
    }

    #[test]
    fn nonce_is_alphanumeric_only() {
        let mut buf = [0u8; AUTHORIZATION_CAPACITY];
        for nonce in ["", "abc_def", "abc-def", "a b"] {
            let mut bad = input(b"");
            bad.nonce = nonce;
            assert_eq!(
                authorization(&mut FixedSigner(1), &bad, &mut buf),
                Err(Error::InvalidInput {
                    what: "nonce must be [A-Za-z0-9]"
                }),
                "{nonce:?}"
            );
        }
    }

    #[test]
    fn refuses_header_injection() {
        let mut buf = [0u8; AUTHORIZATION_CAPACITY];
        let mut bad = input(b"");
        bad.mchid = "123\",x=\"";
        assert!(matches!(
            authorization(&mut FixedSigner(1), &bad, &mut buf),
            Err(Error::InvalidInput { .. })
        ));
        let mut long = input(b"");
        long.mchid = "123456789012345678901234567890123";
        assert_eq!(
            authorization(&mut FixedSigner(1), &long, &mut buf),
            Err(Error::TooLong {
                what: "mchid",
                max: 32
            })
        );
    }

    #[test]
    fn parse_table() {
        let ok = r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="S""#;
        assert_eq!(
            parse_authorization(ok),
            Ok(AuthorizationFields {
                mchid: "1",
                nonce_str: "n",
                timestamp: "2",
                serial_no: "S",
                signature: "s"
            })
        );
        #[rustfmt::skip]
        let bad: &[&str] = &[
            "",
            r#"WECHATPAY2-SHA256-RSA2048mchid="1""#,
            r#"OTHER mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="S""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="2""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="S""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="n",signature="s",timestamp="2",serial_no="S""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1", nonce_str="n",signature="s",timestamp="2",serial_no="S""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="S",x="y""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="",nonce_str="n",signature="s",timestamp="2",serial_no="S""#,
        ];
        for header in bad {
            assert!(parse_authorization(header).is_err(), "{header}");
        }
    }
}
