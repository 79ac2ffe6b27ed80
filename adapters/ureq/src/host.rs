//! The client a host usually builds, with its types spelled out.
//!
//! `Client` has a const parameter for the size of its platform key set, and a default in a
//! type does not drive inference in an expression: `Client::new(…, PlatformKeys::with_key(…)?,
//! …)` alone fails with `E0284 type annotations needed`. [`HostClient`] names every parameter,
//! so `let client: HostClient = Client::new(…)?;` compiles as written.

use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::{Client, Error, PlatformKeys, Signer, Verifier};

use crate::{OsRandom, SystemClock, Timeouts, USER_AGENT, UreqTransport};

/// A [`Client`] over [`UreqTransport`] with the [`SystemClock`], [`OsRandom`] and room for two
/// platform keys (a `PUB_KEY_ID_…` beside a certificate during a migration). It signs and
/// verifies with the core's pure-Rust RSA unless told otherwise: with `wxpay-aws-lc`, use
/// `HostClient<AwsLcSigner, AwsLcVerifier>`.
pub type HostClient<S = RsaSigner, V = RsaVerifier> =
    Client<UreqTransport, S, V, SystemClock, OsRandom, 2>;

/// A [`HostClient`] for merchant `mchid` at `base_url` (e.g. [`PRODUCTION_BASE_URL`]) that
/// trusts one platform key, `platform_key` under `platform_key_id`. A `PUB_KEY_ID_…` id is also
/// sent as `Wechatpay-Serial` (public-key mode); the `User-Agent` names this adapter too.
///
/// [`PRODUCTION_BASE_URL`]: crate::PRODUCTION_BASE_URL
pub fn host_client<S: Signer, V: Verifier>(
    base_url: &str,
    timeouts: Timeouts,
    mchid: &str,
    signer: S,
    platform_key_id: &str,
    platform_key: V,
) -> Result<HostClient<S, V>, Error> {
    let keys = PlatformKeys::with_key(platform_key_id, platform_key)?;
    let transport = UreqTransport::new(base_url, timeouts);
    let client = Client::new(transport, signer, keys, SystemClock, OsRandom, mchid)?;
    let client = if platform_key_id.starts_with("PUB_KEY_ID_") {
        client.with_wechatpay_serial(platform_key_id)?
    } else {
        client
    };
    Ok(client.with_user_agent(USER_AGENT))
}
