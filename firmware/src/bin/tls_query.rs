//! Variant 9: variant 7's query inside TLS 1.3 (embedded-tls) over UART0. QEMU connects UART0
//! to the emulator's TLS listener (`Server::start_tls`; the emulator's `firmware_uart` test
//! starts both). The device takes its randomness from the host's `/dev/urandom`
//! (semihosting), opens TLS checking the server's certificate against the test CA it carries,
//! and then signs, sends, reads, verifies and parses as variant 7 does. A failed handshake
//! ends the run with an error; nothing is ever sent in plain.
//!
//! Instruction counts (`REPORT` lines) leave out the instructions spent polling the UART for
//! the peer (`uart::polled`), so they are the device's own work for the handshake and the query.
#![no_std]
#![no_main]

use core::cell::RefCell;

use cortex_m_rt::entry;
use embedded_io::ErrorKind;
use embedded_tls::blocking::{Aes128GcmSha256, TlsConfig, TlsConnection, TlsContext};
use wxpay_core::api::permissions::QueryByCode;
use wxpay_core::model::Value;
use wxpay_core::verify::PlatformKeys;
use wxpay_core::{AuthorizationRecord, Client, ClientError};
use wxpay_embedded_io::HttpClient;
use wxpay_firmware::params::{AUTHORIZATION_CODE, HOST, MCHID, PUB_KEY_ID, SERVICE_ID};
use wxpay_firmware::say;
use wxpay_firmware::tls::{
    Csprng, Provider, READ_BUFFER_LEN, SERVER_NAME, WRITE_BUFFER_LEN, host_generators, tls_error,
};
use wxpay_firmware::uart::{self, HostClock, Uart};
use wxpay_firmware::{
    boot, client_buffers, client_error, exit, fail, keys, meter, print_record, split, stack,
};

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    // One generator each for the TLS handshake, the request nonces and the RSA blinding,
    // each seeded from the host's entropy. No entropy: no run.
    let Some([tls_random, nonces, blinding]) = host_generators() else {
        fail("entropy: cannot read the host's /dev/urandom")
    };
    let Some(signer) = keys::merchant(blinding) else {
        fail("merchant key")
    };
    let Some(verifier) = keys::platform() else {
        fail("platform public key")
    };
    run(signer, verifier, tls_random, nonces)
}

/// Instructions since `start` less the UART polling since `polled`.
fn work(start: u64, polled: u64) -> u64 {
    meter::now()
        .saturating_sub(start)
        .saturating_sub(uart::polled().saturating_sub(polled))
}

/// The connection: embedded-tls's state over UART0.
type Connection = TlsConnection<'static, Wire, Aes128GcmSha256>;

/// UART0, in a static shared by the connection and `run`, which reads its byte counts at the
/// end (the connection, also in a static, never gives it back).
#[derive(Clone, Copy)]
struct Wire(&'static RefCell<Uart>);

impl embedded_io::ErrorType for Wire {
    type Error = ErrorKind;
}

impl embedded_io::Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        self.0
            .try_borrow_mut()
            .map_err(|_| ErrorKind::Other)?
            .read(buf)
    }
}

impl embedded_io::Write for Wire {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.0
            .try_borrow_mut()
            .map_err(|_| ErrorKind::Other)?
            .write(buf)
    }
    fn flush(&mut self) -> Result<(), ErrorKind> {
        self.0
            .try_borrow_mut()
            .map_err(|_| ErrorKind::Other)?
            .flush()
    }
}

/// The connection over UART0, with its record buffers, in statics (the connection's state is
/// 1.3 KiB, which would otherwise sit under both phases); and the UART. `None` on a second
/// call.
#[inline(never)]
fn connection() -> Option<(&'static mut Connection, Wire)> {
    let uart: &'static RefCell<Uart> =
        cortex_m::singleton!(: RefCell<Uart> = RefCell::new(Uart::new()))?;
    let read_buffer = cortex_m::singleton!(: [u8; READ_BUFFER_LEN] = [0; READ_BUFFER_LEN])?;
    let write_buffer = cortex_m::singleton!(: [u8; WRITE_BUFFER_LEN] = [0; WRITE_BUFFER_LEN])?;
    let wire = Wire(uart);
    let tls =
        cortex_m::singleton!(: Connection = TlsConnection::new(wire, read_buffer, write_buffer))?;
    Some((tls, wire))
}

/// Each phase is a function of its own (`#[inline(never)]`), so that the handshake's state
/// (the provider, the certificate check) and the query's (the client, the record) are never
/// on the stack together; the connection is in a static.
#[inline(never)]
fn run(
    signer: impl wxpay_core::Signer,
    verifier: &'static impl wxpay_core::Verifier,
    tls_random: &'static mut Csprng,
    nonces: &mut Csprng,
) -> ! {
    let Some((tls, wire)) = connection() else {
        fail("TLS connection storage")
    };
    // Each phase's stack is measured afresh: setup (the RSA key's loading), the handshake
    // (no RSA in it), the query (RSA signing in it).
    let setup_stack = stack::high_water();
    stack::paint();
    let handshake = open(tls, tls_random);
    let handshake_stack = stack::high_water();
    stack::paint();
    say!("TLS 1.3 open: TLS_AES_128_GCM_SHA256, certificate checked against the test CA");

    let (query, ok) = query(tls, signer, verifier, nonces);
    let Ok(wire) = wire.0.try_borrow() else {
        fail("UART in use")
    };
    say!(
        "uart: {} bytes written, {} bytes read",
        wire.written,
        wire.read
    );
    say!("REPORT tls_handshake={}", handshake);
    say!("REPORT tls_query={}", query);
    // The query's stack: its stretches outside RSA and its RSA operations (each repainted).
    let split::Stacks {
        outside_rsa,
        with_rsa,
    } = split::stacks();
    let query_stack = outside_rsa.max(with_rsa);
    say!(
        "REPORT stack={}",
        setup_stack.max(handshake_stack).max(query_stack)
    );
    say!("REPORT stack_setup={}", setup_stack);
    say!("REPORT stack_handshake={}", handshake_stack);
    say!("REPORT stack_query={}", query_stack);
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

/// The handshake, checking the server's certificate against the test CA; its instructions.
/// Any failure ends the run.
/// The configuration and the provider (with the verifier's state) live in statics, not under
/// the handshake's deepest frames.
#[inline(never)]
fn open(tls: &mut Connection, tls_random: &'static mut Csprng) -> u64 {
    let Some(config) = cortex_m::singleton!(
        : TlsConfig<'static> = TlsConfig::new().with_server_name(SERVER_NAME)
    ) else {
        fail("TLS configuration storage")
    };
    let Some(provider) = cortex_m::singleton!(: Provider<'static> = Provider::new(tls_random))
    else {
        fail("TLS provider storage")
    };
    let (start, polled) = (meter::now(), uart::polled());
    if let Err(e) = tls.open(TlsContext::new(config, &mut *provider)) {
        fail(tls_error(&e))
    }
    let handshake = work(start, polled);
    // embedded-tls accepts a handshake in which the server skipped its certificate: refuse it.
    if !provider.authenticated() {
        fail("TLS: the server did not authenticate (no certificate or CertificateVerify)")
    }
    handshake
}

/// The query inside the open connection, printing the record; its instructions, and whether
/// the record is the one asked for. Any failure ends the run.
#[inline(never)]
fn query<S: wxpay_core::Signer, V: wxpay_core::Verifier>(
    tls: &mut Connection,
    signer: S,
    verifier: &'static V,
    nonces: &mut Csprng,
) -> (u64, bool) {
    // The key set is made here, not in `run`, whose frame is under the handshake too.
    let Ok(keys) = PlatformKeys::<_, 2>::with_key(PUB_KEY_ID, split::SplitVerifier(verifier))
    else {
        fail("platform key set")
    };
    let (scratch, body) = client_buffers();
    let http: HttpClient<'_, _> = HttpClient::new(tls, HOST, scratch);
    let client = Client::new(
        http,
        split::SplitSigner(signer),
        keys,
        HostClock,
        nonces,
        MCHID,
    )
    .and_then(|c| c.with_wechatpay_serial(PUB_KEY_ID));
    let Ok(mut client) = client else {
        fail("client setup")
    };
    let Some(record) = record_storage() else {
        fail("record storage")
    };
    let (start, polled) = (meter::now(), uart::polled());
    // The answer is parsed where it lives (`call_into`), never moved through `Result`s.
    let outcome = QueryByCode::new(AUTHORIZATION_CODE, SERVICE_ID)
        .map_err(ClientError::Request)
        .and_then(|query| client.call_into(&query, body, record));
    let query = work(start, polled).saturating_sub(split::probes());
    split::outside_rsa_ends();
    match outcome {
        Ok(()) => {}
        Err(ClientError::Transport(wxpay_embedded_io::Error::Io(e))) => fail(tls_error(&e)),
        Err(e) => fail(client_error(&e)),
    }
    print_record(record);
    let ok = record.service_id.as_str() == SERVICE_ID
        && record.authorization_code.as_deref() == Some(AUTHORIZATION_CODE);
    (query, ok)
}

/// The record, in a static (0.7 KiB): parsed where it lies, so it is not on the stack under
/// the RSA signature. `None` on a second call.
#[inline(never)]
fn record_storage() -> Option<&'static mut AuthorizationRecord> {
    cortex_m::singleton!(: AuthorizationRecord = <AuthorizationRecord as Value>::placeholder())
}
