//! No-allocator link proof: `cargo build` (thumbv7em-none-eabihf) succeeds only if nothing on
//! these paths needs a global allocator. It is linked, never run.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::panic::PanicInfo;

use wxpay_core::api::permissions::{self, AuthorizationRecord};
use wxpay_core::sign::{self, SIGNATURE_LEN, Sha256Digest, Signer, SigningInput};
use wxpay_core::transport::{Method, ResponseHeaders};
use wxpay_core::verify::{self, PlatformKeys, Verifier};
use wxpay_core::{ApiError, Error, Nonce, RandomSource};

/// A stand-in for a secure element: returns a fixed signature.
struct FakeSigner;
impl Signer for FakeSigner {
    type Error = ();
    fn serial_no(&self) -> &str {
        "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29"
    }
    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), ()> {
        out.fill(digest[0]);
        Ok(())
    }
}

struct FakeVerifier;
impl Verifier for FakeVerifier {
    fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
        signature[0] == digest[0]
    }
}

struct FakeRandom(u8);
impl RandomSource for FakeRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        for b in dest {
            self.0 = self.0.wrapping_mul(17).wrapping_add(3);
            *b = self.0;
        }
        Ok(())
    }
}

fn run(code: &str, body: &[u8], headers: &[(&str, &[u8])], now: i64) -> usize {
    let mut target = [0u8; permissions::TARGET_CAPACITY];
    let Ok(target) = permissions::target_by_code(&mut target, code, "500001") else {
        return 1;
    };
    let Ok(nonce) = Nonce::generate(&mut FakeRandom(now as u8)) else {
        return 2;
    };
    let mut header = [0u8; sign::AUTHORIZATION_CAPACITY];
    let input = SigningInput {
        mchid: "1230000109",
        method: Method::Get,
        target,
        body: b"",
        timestamp: now as u64,
        nonce: nonce.as_str(),
    };
    let Ok(header) = sign::authorization(&mut FakeSigner, &input, &mut header) else {
        return 3;
    };
    let mut captured = ResponseHeaders::default();
    for (name, value) in headers {
        captured.capture(name, value);
    }
    let Ok(keys) =
        PlatformKeys::<_, 2>::with_key("PUB_KEY_ID_0114232134912410000000000000", FakeVerifier)
    else {
        return 4;
    };
    if verify::verify_response(&keys, &captured, body, now).is_err() {
        return header.len() + ApiError::from_response(404, &captured, body).message.len();
    }
    match AuthorizationRecord::from_json(body) {
        Ok(record) => record.service_id.len(),
        Err(_) => 5,
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let body: &[u8] = black_box(br#"{"service_id":"500001","appid":"a","mchid":"m"}"#);
    let headers: &[(&str, &[u8])] = black_box(&[("Wechatpay-Timestamp", b"1554208460")]);
    black_box(run(
        black_box("1234323JKHDFE1243252"),
        body,
        headers,
        black_box(1_554_208_460),
    ));
    halt()
}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    halt()
}

/// Never run: the binary exists to be linked.
fn halt() -> ! {
    loop {
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }
}
