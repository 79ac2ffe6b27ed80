//! Variant 5: variant 4 (secure-element signer stub, RSA verify) plus one call of each of the
//! rest of the permissions family, each against its own signed response: pre-authorise
//! (token), query by openid (record), terminate by code and by openid (204). Then the query
//! by code, measured phase by phase like variant 4. Every result and every request on the wire
//! is checked.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use wxpay_core::ClientError;
use wxpay_core::api::permissions::{
    ApplyPermissionsToken, AuthorizationRecord, PreAuthorization, QueryByOpenid, TerminateByCode,
    TerminateByOpenid,
};
use wxpay_core::model::Value;
use wxpay_firmware::meter::{CLIENT_PHASES, Event, Meter};
use wxpay_firmware::params::{
    APPID, APPLY_PERMISSIONS_TOKEN, AUTHORIZATION_CODE, NEW_AUTHORIZATION_CODE, NOTIFY_URL, OPENID,
    SERVICE_ID, SecureElementStub, TERMINATE_REASON,
};
use wxpay_firmware::wire::Wire;
use wxpay_firmware::{
    Call, DeviceClient, boot, client_error, client_example, fixture, stack, summarize,
};

type Client<'m, 's> = DeviceClient<'m, 's, SecureElementStub>;

/// Runs one call over a fresh stream answering `reply` and expecting `request`, on a cleared
/// meter, and returns what it cost; `ok` also requires the exact request on the wire.
fn measure<'m, 's>(
    client: &mut Client<'m, 's>,
    meter: &Meter,
    name: &'static str,
    key: &'static str,
    reply: &'static [u8],
    request: &'static [u8],
    call: impl FnOnce(&mut Client<'m, 's>) -> bool,
) -> Call {
    let _ = client
        .transport_mut()
        .inner
        .reconnect(Wire::new(reply, request));
    meter.clear();
    meter.mark(Event::Start);
    let ok = call(client);
    meter.mark(Event::End);
    let matched = client.transport_mut().inner.stream_mut().request_matched();
    Call {
        name,
        key,
        summary: summarize(meter, CLIENT_PHASES),
        ok: ok && matched,
    }
}

fn family(client: &mut Client<'_, '_>, meter: &Meter, body: &mut [u8]) -> [Call; 4] {
    let calls = [
        measure(
            client,
            meter,
            "pre-authorise -> token",
            "pre_authorize",
            fixture::FAMILY_RESPONSE_PRE_AUTHORIZE,
            fixture::FAMILY_REQUEST_PRE_AUTHORIZE,
            |c| {
                let request = PreAuthorization::new(
                    SERVICE_ID,
                    APPID,
                    black_box(NEW_AUTHORIZATION_CODE),
                    Some(NOTIFY_URL),
                );
                // Answers are parsed where they live (`call_into`), as the query by code's.
                let mut token = ApplyPermissionsToken::placeholder();
                match request
                    .map_err(ClientError::Request)
                    .and_then(|r| c.call_into(&r, body, &mut token))
                {
                    Ok(()) => token.as_str() == APPLY_PERMISSIONS_TOKEN,
                    Err(e) => wxpay_firmware::note("pre-authorise", client_error(&e)),
                }
            },
        ),
        measure(
            client,
            meter,
            "query by openid",
            "by_openid",
            fixture::FAMILY_RESPONSE_BY_OPENID,
            fixture::FAMILY_REQUEST_BY_OPENID,
            |c| {
                let mut record = AuthorizationRecord::placeholder();
                match QueryByOpenid::new(black_box(OPENID), APPID, SERVICE_ID)
                    .map_err(ClientError::Request)
                    .and_then(|q| c.call_into(&q, body, &mut record))
                {
                    Ok(()) => {
                        record.openid.as_deref() == Some(OPENID)
                            && record.authorization_code.as_deref() == Some(AUTHORIZATION_CODE)
                    }
                    Err(e) => wxpay_firmware::note("query by openid", client_error(&e)),
                }
            },
        ),
        measure(
            client,
            meter,
            "terminate by code (204)",
            "terminate_by_code",
            fixture::FAMILY_RESPONSE_TERMINATE_BY_CODE,
            fixture::FAMILY_REQUEST_TERMINATE_BY_CODE,
            |c| {
                let request = TerminateByCode::new(
                    black_box(AUTHORIZATION_CODE),
                    SERVICE_ID,
                    black_box(TERMINATE_REASON),
                );
                match request
                    .map_err(ClientError::Request)
                    .and_then(|r| c.call(&r, body))
                {
                    Ok(_) => true,
                    Err(e) => wxpay_firmware::note("terminate by code", client_error(&e)),
                }
            },
        ),
        measure(
            client,
            meter,
            "terminate by openid (204)",
            "terminate_by_openid",
            fixture::FAMILY_RESPONSE_TERMINATE_BY_OPENID,
            fixture::FAMILY_REQUEST_TERMINATE_BY_OPENID,
            |c| {
                let request = TerminateByOpenid::new(
                    black_box(OPENID),
                    APPID,
                    SERVICE_ID,
                    black_box(TERMINATE_REASON),
                );
                match request
                    .map_err(ClientError::Request)
                    .and_then(|r| c.call(&r, body))
                {
                    Ok(_) => true,
                    Err(e) => wxpay_firmware::note("terminate by openid", client_error(&e)),
                }
            },
        ),
    ];
    // The query by code comes last, on its own stream, measured like variant 4's.
    let _ = client.transport_mut().inner.reconnect(Wire::new(
        fixture::RESPONSE,
        fixture::FAMILY_REQUEST_BY_CODE,
    ));
    meter.clear();
    calls
}

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    let fixture_bytes = [
        fixture::RESPONSE,
        fixture::FAMILY_REQUEST_BY_CODE,
        fixture::FAMILY_RESPONSE_PRE_AUTHORIZE,
        fixture::FAMILY_REQUEST_PRE_AUTHORIZE,
        fixture::FAMILY_RESPONSE_BY_OPENID,
        fixture::FAMILY_REQUEST_BY_OPENID,
        fixture::FAMILY_RESPONSE_TERMINATE_BY_CODE,
        fixture::FAMILY_REQUEST_TERMINATE_BY_CODE,
        fixture::FAMILY_RESPONSE_TERMINATE_BY_OPENID,
        fixture::FAMILY_REQUEST_TERMINATE_BY_OPENID,
    ]
    .iter()
    .map(|f| f.len())
    .sum::<usize>()
        + APPLY_PERMISSIONS_TOKEN.len();
    client_example(
        "full_se_family",
        "variant 4 + pre-authorise, query by openid, terminate by code and by openid",
        SecureElementStub,
        fixture::FAMILY_REQUEST_BY_CODE,
        fixture_bytes,
        family,
    )
}
