//! Variant 8: a rental's money flow on the device. First the `PAYSCORE.USER_PAID` callback
//! (verify the headers over the raw body, decrypt `resource`, parse the DONE order with
//! `order_into` a `ServiceOrder<4, 2>`), measured whole; then the service-order `complete` call with the
//! real fees (`CompleteOrder<4, 2>`: two fee items, one discount) through the full client with
//! the secure-element signer stub, answered by a signed DOING / MCH_COMPLETE order, measured
//! phase by phase like variant 4's query. Every field that matters is checked, and the request
//! on the wire must be byte for byte the host's.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::mem::size_of;

use cortex_m_rt::entry;
use wxpay_core::api::serviceorder::{CollectionState, OrderState, PaidType, StateDescription};
use wxpay_core::callback::{self, ApiV3Key, Event as Callback, OrderEvent};
use wxpay_core::crypto::rsa_fixed::FixedRsaVerifier;
use wxpay_core::model::Value;
use wxpay_core::verify::PlatformKeys;
use wxpay_core::{Client, ClientError, ResponseHeaders};
use wxpay_embedded_io::HttpClient;
use wxpay_firmware::meter::{CLIENT_PHASES, Event, Meter, Phase};
use wxpay_firmware::params::{
    self, APIV3_KEY, APPID, DeviceComplete, DeviceOrder, MCHID, NOW, OPENID, ORDER_DISCOUNT,
    ORDER_END_TIME, ORDER_FEES, ORDER_ID, ORDER_TOTAL, ORDER_TRANSACTION_ID, OUT_ORDER_NO,
    PAID_CALLBACK_ID, PAID_CALLBACK_NONCE, PUB_KEY_ID, SERVICE_ID, SecureElementStub,
};
use wxpay_firmware::say;
use wxpay_firmware::timed::{TimedClock, TimedSigner, TimedTransport, TimedVerifier};
use wxpay_firmware::{
    Call, boot, client_buffers, client_error, fail, fixture, report, stack, summarize, wire,
};

/// Phases of the callback (as variant 6's, with the order parsed at the end).
const CALLBACK_PHASES: &[Phase] = &[
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
        name: "envelope, AES-256-GCM, order",
        key: "decrypt",
        rsa: false,
        from: (Event::VerifyEnd, 0),
        to: (Event::End, 0),
    },
];

/// Room for the callback's base64 ciphertext, decrypted in place.
const WORK_LEN: usize = 2048;

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    // The sizes first, then a fresh paint, so printing does not count as stack.
    say!(
        "REPORT size.service_order={} size.complete_order={}",
        size_of::<DeviceOrder>(),
        size_of::<DeviceComplete>()
    );
    stack::paint();
    let Some(verifier) = wxpay_firmware::keys::platform() else {
        fail("platform public key")
    };
    let Some(order) = order_storage() else {
        fail("order storage")
    };
    let meter = Meter::new();
    let paid = user_paid(verifier, &meter, order);
    meter.clear();
    complete(verifier, &meter, paid, order)
}

/// The one service order the device keeps, in a static (4.6 KiB): the callback and the
/// complete call both parse into it where it lies, so it is never on the stack under the
/// RSA verification. `None` on a second call.
#[inline(never)]
fn order_storage() -> Option<&'static mut DeviceOrder> {
    cortex_m::singleton!(: DeviceOrder = <DeviceOrder as Value>::placeholder())
}

/// The fee items, the discount and the identifiers of `order` are the ones completed.
fn same_order(order: &DeviceOrder) -> bool {
    let fees = order.post_payments.len() == ORDER_FEES.len()
        && order
            .post_payments
            .iter()
            .zip(ORDER_FEES)
            .all(|(p, (name, amount, _))| p.name.as_str() == name && p.amount == amount);
    let discount = matches!(
        order.post_discounts.as_slice(),
        [d] if d.name.as_str() == ORDER_DISCOUNT.0 && d.amount == ORDER_DISCOUNT.1
    );
    fees && discount
        && order.appid.as_str() == APPID
        && order.mchid.as_str() == MCHID
        && order.service_id.as_str() == SERVICE_ID
        && order.out_order_no.as_str() == OUT_ORDER_NO
        && order.order_id.as_deref() == Some(ORDER_ID)
        && order.openid.as_deref() == Some(OPENID)
        && order.total_amount == Some(ORDER_TOTAL)
}

/// The USER_PAID callback, measured whole: verify, decrypt, parse the order.
#[inline(never)]
fn user_paid(verifier: &'static FixedRsaVerifier, meter: &Meter, order: &mut DeviceOrder) -> Call {
    let inner = TimedVerifier {
        inner: verifier,
        meter,
    };
    let Ok(keys) = PlatformKeys::<_, 2>::with_key(PUB_KEY_ID, inner) else {
        fail("platform key set")
    };
    let Ok(key) = ApiV3Key::from_text(black_box(APIV3_KEY)) else {
        fail("APIv3 key")
    };
    let Some(work) = cortex_m::singleton!(: [u8; WORK_LEN] = [0; WORK_LEN]) else {
        fail("work buffer")
    };
    let body = black_box(fixture::PAID_CALLBACK_BODY);

    meter.mark(Event::Start);
    let mut headers = ResponseHeaders::default();
    for (name, value) in [
        ("Wechatpay-Timestamp", fixture::TIMESTAMP),
        ("Wechatpay-Nonce", PAID_CALLBACK_NONCE),
        ("Wechatpay-Signature", fixture::PAID_CALLBACK_SIGNATURE),
        ("Wechatpay-Serial", PUB_KEY_ID),
        ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
    ] {
        headers.capture(name, black_box(value.as_bytes()));
    }
    let notification = callback::verify_and_decrypt(&keys, &headers, body, NOW, &key, work);
    let ok = match &notification {
        Ok(n) => match &n.event {
            Callback::UserPaid(event) => {
                n.id.as_str() == PAID_CALLBACK_ID
                    && n.event_type.as_str() == callback::USER_PAID
                    && paid_order(event, order)
            }
            _ => wxpay_firmware::note("USER_PAID", "not a USER_PAID event"),
        },
        Err(_) => wxpay_firmware::note("USER_PAID", "did not verify or decrypt"),
    };
    meter.mark(Event::End);
    Call {
        name: "USER_PAID: verify, decrypt, order",
        key: "user_paid",
        summary: summarize(meter, CALLBACK_PHASES),
        ok,
    }
}

/// Parses the callback's order with the device's capacities into `order` and checks it: DONE,
/// collected in one instalment, the order completed.
#[inline(never)]
fn paid_order(event: &OrderEvent<'_>, order: &mut DeviceOrder) -> bool {
    // Parsed where it lies (`order_into`): never built elsewhere and moved through a `Result`.
    if event.order_into(order).is_err() {
        return wxpay_firmware::note("USER_PAID", "order did not parse");
    }
    let collected = order.collection.as_ref().is_some_and(|c| {
        c.state == CollectionState::UserPaid
            && c.paid_amount == Some(ORDER_TOTAL)
            && c.paying_amount == Some(0)
            && matches!(
                c.details.as_slice(),
                [d] if d.amount == ORDER_TOTAL
                    && d.paid_type == Some(PaidType::Newton)
                    && d.paid_time.as_deref() == Some(ORDER_END_TIME)
                    && d.transaction_id.as_deref() == Some(ORDER_TRANSACTION_ID)
            )
    });
    order.state == OrderState::Done
        && order.state_description.is_none()
        && collected
        && same_order(order)
}

/// The answer to complete: DOING / MCH_COMPLETE, being collected, the order completed.
#[inline(never)]
fn completed(order: &DeviceOrder) -> bool {
    order.state == OrderState::Doing
        && order.state_description == Some(StateDescription::MchComplete)
        && order.collection.as_ref().is_some_and(|c| {
            c.state == CollectionState::UserPaying
                && c.paying_amount == Some(ORDER_TOTAL)
                && c.details.is_empty()
        })
        && same_order(order)
}

/// The complete call through the full client, measured phase by phase. Exits.
#[inline(never)]
fn complete(
    verifier: &'static FixedRsaVerifier,
    meter: &Meter,
    paid: Call,
    order: &mut DeviceOrder,
) -> ! {
    let keys = PlatformKeys::<_, 2>::with_key(
        PUB_KEY_ID,
        TimedVerifier {
            inner: verifier,
            meter,
        },
    );
    let Ok(keys) = keys else {
        fail("platform key set")
    };
    let (scratch, body) = client_buffers();
    let http: HttpClient<'_, wire::Wire> = HttpClient::new(
        wire::Wire::new(fixture::COMPLETE_RESPONSE, fixture::COMPLETE_REQUEST),
        params::HOST,
        scratch,
    );
    let client = Client::new(
        TimedTransport { inner: http, meter },
        TimedSigner {
            inner: SecureElementStub,
            meter,
        },
        keys,
        TimedClock {
            inner: params::FixedClock,
            meter,
        },
        params::StandInRng::new(params::NONCE_SEED),
        MCHID,
    )
    .and_then(|c| c.with_wechatpay_serial(PUB_KEY_ID));
    let Ok(mut client) = client else {
        fail("client setup")
    };

    // The answer is parsed where it lives (`call_into`), never moved through `Result`s.
    meter.mark(Event::Start);
    // The request is used where it was built, by reference (1.9 KiB: not moved into a closure).
    let request = params::complete_order(black_box(OUT_ORDER_NO));
    let answer = match &request {
        Ok(call) => client.call_into(call, body, order),
        Err(e) => Err(ClientError::Request(*e)),
    };
    meter.mark(Event::End);
    let order_ok = match &answer {
        Ok(()) => completed(order),
        Err(e) => fail(client_error(e)),
    };
    if !order_ok {
        fail("not the expected order after complete");
    }
    let matched = client.transport_mut().inner.stream_mut().request_matched();
    let fixture_bytes = [
        fixture::COMPLETE_RESPONSE,
        fixture::COMPLETE_REQUEST,
        fixture::PAID_CALLBACK_BODY,
    ]
    .iter()
    .map(|f| f.len())
    .sum::<usize>()
        + fixture::PAID_CALLBACK_SIGNATURE.len();
    report(
        "serviceorder",
        "complete (CompleteOrder<4, 2>) + USER_PAID callback, secure-element signer stub",
        meter,
        CLIENT_PHASES,
        None,
        Some(matched),
        &[paid],
        fixture_bytes,
    )
}
