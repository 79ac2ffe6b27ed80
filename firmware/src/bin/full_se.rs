//! Variant 4: the full client with a secure-element signer (a stub returning a fixed
//! signature), so no RSA signing code is linked; responses are still verified with RSA.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use wxpay_firmware::params::SecureElementStub;
use wxpay_firmware::{boot, client_example, fixture, stack};

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    client_example(
        "full_se",
        "full client, secure-element signer stub, RSA verify",
        SecureElementStub,
        fixture::EXPECTED_REQUEST_SE,
        fixture::RESPONSE.len() + fixture::EXPECTED_REQUEST_SE.len(),
        |_, _, _| [],
    )
}
