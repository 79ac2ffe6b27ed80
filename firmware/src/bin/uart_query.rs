//! Variant 7: the full client with software RSA over a real byte stream. UART0 carries the
//! HTTP/1.1 request and response; QEMU connects it to the emulator on the host
//! (`-serial tcp:127.0.0.1:PORT`; the emulator's `firmware_uart` test starts both). The device
//! signs (blinded RSA-2048), sends, reads, verifies the platform signature against the host's
//! real time, and parses the record. Not part of the instruction counts: the meter would count
//! the polling of the UART. Its stack is reported (`REPORT` lines): setup, and the query
//! outside and inside its RSA sign and verify.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use wxpay_core::api::permissions::QueryByCode;
use wxpay_core::verify::PlatformKeys;
use wxpay_core::{Client, ClientError};
use wxpay_embedded_io::HttpClient;
use wxpay_firmware::params::{
    AUTHORIZATION_CODE, BLINDING_SEED, HOST, MCHID, PUB_KEY_ID, SERVICE_ID, StandInRng,
};
use wxpay_firmware::say;
use wxpay_firmware::uart::{HostClock, Uart};
use wxpay_firmware::{
    boot, client_buffers, client_error, exit, fail, keys, print_record, split, stack,
};

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    // QEMU's AN386 has no TRNG: the nonce and blinding streams are the stand-in generator,
    // seeded from the host time so that two runs do not repeat a nonce. Not for production.
    let now = wxpay_core::Clock::unix_seconds(&HostClock) as u32;
    let Some(signer) = keys::merchant(StandInRng::new(BLINDING_SEED ^ now)) else {
        fail("merchant key")
    };
    let Some(verifier) = keys::platform() else {
        fail("platform public key")
    };
    run(signer, verifier, now)
}

#[inline(never)]
fn run(
    signer: impl wxpay_core::Signer,
    verifier: &'static impl wxpay_core::Verifier,
    now: u32,
) -> ! {
    // Setup's stack (the RSA key's loading); the query's is measured afresh, outside and
    // inside its RSA sign and verify.
    let setup_stack = stack::high_water();
    stack::paint();
    let Ok(keys) = PlatformKeys::<_, 2>::with_key(PUB_KEY_ID, split::SplitVerifier(verifier))
    else {
        fail("platform key set")
    };
    let (scratch, body) = client_buffers();
    let http: HttpClient<'_, Uart> = HttpClient::new(Uart::new(), HOST, scratch);
    let client = Client::new(
        http,
        split::SplitSigner(signer),
        keys,
        HostClock,
        StandInRng::new(0x2545_F491 ^ now.rotate_left(16)),
        MCHID,
    )
    .and_then(|c| c.with_wechatpay_serial(PUB_KEY_ID));
    let Ok(mut client) = client else {
        fail("client setup")
    };
    let record = QueryByCode::new(AUTHORIZATION_CODE, SERVICE_ID)
        .map_err(ClientError::Request)
        .and_then(|query| client.call(&query, body));
    split::outside_rsa_ends();
    let uart = client.transport_mut().stream_mut();
    say!(
        "uart: {} bytes written, {} bytes read",
        uart.written,
        uart.read
    );
    let record = match record {
        Ok(record) => record,
        Err(e) => fail(client_error(&e)),
    };
    print_record(&record);
    let ok = record.service_id.as_str() == SERVICE_ID
        && record.authorization_code.as_deref() == Some(AUTHORIZATION_CODE);
    let split::Stacks {
        outside_rsa,
        with_rsa,
    } = split::stacks();
    say!(
        "REPORT stack={}",
        setup_stack.max(outside_rsa).max(with_rsa)
    );
    say!("REPORT stack_setup={}", setup_stack);
    say!("REPORT stack_query_outside_rsa={}", outside_rsa);
    say!(
        "{}",
        if ok {
            "OK"
        } else {
            "FAILED: not the expected record"
        }
    );
    exit(ok)
}
