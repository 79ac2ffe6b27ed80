//! No-allocator link proof: `cargo build` (thumbv7em-none-eabihf, thumbv6m-none-eabi,
//! riscv32imc-unknown-none-elf) succeeds only if nothing on these paths needs a global
//! allocator: the core's sign, verify and parse, the whole `Client` over the embedded-io
//! HTTP/1.1 transport, and software RSA-2048 (`rsa-fixed`: keys from raw components and from
//! DER, blinded signing, verification). It is linked, never run.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::panic::PanicInfo;

use wxpay_core::api::permissions::{self, AuthorizationRecord};
use wxpay_core::crypto::rsa_fixed::{FixedRsaSigner, FixedRsaVerifier, RsaComponents};
use wxpay_core::sign::{self, SIGNATURE_LEN, Sha256Digest, Signer, SigningInput};
use wxpay_core::transport::Transport;
use wxpay_core::transport::{Method, ResponseHeaders};
use wxpay_core::verify::{self, PlatformKeys, Verifier};
use wxpay_core::{ApiError, Client, Clock, Error, Nonce, RandomSource};
use wxpay_embedded_io::HttpClient;

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
    let Ok(call) = permissions::QueryByCode::new(code, "500001") else {
        return 1;
    };
    let Ok(target) = call.target(&mut target) else {
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

/// An in-memory stream: writes are counted, reads come from a fixed reply.
struct Wire<'r> {
    reply: &'r [u8],
    written: usize,
}

impl embedded_io::ErrorType for Wire<'_> {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.reply.len());
        let (now, later) = self.reply.split_at(n);
        buf[..n].copy_from_slice(now);
        self.reply = later;
        Ok(n)
    }
}

impl embedded_io::Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.written += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

struct FixedClock(i64);
impl Clock for FixedClock {
    fn unix_seconds(&self) -> i64 {
        self.0
    }
}

/// The whole client: target, signature, HTTP/1.1 over the stream, verify, parse.
fn run_client(reply: &[u8], now: i64) -> usize {
    let mut scratch = [0u8; wxpay_embedded_io::RECOMMENDED_SCRATCH_LEN];
    let wire = Wire { reply, written: 0 };
    let http: HttpClient<'_, Wire<'_>> =
        HttpClient::new(wire, "api.mch.weixin.qq.com", &mut scratch);
    let Ok(keys) =
        PlatformKeys::<_, 2>::with_key("PUB_KEY_ID_0114232134912410000000000000", FakeVerifier)
    else {
        return 6;
    };
    let Ok(mut client) = Client::new(
        http,
        FakeSigner,
        keys,
        FixedClock(now),
        FakeRandom(7),
        "1230000109",
    ) else {
        return 7;
    };
    let mut body = [0u8; 2048];
    let Ok(call) = permissions::QueryByCode::new("1234323JKHDFE1243252", "500001") else {
        return 7;
    };
    let outcome = match client.call(&call, &mut body) {
        Ok(record) => record.service_id.len(),
        Err(e) => e.is_not_found() as usize + 8,
    };
    // The bare transport too, as firmware without the Client would call it.
    let request = wxpay_core::Request {
        method: Method::Get,
        target: "/v3/x",
        authorization: "A",
        user_agent: wxpay_core::transport::USER_AGENT,
        wechatpay_serial: None,
        body: b"",
    };
    let transport = client.transport_mut();
    transport.reconnect(Wire { reply, written: 0 });
    match transport.execute(&request, &mut body) {
        Ok(head) => outcome + head.body_len + transport.stream_mut().written,
        Err(_) => outcome + 9,
    }
}

/// The client again, with software RSA-2048: a merchant key from raw components or DER,
/// blinded, and a platform key from its modulus or DER.
fn run_rsa(parts: &[&[u8]; 7], der: &[u8], reply: &[u8], now: i64) -> usize {
    let [
        modulus,
        public_exponent,
        prime1,
        prime2,
        exponent1,
        exponent2,
        coefficient,
    ] = *parts;
    let components = RsaComponents {
        modulus,
        public_exponent,
        prime1,
        prime2,
        exponent1,
        exponent2,
        coefficient,
    };
    let signer = match FixedRsaSigner::from_components(&components, "S") {
        Ok(signer) => signer,
        Err(_) => match FixedRsaSigner::from_der(der, "S") {
            Ok(signer) => signer,
            Err(_) => return 10,
        },
    };
    let verifier = match FixedRsaVerifier::from_modulus(modulus, 65537) {
        Ok(verifier) => verifier,
        Err(_) => match FixedRsaVerifier::from_der(der) {
            Ok(verifier) => verifier,
            Err(_) => return 11,
        },
    };
    let mut scratch = [0u8; wxpay_embedded_io::RECOMMENDED_SCRATCH_LEN];
    let http: HttpClient<'_, Wire<'_>> = HttpClient::new(
        Wire { reply, written: 0 },
        "api.mch.weixin.qq.com",
        &mut scratch,
    );
    let Ok(keys) =
        PlatformKeys::<_, 2>::with_key("PUB_KEY_ID_0114232134912410000000000000", &verifier)
    else {
        return 12;
    };
    let Ok(mut client) = Client::new(
        http,
        signer.with_blinding(FakeRandom(5)),
        keys,
        FixedClock(now),
        FakeRandom(9),
        "1230000109",
    ) else {
        return 13;
    };
    let mut body = [0u8; 2048];
    match client.authorization_by_code("1234323JKHDFE1243252", "500001", &mut body) {
        Ok(record) => record.service_id.len(),
        Err(e) => e.is_not_found() as usize + 14,
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let part: &[u8] = black_box(&[0xc5; 256]);
    let parts: [&[u8]; 7] = black_box([part, b"\x01\x00\x01", part, part, part, part, part]);
    black_box(run_rsa(
        &parts,
        part,
        black_box(b"HTTP/1.1 200 OK\r\n\r\n"),
        7,
    ));
    let reply: &[u8] =
        black_box(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    black_box(run_client(reply, black_box(1_554_208_460)));
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
