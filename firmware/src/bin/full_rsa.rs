//! Variant 3: the full client with the fixed-size software RSA signer (RSA-2048, CRT, blinded with a deterministic
//! stand-in RNG) and verifier.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use wxpay_firmware::params::{BLINDING_SEED, StandInRng};
use wxpay_firmware::{boot, client_example, fail, fixture, stack};

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    let Some(signer) = wxpay_firmware::keys::merchant(StandInRng::new(BLINDING_SEED)) else {
        fail("merchant key")
    };
    client_example(
        "full_rsa",
        "full client, RSA-2048 sign and verify",
        signer,
        fixture::EXPECTED_REQUEST_RSA,
        fixture::RESPONSE.len() + fixture::EXPECTED_REQUEST_RSA.len(),
        |_, _, _| [],
    )
}
