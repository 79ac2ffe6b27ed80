//! What the firmware variants share: the prepared fixture, an in-memory stream, the
//! instruction meter (SysTick under `-icount shift=0`), stack painting,
//! wrappers that time each phase of a query, and the semihosting report.
//!
//! The variants (`src/bin/`) are measured by `report.py` into `FIRMWARE.md`.
#![no_std]
#![warn(missing_docs)]

/// The query and the stand-ins, shared with `build.rs`.
pub mod params;

/// The fixture prepared on the host by `build.rs`.
pub mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixture.rs"));
}

pub mod meter;
pub mod split;
pub mod stack;
pub mod timed;
#[cfg(feature = "tls")]
pub mod tls;
pub mod uart;
pub mod wire;

use core::panic::PanicInfo;

use cortex_m_rt::{ExceptionFrame, exception};
use cortex_m_semihosting::debug;

/// Prints one line over semihosting: text through `core::fmt`, or, with the `defmt` feature,
/// a defmt frame (`defmt-semihosting`) that `defmt-print -e <elf>` turns back into the same
/// line on the host. Format strings stay in the subset both accept (`{}` and `{:#x}`).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        #[cfg(not(feature = "defmt"))]
        $crate::__semihosting::hprintln!($($arg)*);
        #[cfg(feature = "defmt")]
        defmt::println!($($arg)*);
    }};
}

#[doc(hidden)]
pub use cortex_m_semihosting as __semihosting;
#[cfg(feature = "defmt")]
use defmt_semihosting as _;
use wxpay_core::AuthorizationRecord;
#[cfg(feature = "rsa")]
use wxpay_core::ClientError;
#[cfg(feature = "rsa")]
use wxpay_core::api::permissions::QueryByCode;

fn opt(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

/// Prints the record the way the example shows it.
#[inline(never)]
pub fn print_record(record: &AuthorizationRecord) {
    say!("record:");
    say!(
        "  service_id                 {}",
        record.service_id.as_str()
    );
    say!("  appid                      {}", record.appid.as_str());
    say!("  mchid                      {}", record.mchid.as_str());
    say!(
        "  openid                     {}",
        opt(record.openid.as_deref())
    );
    say!(
        "  authorization_code         {}",
        opt(record.authorization_code.as_deref())
    );
    say!(
        "  authorization_state        {}",
        opt(record.authorization_state.as_ref().map(|s| s.as_str()))
    );
    say!(
        "  notify_url                 {}",
        opt(record.notify_url.as_deref())
    );
    say!(
        "  authorization_success_time {}",
        opt(record
            .authorization_success_time
            .as_ref()
            .map(|t| t.as_str()))
    );
    if let Some(level) = record.user_risk_level {
        say!("  user_risk_level            {}", level);
    }
}

/// Prints that `what` failed and why, and returns `false` (for a check that goes on to the
/// report, which then fails).
#[inline(never)]
pub fn note(what: &str, why: &str) -> bool {
    say!("{} failed: {}", what, why);
    false
}

/// Ends the run with a failure status, naming what failed.
pub fn fail(what: &str) -> ! {
    say!("FAILED: {}", what);
    exit(false)
}

/// Ends the run: QEMU exits with 0 on success, 1 otherwise.
pub fn exit(success: bool) -> ! {
    debug::exit(if success {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

/// Prints where, not what: formatting panic messages would link `core::fmt`'s `Debug`
/// machinery (and Unicode tables) into every variant.
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    match info.location() {
        Some(at) => say!("PANIC at {}:{}", at.file(), at.line()),
        None => say!("PANIC"),
    }
    exit(false)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    say!("HARD FAULT at pc={:#x}", frame.pc());
    exit(false)
}

/// The response body buffer's size.
pub const BODY_LEN: usize = 2048;

/// The client's two buffers, in statics: the HTTP scratch (request head, then response head)
/// and the response body. Taken once per run; a second call ends the run with a failure.
pub fn client_buffers() -> (
    &'static mut [u8; wxpay_embedded_io::RECOMMENDED_SCRATCH_LEN],
    &'static mut [u8; BODY_LEN],
) {
    use wxpay_embedded_io::RECOMMENDED_SCRATCH_LEN;
    let Some(scratch) =
        cortex_m::singleton!(: [u8; RECOMMENDED_SCRATCH_LEN] = [0; RECOMMENDED_SCRATCH_LEN])
    else {
        fail("scratch buffer")
    };
    let Some(body) = cortex_m::singleton!(: [u8; BODY_LEN] = [0; BODY_LEN]) else {
        fail("body buffer")
    };
    (scratch, body)
}

use meter::{Event, Meter, Phase};

/// Boot: the instruction meter. Call right after [`stack::paint`].
pub fn boot() {
    match cortex_m::Peripherals::take() {
        Some(p) => meter::start(p.SYST),
        None => fail("peripherals taken twice"),
    }
}

/// Phases of the verify + parse variant.
pub const VERIFY_PARSE_PHASES: &[Phase] = &[
    Phase {
        name: "verify: headers, base64, hash",
        key: "verify",
        rsa: false,
        from: (Event::Start, 0),
        to: (Event::VerifyStart, 0),
    },
    Phase {
        name: "RSA verify",
        key: "rsa_verify",
        rsa: true,
        from: (Event::VerifyStart, 0),
        to: (Event::VerifyEnd, 0),
    },
    Phase {
        name: "parse",
        key: "parse",
        rsa: false,
        from: (Event::VerifyEnd, 0),
        to: (Event::End, 0),
    },
];

/// The phase of the parse-only variant.
pub const PARSE_PHASES: &[Phase] = &[Phase {
    name: "parse",
    key: "parse",
    rsa: false,
    from: (Event::Start, 0),
    to: (Event::End, 0),
}];

/// What one whole call cost: instructions and stack, outside and inside RSA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// All instructions of the call.
    pub total: u64,
    /// Instructions outside RSA private- and public-key operations.
    pub outside_rsa: u64,
    /// Deepest stack outside RSA operations.
    pub stack_outside_rsa: usize,
    /// Deepest stack inside RSA operations.
    pub stack_rsa: usize,
}

/// Sums `phases` of what `meter` recorded; `None` if a phase was not recorded.
pub fn summarize(meter: &Meter, phases: &[Phase]) -> Option<Summary> {
    let mut sum = Summary::default();
    for phase in phases {
        let work = meter.between(phase.from, phase.to)?;
        sum.total += work.instructions;
        if phase.rsa {
            sum.stack_rsa = sum.stack_rsa.max(work.stack);
        } else {
            sum.outside_rsa += work.instructions;
            sum.stack_outside_rsa = sum.stack_outside_rsa.max(work.stack);
        }
    }
    Some(sum)
}

/// A further call measured before the main one (variant 5's family calls, variant 6's
/// decryption alone), reported on its own line.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// Name as printed.
    pub name: &'static str,
    /// Key as parsed by the report script.
    pub key: &'static str,
    /// What it cost; `None` if it was not recorded.
    pub summary: Option<Summary>,
    /// Whether its result (and its request on the wire, if any) was the expected one.
    pub ok: bool,
}

/// Checks the record against the fixture, prints it, the phase counts, the stack high-water
/// mark, and exits: success only if the record is the expected one, the request on the wire
/// was the expected one (`request_matched`, where there is a wire) and every further call in
/// `calls` succeeded. (No variant links an allocator: any allocation fails to link.)
/// `record` is `None` for a run without one (the callback); `fixture_bytes` is the size of the
/// prepared data the run links (responses, expected requests), so that the report can tell it
/// from code.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn report(
    variant: &str,
    title: &str,
    meter: &Meter,
    phases: &[Phase],
    record: Option<&AuthorizationRecord>,
    request_matched: Option<bool>,
    calls: &[Call],
    fixture_bytes: usize,
) -> ! {
    // Measured before anything is printed, so printing does not count.
    let stack = stack::high_water();
    say!("wxpay firmware example: {} ({})", variant, title);
    let record_ok = match record {
        Some(record) => {
            print_record(record);
            record.service_id.as_str() == params::SERVICE_ID
                && record.authorization_code.as_deref() == Some(params::AUTHORIZATION_CODE)
        }
        None => true,
    };
    let mut ok = record_ok;
    let mut calls_stack = 0usize;
    if !calls.is_empty() {
        say!("calls:");
    }
    for call in calls {
        let Some(sum) = call.summary else {
            say!("  {} not recorded", call.name);
            ok = false;
            continue;
        };
        say!(
            "  {}: {} instructions, {} outside RSA, {} bytes of stack{}",
            call.name,
            sum.total,
            sum.outside_rsa,
            sum.stack_outside_rsa.max(sum.stack_rsa),
            if call.ok { "" } else { "  FAILED" }
        );
        say!(
            "REPORT call.{}.total={} call.{}.outside_rsa={} call.{}.stack={}",
            call.key,
            sum.total,
            call.key,
            sum.outside_rsa,
            call.key,
            sum.stack_outside_rsa.max(sum.stack_rsa)
        );
        ok &= call.ok;
        calls_stack = calls_stack.max(sum.stack_outside_rsa).max(sum.stack_rsa);
    }
    if let Some(matched) = request_matched {
        say!(
            "request on the wire: {}",
            if matched {
                "exactly as prepared on the host (signature included)"
            } else {
                "DIFFERENT from the host's"
            }
        );
        ok &= matched;
    }
    say!("phases:");
    let (mut total, mut outside_rsa) = (0u64, 0u64);
    let (mut stack_outside_rsa, mut stack_rsa) = (0usize, 0usize);
    for phase in phases {
        let Some(work) = meter.between(phase.from, phase.to) else {
            say!("  {} not recorded", phase.name);
            ok = false;
            continue;
        };
        say!(
            "  {}: {} instructions, {} bytes of stack",
            phase.name,
            work.instructions,
            work.stack
        );
        say!(
            "REPORT phase.{}={} stack.{}={}",
            phase.key,
            work.instructions,
            phase.key,
            work.stack
        );
        total += work.instructions;
        if phase.rsa {
            stack_rsa = stack_rsa.max(work.stack);
        } else {
            outside_rsa += work.instructions;
            stack_outside_rsa = stack_outside_rsa.max(work.stack);
        }
    }
    let stack = stack
        .max(stack_rsa)
        .max(stack_outside_rsa)
        .max(calls_stack)
        .max(meter.setup_stack());

    say!("  total: {} instructions", total);
    say!(
        "  outside RSA: {} instructions, {} bytes of stack",
        outside_rsa,
        stack_outside_rsa
    );
    say!(
        "stack high-water: {} bytes (setup {}, RSA {}, the rest {})",
        stack,
        meter.setup_stack(),
        stack_rsa,
        stack_outside_rsa
    );
    if stack >= stack::WINDOW {
        say!("FAILED: the stack filled the measured window");
        ok = false;
    }
    say!("REPORT total={}", total);
    say!("REPORT outside_rsa={}", outside_rsa);
    say!("REPORT stack={}", stack);
    say!("REPORT stack_outside_rsa={}", stack_outside_rsa);
    say!("REPORT stack_rsa={}", stack_rsa);
    say!("REPORT fixture={}", fixture_bytes);
    if !record_ok {
        say!("FAILED: not the expected record");
    }
    say!("{}", if ok { "OK" } else { "FAILED" });
    exit(ok)
}

/// The client the full variants run: every part wrapped so that its phases are recorded.
#[cfg(feature = "rsa")]
pub type DeviceClient<'m, 's, S> = wxpay_core::Client<
    timed::TimedTransport<'m, wxpay_embedded_io::HttpClient<'s, wire::Wire>>,
    timed::TimedSigner<'m, S>,
    timed::TimedVerifier<'m, &'static wxpay_core::crypto::rsa_fixed::FixedRsaVerifier>,
    timed::TimedClock<'m, params::FixedClock>,
    params::StandInRng,
>;

/// The keys as a device is provisioned with them: raw components, so no DER parser is
/// linked. Each key is loaded once into a static (`cortex_m::singleton!`), and the client
/// holds a reference: a key is 0.8 KiB (public) or 2 KiB (private), and a client that owned
/// it would copy it through every move of the client.
#[cfg(feature = "rsa")]
pub mod keys {
    use wxpay_core::crypto::rsa_fixed::{
        BlindedFixedRsaSigner, FixedRsaSigner, FixedRsaVerifier, KeyError, RsaComponents,
    };

    use crate::{fixture, params};

    fn exponent(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0, |e, b| (e << 8) | u64::from(*b))
    }

    /// The platform (WeChat Pay) public key. `None` if it does not load, or on a second call.
    #[inline(never)]
    pub fn platform() -> Option<&'static FixedRsaVerifier> {
        // The key is made inside the static's initialiser (a `Result`, so that no second
        // copy of it is made on the stack to unwrap it first).
        let key: &'static mut Result<FixedRsaVerifier, KeyError> = cortex_m::singleton!(
            : Result<FixedRsaVerifier, KeyError> =
                FixedRsaVerifier::from_modulus(fixture::PLATFORM_N, exponent(fixture::PLATFORM_E))
        )?;
        key.as_ref().ok()
    }

    /// The merchant's private key (CRT components), blinded with `random`. `None` if it does
    /// not load, or on a second call.
    #[inline(never)]
    pub fn merchant<R: wxpay_core::RandomSource>(
        random: R,
    ) -> Option<BlindedFixedRsaSigner<R, &'static FixedRsaSigner>> {
        let parts = RsaComponents {
            modulus: fixture::MERCHANT_N,
            public_exponent: fixture::MERCHANT_E,
            prime1: fixture::MERCHANT_P,
            prime2: fixture::MERCHANT_Q,
            exponent1: fixture::MERCHANT_DP,
            exponent2: fixture::MERCHANT_DQ,
            coefficient: fixture::MERCHANT_QINV,
        };
        // As the platform key: made inside the static's initialiser.
        let key: &'static mut Result<FixedRsaSigner, KeyError> = cortex_m::singleton!(
            : Result<FixedRsaSigner, KeyError> =
                FixedRsaSigner::from_components(&parts, params::MERCHANT_SERIAL)
        )?;
        Some(BlindedFixedRsaSigner::new(key.as_ref().ok()?, random))
    }
}

/// Names a failed client call by its error's kind (no `Debug` formatting, see [`panic`]).
pub fn client_error<E>(e: &wxpay_core::ClientError<E>) -> &'static str {
    match e {
        wxpay_core::ClientError::Request(_) => "request",
        wxpay_core::ClientError::Transport(_) => "transport",
        wxpay_core::ClientError::ResponseTooLarge { .. } => "response larger than the buffer",
        wxpay_core::ClientError::Api(_) => "API error",
        wxpay_core::ClientError::Verify { .. } => "verification",
        wxpay_core::ClientError::Parse { .. } => "parse",
        _ => "other",
    }
}

/// The full client over the embedded-io transport and the in-memory stream, with `signer`:
/// target, nonce, digest, signature, HTTP/1.1 write and read, verify, parse. Exits.
///
/// `before` runs first, on the same client, meter and body buffer, and returns further
/// measured calls for the report (variants 3 and 4: none); it must leave the stream set up
/// for the query by code. `fixture_bytes`: see [`report`].
///
/// The platform key is loaded first, outside the (large) frame that holds the client.
#[cfg(feature = "rsa")]
pub fn client_example<S: wxpay_core::Signer, const N: usize>(
    variant: &str,
    title: &str,
    signer: S,
    expected_request: &'static [u8],
    fixture_bytes: usize,
    before: impl FnOnce(&mut DeviceClient<'_, '_, S>, &Meter, &mut [u8]) -> [Call; N],
) -> ! {
    let Some(verifier) = keys::platform() else {
        fail("platform public key")
    };
    run_client(
        variant,
        title,
        signer,
        verifier,
        expected_request,
        fixture_bytes,
        before,
    )
}

#[cfg(feature = "rsa")]
#[inline(never)]
fn run_client<S: wxpay_core::Signer, const N: usize>(
    variant: &str,
    title: &str,
    signer: S,
    verifier: &'static wxpay_core::crypto::rsa_fixed::FixedRsaVerifier,
    expected_request: &'static [u8],
    fixture_bytes: usize,
    before: impl FnOnce(&mut DeviceClient<'_, '_, S>, &Meter, &mut [u8]) -> [Call; N],
) -> ! {
    use wxpay_core::Client;
    use wxpay_core::verify::PlatformKeys;
    use wxpay_embedded_io::HttpClient;

    use crate::timed::{TimedClock, TimedSigner, TimedTransport, TimedVerifier};

    let meter = Meter::new();
    let keys = PlatformKeys::<_, 2>::with_key(
        params::PUB_KEY_ID,
        TimedVerifier {
            inner: verifier,
            meter: &meter,
        },
    );
    let Ok(keys) = keys else {
        fail("platform key set")
    };
    let (scratch, body) = client_buffers();
    let http: HttpClient<'_, wire::Wire> = HttpClient::new(
        wire::Wire::new(fixture::RESPONSE, expected_request),
        params::HOST,
        scratch,
    );
    let client = Client::new(
        TimedTransport {
            inner: http,
            meter: &meter,
        },
        TimedSigner {
            inner: signer,
            meter: &meter,
        },
        keys,
        TimedClock {
            inner: params::FixedClock,
            meter: &meter,
        },
        params::StandInRng::new(params::NONCE_SEED),
        params::MCHID,
    )
    .and_then(|c| c.with_wechatpay_serial(params::PUB_KEY_ID));
    let Ok(mut client) = client else {
        fail("client setup")
    };

    let calls = before(&mut client, &meter, body);

    // The answer is parsed where it lives (`call_into`), never moved through `Result`s.
    let mut record = <AuthorizationRecord as wxpay_core::model::Value>::placeholder();
    meter.mark(Event::Start);
    let outcome = QueryByCode::new(
        core::hint::black_box(params::AUTHORIZATION_CODE),
        params::SERVICE_ID,
    )
    .map_err(ClientError::Request)
    .and_then(|query| client.call_into(&query, body, &mut record));
    meter.mark(Event::End);
    if let Err(e) = outcome {
        fail(client_error(&e))
    }
    let matched = client.transport_mut().inner.stream_mut().request_matched();
    report(
        variant,
        title,
        &meter,
        meter::CLIENT_PHASES,
        Some(&record),
        Some(matched),
        &calls,
        fixture_bytes,
    )
}
