//! Variant 3: the full client with the `rsa` signer (RSA-2048, blinded with a deterministic
//! stand-in RNG) and verifier.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use wxpay_core::crypto::rsa::RsaSigner;
use wxpay_firmware::params::{BLINDING_SEED, MERCHANT_SERIAL, StandInRng};
use wxpay_firmware::{boot, client_example, fail, fixture, stack};

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    let Ok(signer) = RsaSigner::from_der(fixture::MERCHANT_KEY_DER, MERCHANT_SERIAL) else {
        fail("merchant key")
    };
    client_example(
        "full_rsa",
        "full client, RSA-2048 sign and verify",
        signer.with_blinding(StandInRng::new(BLINDING_SEED)),
        fixture::EXPECTED_REQUEST_RSA,
        fixture::RESPONSE.len() + fixture::EXPECTED_REQUEST_RSA.len(),
        |_, _, _| [],
    )
}
