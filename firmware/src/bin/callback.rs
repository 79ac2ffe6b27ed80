//! Variant 6: one callback notification (`PAYSCORE.USER_CLOSE_SERVICE`) as WeChat Pay POSTs
//! it: verify the `Wechatpay-*` headers over the raw body (RSA-2048), parse the envelope,
//! decode and decrypt `resource` (AES-256-GCM with the APIv3 key), parse the event. No HTTP,
//! no signing. The AES-256-GCM decryption is also measured alone, on a copy of the sealed
//! resource. Every field of the event is checked.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use wxpay_core::ResponseHeaders;
use wxpay_core::callback::{self, ApiV3Key, Event as Callback};
use wxpay_core::verify::PlatformKeys;
use wxpay_firmware::meter::{Event, Meter, Phase};
use wxpay_firmware::params::{
    APIV3_KEY, APPID, AUTHORIZATION_CODE, CALLBACK_AEAD_NONCE, CALLBACK_ASSOCIATED_DATA,
    CALLBACK_ID, CALLBACK_NONCE, CALLBACK_PAYLOAD, MCHID, NOW, OPENID, PUB_KEY_ID, SERVICE_ID,
};
use wxpay_firmware::timed::TimedVerifier;
use wxpay_firmware::{Call, Summary, boot, fail, fixture, report, stack};

/// Phases of the callback.
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
        name: "envelope, AES-256-GCM, event",
        key: "decrypt",
        rsa: false,
        from: (Event::VerifyEnd, 0),
        to: (Event::End, 0),
    },
];

/// Room for the base64 ciphertext, decrypted in place.
const WORK_LEN: usize = 1024;

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    let meter = Meter::new();
    let Some(verifier) = wxpay_firmware::keys::platform() else {
        fail("platform public key")
    };
    let inner = TimedVerifier {
        inner: verifier,
        meter: &meter,
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
    let body = black_box(fixture::CALLBACK_BODY);
    let timestamp = NOW_TEXT;

    // AES-256-GCM alone, on a copy of the sealed resource (already decoded).
    let sealed = black_box(fixture::CALLBACK_SEALED);
    let Some(copy) = work.get_mut(..sealed.len()) else {
        fail("sealed resource does not fit")
    };
    copy.copy_from_slice(sealed);
    meter.mark(Event::Start);
    let plain = callback::decrypt_in_place(
        &key,
        CALLBACK_AEAD_NONCE.as_bytes(),
        CALLBACK_ASSOCIATED_DATA.as_bytes(),
        copy,
    )
    .map(|p| &*p == CALLBACK_PAYLOAD.as_bytes());
    meter.mark(Event::End);
    let aes_alone = Call {
        name: "of which AES-256-GCM alone",
        key: "aes_gcm",
        summary: meter
            .between((Event::Start, 0), (Event::End, 0))
            .map(|w| Summary {
                total: w.instructions,
                outside_rsa: w.instructions,
                stack_outside_rsa: w.stack,
                stack_rsa: 0,
            }),
        ok: plain == Ok(true),
    };
    work.fill(0);
    meter.clear();

    meter.mark(Event::Start);
    let mut headers = ResponseHeaders::default();
    for (name, value) in [
        ("Wechatpay-Timestamp", timestamp),
        ("Wechatpay-Nonce", CALLBACK_NONCE),
        ("Wechatpay-Signature", fixture::CALLBACK_SIGNATURE),
        ("Wechatpay-Serial", PUB_KEY_ID),
        ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
    ] {
        headers.capture(name, black_box(value.as_bytes()));
    }
    let notification = callback::verify_and_decrypt(&keys, &headers, body, NOW, &key, work);
    meter.mark(Event::End);

    let Ok(notification) = notification else {
        fail("callback did not verify, decrypt or parse")
    };
    let Callback::UserCloseService(event) = &notification.event else {
        fail("not a USER_CLOSE_SERVICE event")
    };
    let event_ok = notification.id.as_str() == CALLBACK_ID
        && notification.event_type.as_str() == callback::USER_CLOSE_SERVICE
        && notification.original_type.as_deref() == Some("payscore")
        && event.appid.as_deref() == Some(APPID)
        && event.mchid.as_deref() == Some(MCHID)
        && event.service_id.as_deref() == Some(SERVICE_ID)
        && event.openid.as_deref() == Some(OPENID)
        && event.user_service_status.as_deref() == Some("USER_CLOSE_SERVICE")
        && event.authorization_code.as_deref() == Some(AUTHORIZATION_CODE)
        && event.openorclose_datetime().map(|t| t.unix_seconds()) == Some(NOW);
    if !event_ok {
        fail("not the expected event");
    }
    let fixture_bytes = fixture::CALLBACK_BODY.len()
        + fixture::CALLBACK_SIGNATURE.len()
        + fixture::CALLBACK_SEALED.len()
        + CALLBACK_PAYLOAD.len();
    report(
        "callback",
        "callback: verify, decrypt, parse",
        &meter,
        CALLBACK_PHASES,
        None,
        None,
        &[aes_alone],
        fixture_bytes,
    )
}

/// `Wechatpay-Timestamp` of the callback: the device clock's time.
const NOW_TEXT: &str = fixture::TIMESTAMP;
