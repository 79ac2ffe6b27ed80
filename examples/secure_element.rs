//! A secure element as the `Signer`: the merchant key stays in the chip, which signs the
//! SHA-256 digest the core computed (RSASSA-PKCS1-v1_5). Firmware does the same over its
//! transport (wxpay-embedded-io); the host client here only makes it runnable.
use std::sync::Arc;
use wxpay_core::api::permissions::QueryByCode;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::sign::{SIGNATURE_LEN, Sha256Digest, Signer};
use wxpay_emulator::{Emulator, demo, server::Server};
use wxpay_ureq::{HostClient, Timeouts, host_client};

/// What an element's driver offers (SE050, ATECC608, a TPM, an HSM): sign a digest with the
/// RSA-2048 key in a slot.
trait RsaSlots {
    type Error: core::fmt::Debug;
    fn sign_digest(
        &mut self,
        slot: u16,
        digest: &[u8; 32],
        out: &mut [u8; 256],
    ) -> Result<(), Self::Error>;
}

/// The `Signer`: a driver, the key's slot and the merchant certificate serial.
struct SecureElement<D> {
    driver: D,
    slot: u16,
    serial: &'static str,
}

impl<D: RsaSlots> Signer for SecureElement<D> {
    type Error = D::Error;
    fn serial_no(&self) -> &str {
        self.serial
    }
    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), D::Error> {
        self.driver.sign_digest(self.slot, digest, out)
    }
}

/// A software stand-in for the chip, so the example runs on a host with the demo TEST key.
struct SoftChip(RsaSigner);
impl RsaSlots for SoftChip {
    type Error = <RsaSigner as Signer>::Error;
    fn sign_digest(
        &mut self,
        _slot: u16,
        digest: &[u8; 32],
        out: &mut [u8; 256],
    ) -> Result<(), Self::Error> {
        self.0.sign_prehash(digest, out)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::start(Arc::new(Emulator::demo()), "127.0.0.1:0")?; // stands in for WeChat Pay
    let chip = SoftChip(RsaSigner::from_pem(
        demo::MERCHANT_KEY_PEM,
        demo::MERCHANT_SERIAL,
    )?);
    let signer = SecureElement {
        driver: chip,
        slot: 0xF0,
        serial: demo::MERCHANT_SERIAL,
    };
    let platform = RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM)?;
    let mut client: HostClient<SecureElement<SoftChip>> = host_client(
        &server.base_url(),
        Timeouts::default(),
        demo::MCHID,
        signer,
        demo::PLATFORM_KEY_ID,
        platform,
    )?;
    let mut body = [0u8; 2048];
    let record = client.call(
        &QueryByCode::new(demo::AUTHORIZATION_CODE, demo::SERVICE_ID)?,
        &mut body,
    )?;
    println!(
        "signed in the element: {:?} is {:?}",
        record.openid, record.authorization_state
    );
    Ok(())
}
