//! Payscore service orders against the emulator on 127.0.0.1, through the library: a whole
//! rental with its callbacks, the cancel and sync paths, re-sent callbacks, every call in every
//! state it is not allowed in, and an answer replayed for another order.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use wxpay_core::api::serviceorder::{
    CancelOrder, CollectionState, CompleteBody, CompleteOrder, CreateOrder, ModifyBody,
    ModifyOrder, OrderState, PaidType, PayOrder, PostDiscount, PostPayment, QueryOrder, RiskFund,
    RiskFundName, ServiceOrder, StateDescription, SyncOrder, TimeRange,
};
use wxpay_core::callback::{self, ApiV3Key, Event, Notification, RecentIds, Seen};
use wxpay_core::crypto::rsa::RsaVerifier;
use wxpay_core::heapless;
use wxpay_core::{ClientError, PlatformKeys, ResponseHeaders, VerifyError};
use wxpay_emulator::{CallbackMessage, demo, system_now};
use wxpay_tests::{DemoClient, Sandbox};
use wxpay_ureq::Timeouts;

const APPID: &str = demo::APPID;
const SERVICE_ID: &str = demo::SERVICE_ID;
/// Room for any order answer (the default capacities hold 100 fee items).
const WORK: usize = 64 * 1024;

fn s<const N: usize>(text: &str) -> heapless::String<N> {
    heapless::String::try_from(text).expect("fits")
}

fn payment(name: &str, amount: i64) -> PostPayment {
    PostPayment {
        name: s(name),
        amount,
        description: None,
        count: None,
    }
}

fn discount(name: &str, amount: i64) -> PostDiscount {
    PostDiscount {
        name: s(name),
        description: None,
        amount,
        count: None,
    }
}

/// A need-confirm power-bank rental with a 99 yuan deposit waived.
fn create(no: &str, notify_url: &str) -> CreateOrder {
    CreateOrder {
        out_order_no: s(no),
        appid: s(APPID),
        service_id: s(SERVICE_ID),
        service_introduction: s("充电宝租借"),
        post_payments: heapless::Vec::from_slice(&[PostPayment {
            description: Some(s("每小时 1.5 元")),
            ..payment("租借费", 150)
        }])
        .expect("fits"),
        post_discounts: heapless::Vec::new(),
        time_range: TimeRange {
            start_time: s("OnAccept"),
            start_time_remark: None,
            end_time: None,
            end_time_remark: None,
        },
        location: None,
        risk_fund: RiskFund {
            name: RiskFundName::Deposit,
            amount: 9900,
            description: Some(s("充电宝押金")),
        },
        attach: Some(s("kiosk=7")),
        notify_url: s(notify_url),
        openid: None,
        need_user_confirm: Some(true),
        device: None,
    }
}

fn complete(no: &str, payments: &[PostPayment], discounts: &[PostDiscount]) -> CompleteOrder {
    let total = payments.iter().map(|p| p.amount).sum::<i64>()
        - discounts.iter().map(|d| d.amount).sum::<i64>();
    CompleteOrder {
        out_order_no: s(no),
        body: CompleteBody {
            appid: s(APPID),
            service_id: s(SERVICE_ID),
            post_payments: heapless::Vec::from_slice(payments).expect("fits"),
            post_discounts: heapless::Vec::from_slice(discounts).expect("fits"),
            total_amount: total,
            time_range: None,
            location: None,
            profit_sharing: Some(false),
            goods_tag: None,
        },
    }
}

/// The real fees of a two-hour rental: 300 + 100 overtime − 100 first-ride discount = 300.
fn fees(no: &str) -> CompleteOrder {
    complete(
        no,
        &[payment("租借费", 300), payment("超时费", 100)],
        &[discount("新人优惠", 100)],
    )
}

fn modify(no: &str, amount: i64) -> ModifyOrder {
    ModifyOrder {
        out_order_no: s(no),
        body: ModifyBody {
            appid: s(APPID),
            service_id: s(SERVICE_ID),
            post_payments: heapless::Vec::from_slice(&[payment("租借费", amount)]).expect("fits"),
            post_discounts: heapless::Vec::new(),
            total_amount: amount,
            reason: s("归还时间以柜机记录为准"),
        },
    }
}

fn query(no: &str) -> QueryOrder {
    QueryOrder::new(Some(no), None, SERVICE_ID, APPID).expect("fits")
}

fn platform_keys() -> PlatformKeys<RsaVerifier> {
    PlatformKeys::with_key(
        demo::PLATFORM_KEY_ID,
        RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("key"),
    )
    .expect("fits")
}

fn apiv3() -> ApiV3Key {
    ApiV3Key::from_text(demo::APIV3_KEY).expect("32 bytes")
}

/// A callback as a merchant's notify endpoint receives it: headers and raw body.
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn of(message: &CallbackMessage) -> Received {
        Received {
            headers: message.headers.clone(),
            body: message.body.clone(),
        }
    }

    /// Verified and decrypted, as the notify handler does it.
    fn open<'w>(&self, work: &'w mut Vec<u8>) -> Notification<'w> {
        let mut headers = ResponseHeaders::default();
        for (name, value) in &self.headers {
            headers.capture(name, value.as_bytes());
        }
        work.resize(self.body.len(), 0);
        callback::verify_and_decrypt(
            &platform_keys(),
            &headers,
            &self.body,
            system_now(),
            &apiv3(),
            work,
        )
        .expect("the callback verifies and decrypts")
    }
}

/// A merchant notify endpoint on 127.0.0.1: each POST is answered 204 and handed over.
struct NotifyEndpoint {
    url: String,
    received: mpsc::Receiver<Received>,
}

impl NotifyEndpoint {
    fn start() -> NotifyEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listens");
        let url = format!(
            "http://{}/payscore/notify",
            listener.local_addr().expect("addr")
        );
        let (tx, received) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let Some(received) = read_post(stream) else {
                    return;
                };
                if tx.send(received).is_err() {
                    return;
                }
            }
        });
        NotifyEndpoint { url, received }
    }

    /// The next callback POSTed here (the wait only guards against a hang).
    fn next(&self) -> Received {
        self.received
            .recv_timeout(Duration::from_secs(60))
            .expect("a callback arrives at notify_url")
    }
}

fn read_post(stream: TcpStream) -> Option<Received> {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    assert!(
        request_line.starts_with("POST /payscore/notify "),
        "{request_line}"
    );
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))?
        .1
        .parse()
        .ok()?;
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    let mut stream = stream;
    stream
        .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        .ok()?;
    Some(Received { headers, body })
}

/// `POST /emulator/<hook>` with a JSON body, over the loopback socket: status and body.
fn hook(sandbox: &Sandbox, name: &str, json: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(sandbox.server.addr()).expect("connects");
    let request = format!(
        "POST /emulator/{name} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        sandbox.server.addr(),
        json.len()
    );
    stream.write_all(request.as_bytes()).expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    let status = answer
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn json_field(body: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).expect("hook answers JSON");
    value[name].as_str().expect("field present").to_owned()
}

fn is_confirmed(order: &ServiceOrder) -> bool {
    order.state == OrderState::Doing
        && order.state_description == Some(StateDescription::UserConfirm)
}

#[test]
fn a_whole_rental_with_callbacks() {
    let sandbox = Sandbox::start();
    let notify = NotifyEndpoint::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut work = vec![0u8; WORK];
    let no = "RENT-LIB-0001";
    let mut recent: RecentIds<16> = RecentIds::new();

    // The kiosk creates the order; the package opens the user's confirmation page.
    let created = client
        .call(&create(no, &notify.url), &mut work)
        .expect("created");
    assert_eq!(created.state, OrderState::Created);
    assert_eq!(created.out_order_no, no);
    assert!(created.package.is_some() && created.order_id.is_some());
    let again = client
        .call(&create(no, &notify.url), &mut work)
        .expect("an identical create answers the same order");
    assert_eq!(again.order_id, created.order_id);

    // The user confirms on the phone: USER_CONFIRM reaches notify_url.
    let (status, body) = hook(
        &sandbox,
        "confirm",
        &format!(r#"{{"out_order_no":"{no}","openid":"{}"}}"#, demo::OPENID),
    );
    assert_eq!(status, 200, "{body}");
    let query_id = json_field(&body, "query_id");
    let confirmed = notify.next();
    let mut callback_work = Vec::new();
    let n = confirmed.open(&mut callback_work);
    assert_eq!(n.event_type, callback::USER_CONFIRM);
    assert_eq!(n.original_type.as_deref(), Some("payscore"));
    assert_eq!(recent.check(&n.id), Seen::New);
    recent.mark_handled(&n.id);
    let Event::UserConfirm(event) = &n.event else {
        panic!("not a USER_CONFIRM event: {:?}", n.event)
    };
    let order = &event.order().expect("the order parses");
    assert!(is_confirmed(order), "{order:?}");
    assert_eq!(order.out_order_no, no);
    assert_eq!(order.openid.as_deref(), Some(demo::OPENID));
    assert_eq!(order.attach.as_deref(), Some("kiosk=7"));
    let start = order.time_range.as_ref().map(|r| r.start_time.as_str());
    assert!(
        start.is_some_and(|t| t.len() == 14 && t != "OnAccept"),
        "OnAccept becomes the confirmation time: {start:?}"
    );

    // The mini-program's query_id is no proof: the kiosk queries.
    let by_query_id = client
        .call(
            &QueryOrder::new(None, Some(&query_id), SERVICE_ID, APPID).expect("fits"),
            &mut work,
        )
        .expect("query by query_id");
    assert!(is_confirmed(&by_query_id));
    assert_eq!(by_query_id.out_order_no, no);

    // The item comes back: complete with the real fees.
    let completed = client.call(&fees(no), &mut work).expect("completed");
    assert_eq!(completed.state, OrderState::Doing);
    assert_eq!(
        completed.state_description,
        Some(StateDescription::MchComplete)
    );
    assert_eq!(completed.total_amount, Some(300));
    assert_eq!(completed.post_payments.len(), 2);
    let collection = completed.collection.as_ref().expect("collection");
    assert_eq!(collection.state, CollectionState::UserPaying);
    assert_eq!(collection.paying_amount, Some(300));

    // WeChat collects: USER_PAID reaches notify_url.
    let (status, body) = hook(
        &sandbox,
        "collect",
        &format!(r#"{{"out_order_no":"{no}"}}"#),
    );
    assert_eq!(status, 204, "{body}");
    let paid = notify.next();
    let n = paid.open(&mut callback_work);
    assert_eq!(n.event_type, callback::USER_PAID);
    assert_eq!(recent.first_time(&n.id), Seen::New);
    let Event::UserPaid(event) = &n.event else {
        panic!("not a USER_PAID event: {:?}", n.event)
    };
    let order = &event.order().expect("the order parses");
    assert_eq!(order.state, OrderState::Done);
    let collection = order.collection.as_ref().expect("collection");
    assert_eq!(collection.state, CollectionState::UserPaid);
    assert_eq!(collection.paid_amount, Some(300));
    let detail = collection.details.first().expect("one instalment");
    assert_eq!(detail.paid_type, Some(PaidType::Newton));
    assert_eq!(detail.amount, 300);
    assert!(
        detail
            .transaction_id
            .as_ref()
            .is_some_and(|t| t.len() == 28)
    );

    let done = client.call(&query(no), &mut work).expect("query");
    assert_eq!(done.state, OrderState::Done);
    assert_eq!(
        done.collection.map(|c| c.state),
        Some(CollectionState::UserPaid)
    );

    // What arrived is what the emulator kept.
    let kept = sandbox.emulator.callbacks();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].body, confirmed.body);
    assert_eq!(kept[1].body, paid.body);
}

#[test]
fn a_resent_callback_is_reported_as_a_duplicate() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut work = vec![0u8; WORK];
    let no = "RENT-DUP-0001";
    client
        .call(&create(no, "https://kiosk.example.com/notify"), &mut work)
        .expect("created");
    sandbox
        .emulator
        .confirm_order(no, demo::OPENID, system_now())
        .expect("confirms");
    let message = sandbox.emulator.callbacks().pop().expect("a callback");

    let mut recent: RecentIds<8> = RecentIds::new();
    let mut handled = 0;
    // WeChat re-sends an unacknowledged callback with the same id.
    for attempt in 0..3 {
        let mut callback_work = Vec::new();
        let n = Received::of(&message).open(&mut callback_work);
        assert!(matches!(n.event, Event::UserConfirm(_)));
        let want = if attempt == 0 {
            Seen::New
        } else {
            Seen::Duplicate
        };
        let seen = recent.check(&n.id);
        assert_eq!(seen, want, "attempt {attempt}");
        if seen == Seen::New {
            handled += 1;
            recent.mark_handled(&n.id);
        }
    }
    assert_eq!(handled, 1);
}

#[test]
fn the_cancel_path() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut work = vec![0u8; WORK];
    let notify = "https://kiosk.example.com/notify";

    // The user never confirms: the kiosk cancels the CREATED order.
    let no = "RENT-CANCEL-01";
    client
        .call(&create(no, notify), &mut work)
        .expect("created");
    let ack = client
        .call(
            &CancelOrder::new(no, SERVICE_ID, APPID, "用户未确认").expect("fits"),
            &mut work,
        )
        .expect("cancelled");
    assert_eq!(ack.out_order_no, no);
    assert_eq!(ack.mchid, demo::MCHID);
    assert!(ack.order_id.is_some());
    let order = client.call(&query(no), &mut work).expect("query");
    assert_eq!(order.state, OrderState::Revoked);

    // Completed and being collected: while WeChat is deducting, cancel fails; then it works.
    let no = "RENT-CANCEL-02";
    client
        .call(&create(no, notify), &mut work)
        .expect("created");
    sandbox
        .emulator
        .confirm_order(no, demo::OPENID, system_now())
        .expect("confirms");
    client.call(&fees(no), &mut work).expect("completed");
    let (status, body) = hook(
        &sandbox,
        "deducting",
        &format!(r#"{{"out_order_no":"{no}","on":true}}"#),
    );
    assert_eq!(status, 204, "{body}");
    let cancel = CancelOrder::new(no, SERVICE_ID, APPID, "设备故障").expect("fits");
    let refused = client.call(&cancel, &mut work);
    assert!(
        matches!(&refused, Err(ClientError::Api(e)) if e.status == 400 && e.code.as_str() == "INVALID_ORDER_STATE" && e.message.contains("扣款")),
        "{refused:?}"
    );
    sandbox.emulator.set_deducting(no, false).expect("switches");
    client.call(&cancel, &mut work).expect("cancelled");
    let order = client.call(&query(no), &mut work).expect("query");
    assert_eq!(order.state, OrderState::Revoked);
    // No USER_PAID for a cancelled order: only the confirmation was sent.
    assert_eq!(sandbox.emulator.callbacks().len(), 1);
}

#[test]
fn the_sync_path() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut work = vec![0u8; WORK];
    let no = "RENT-SYNC-0001";
    client
        .call(&create(no, "https://kiosk.example.com/notify"), &mut work)
        .expect("created");
    sandbox
        .emulator
        .confirm_order(no, demo::OPENID, system_now())
        .expect("confirms");
    client.call(&fees(no), &mut work).expect("completed");

    // The kiosk lowers the amount, asks WeChat to collect, then the user pays at the counter.
    let modified = client.call(&modify(no, 200), &mut work).expect("modified");
    assert_eq!(modified.total_amount, Some(200));
    assert_eq!(
        modified.collection.as_ref().and_then(|c| c.paying_amount),
        Some(200)
    );
    let ack = client
        .call(
            &PayOrder::new(no, SERVICE_ID, APPID).expect("fits"),
            &mut work,
        )
        .expect("pay accepted");
    assert_eq!(ack.out_order_no, no);
    let synced = client
        .call(
            &SyncOrder::new(no, SERVICE_ID, APPID, "20260101150000").expect("fits"),
            &mut work,
        )
        .expect("synced");
    assert_eq!(synced.state, OrderState::Done);
    let collection = synced.collection.as_ref().expect("collection");
    assert_eq!(collection.state, CollectionState::UserPaid);
    let detail = collection.details.first().expect("one instalment");
    assert_eq!(detail.paid_type, Some(PaidType::Mch));
    assert_eq!(detail.paid_time.as_deref(), Some("20260101150000"));
    assert_eq!(detail.amount, 200);
    let order = client.call(&query(no), &mut work).expect("query");
    assert_eq!(order, synced);
}

#[test]
fn create_with_the_same_out_order_no_and_other_parameters_is_invalid_request() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut work = vec![0u8; WORK];
    let no = "RENT-SAME-0001";
    client
        .call(&create(no, "https://kiosk.example.com/notify"), &mut work)
        .expect("created");
    let mut other = create(no, "https://kiosk.example.com/notify");
    other.service_introduction = s("雨伞租借");
    let refused = client.call(&other, &mut work);
    assert!(
        matches!(&refused, Err(ClientError::Api(e)) if e.status == 400 && e.code.as_str() == "INVALID_REQUEST"),
        "{refused:?}"
    );
}

/// Where an order is put before the call under test.
#[derive(Debug, Clone, Copy)]
enum At {
    Created,
    Confirmed,
    Paying,
    Deducting,
    Done,
    Revoked,
    Expired,
}

/// The call under test.
#[derive(Debug, Clone, Copy)]
enum Try {
    Cancel,
    Modify,
    Complete,
    Pay,
    Sync,
    ConfirmHook,
    CollectHook,
    ExpireHook,
}

/// Puts a fresh order `no` in state `at`.
fn order_at(sandbox: &Sandbox, client: &mut DemoClient, no: &str, at: At) {
    let mut work = vec![0u8; WORK];
    let emulator = &sandbox.emulator;
    client
        .call(&create(no, "https://kiosk.example.com/notify"), &mut work)
        .expect("created");
    if let At::Expired = at {
        emulator.expire_order(no).expect("expires");
    }
    if let At::Revoked = at {
        client
            .call(
                &CancelOrder::new(no, SERVICE_ID, APPID, "测试").expect("fits"),
                &mut work,
            )
            .expect("cancelled");
    }
    if matches!(at, At::Created | At::Expired | At::Revoked) {
        return;
    }
    emulator
        .confirm_order(no, demo::OPENID, system_now())
        .expect("confirms");
    if let At::Confirmed = at {
        return;
    }
    client.call(&fees(no), &mut work).expect("completed");
    match at {
        At::Deducting => emulator.set_deducting(no, true).expect("switches"),
        At::Done => emulator.collect_order(no, system_now()).expect("collects"),
        _ => {}
    }
}

/// The error code of `what` on order `no`.
fn attempt(sandbox: &Sandbox, client: &mut DemoClient, no: &str, what: Try) -> (u16, String) {
    let mut work = vec![0u8; WORK];
    let api = |outcome: Result<(), ClientError<wxpay_ureq::UreqError>>| match outcome {
        Err(ClientError::Api(e)) => (e.status, e.code.to_string()),
        other => panic!("{what:?} on {no}: expected an API error, got {other:?}"),
    };
    let hook = |outcome: Result<(), wxpay_emulator::OrderRefusal>| match outcome {
        Err(refusal) => (refusal.status, refusal.code.to_owned()),
        Ok(()) => panic!("{what:?} on {no}: accepted"),
    };
    let emulator = &sandbox.emulator;
    match what {
        Try::Cancel => api(client
            .call(
                &CancelOrder::new(no, SERVICE_ID, APPID, "测试").expect("fits"),
                &mut work,
            )
            .map(drop)),
        Try::Modify => api(client.call(&modify(no, 100), &mut work).map(drop)),
        Try::Complete => api(client.call(&fees(no), &mut work).map(drop)),
        Try::Pay => api(client
            .call(
                &PayOrder::new(no, SERVICE_ID, APPID).expect("fits"),
                &mut work,
            )
            .map(drop)),
        Try::Sync => api(client
            .call(
                &SyncOrder::new(no, SERVICE_ID, APPID, "20260101150000").expect("fits"),
                &mut work,
            )
            .map(drop)),
        Try::ConfirmHook => hook(
            emulator
                .confirm_order(no, demo::OPENID, system_now())
                .map(drop),
        ),
        Try::CollectHook => hook(emulator.collect_order(no, system_now())),
        Try::ExpireHook => hook(emulator.expire_order(no)),
    }
}

#[test]
fn every_call_in_a_state_it_is_not_allowed_in_returns_its_code() {
    const IOS: &str = "INVALID_ORDER_STATE";
    const CANCELED: &str = "ORDER_CANCELED";
    const DONE: &str = "ORDER_DONE";
    #[rustfmt::skip]
    let cases: &[(At, Try, u16, &str)] = &[
        (At::Created,   Try::Modify,      400, IOS),
        (At::Created,   Try::Complete,    400, IOS),
        (At::Created,   Try::Pay,         400, IOS),
        (At::Created,   Try::Sync,        400, IOS),
        (At::Created,   Try::CollectHook, 400, IOS),
        (At::Confirmed, Try::Modify,      400, IOS),
        (At::Confirmed, Try::Pay,         400, IOS),
        (At::Confirmed, Try::Sync,        400, IOS),
        (At::Confirmed, Try::ConfirmHook, 400, IOS),
        (At::Confirmed, Try::ExpireHook,  400, IOS),
        (At::Confirmed, Try::CollectHook, 400, IOS),
        (At::Paying,    Try::Complete,    400, IOS),
        (At::Paying,    Try::ConfirmHook, 400, IOS),
        (At::Paying,    Try::ExpireHook,  400, IOS),
        (At::Deducting, Try::Cancel,      400, IOS),
        (At::Deducting, Try::Modify,      400, IOS),
        (At::Done,      Try::Cancel,      400, DONE),
        (At::Done,      Try::Modify,      400, DONE),
        (At::Done,      Try::Complete,    400, DONE),
        (At::Done,      Try::Pay,         400, DONE),
        (At::Done,      Try::Sync,        400, DONE),
        (At::Done,      Try::CollectHook, 400, DONE),
        (At::Revoked,   Try::Cancel,      400, CANCELED),
        (At::Revoked,   Try::Modify,      400, CANCELED),
        (At::Revoked,   Try::Complete,    400, CANCELED),
        (At::Revoked,   Try::Pay,         400, CANCELED),
        (At::Revoked,   Try::Sync,        400, CANCELED),
        (At::Revoked,   Try::ConfirmHook, 400, CANCELED),
        (At::Expired,   Try::Cancel,      400, IOS),
        (At::Expired,   Try::Modify,      400, IOS),
        (At::Expired,   Try::Complete,    400, IOS),
        (At::Expired,   Try::Pay,         400, IOS),
        (At::Expired,   Try::Sync,        400, IOS),
        (At::Expired,   Try::ConfirmHook, 400, IOS),
    ];
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    for (i, (at, what, status, code)) in cases.iter().enumerate() {
        let no = format!("STATE-{i:03}");
        order_at(&sandbox, &mut client, &no, *at);
        assert_eq!(
            attempt(&sandbox, &mut client, &no, *what),
            (*status, (*code).to_owned()),
            "case {i}: {what:?} in {at:?}"
        );
    }
}

#[test]
fn unknown_orders_and_amounts_the_server_refuses() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut work = vec![0u8; WORK];
    let api = |outcome: Result<(), ClientError<wxpay_ureq::UreqError>>| match outcome {
        Err(ClientError::Api(e)) => (e.status, e.code.to_string()),
        other => panic!("expected an API error, got {other:?}"),
    };
    let no = "RENT-AMOUNT-01";
    order_at(&sandbox, &mut client, no, At::Confirmed);
    // Over the 99 yuan deposit of a deposit-waiver service.
    let over = complete(no, &[payment("租借费", 9901)], &[]);
    // Modify may only lower the amount (the order was completed at 300).
    let paying = "RENT-AMOUNT-02";
    order_at(&sandbox, &mut client, paying, At::Paying);
    #[rustfmt::skip]
    let cases: Vec<(&str, Result<(), ClientError<wxpay_ureq::UreqError>>, (u16, &str))> = vec![
        ("query unknown",      client.call(&query("NO-SUCH-ORDER"), &mut work).map(drop),  (404, "ORDER_NOT_EXIST")),
        ("cancel unknown",     client.call(&CancelOrder::new("NO-SUCH-ORDER", SERVICE_ID, APPID, "x").expect("fits"), &mut work).map(drop), (404, "ORDER_NOT_EXIST")),
        ("query other appid",  client.call(&QueryOrder::new(Some(no), None, SERVICE_ID, "wxOtherApp").expect("fits"), &mut work).map(drop), (404, "ORDER_NOT_EXIST")),
        ("complete over risk", client.call(&over, &mut work).map(drop),                   (400, "PARAM_ERROR")),
        ("modify raising",     client.call(&modify(paying, 301), &mut work).map(drop),    (400, "PARAM_ERROR")),
    ];
    for (name, outcome, (status, code)) in cases {
        assert_eq!(api(outcome), (status, code.to_owned()), "{name}");
    }
}

#[test]
fn an_answer_for_another_order_is_a_verification_failure() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut work = vec![0u8; WORK];
    order_at(&sandbox, &mut client, "RENT-MINE-0001", At::Created);
    order_at(&sandbox, &mut client, "RENT-THEIRS-01", At::Done);
    // A hostile server replays, correctly signed, the answer about another (paid) order.
    let (status, body) = hook(
        &sandbox,
        "replay",
        r#"{"out_order_no":"RENT-MINE-0001","answer_with":"RENT-THEIRS-01"}"#,
    );
    assert_eq!(status, 204, "{body}");
    let replayed = client.call(&query("RENT-MINE-0001"), &mut work);
    assert!(
        matches!(
            replayed,
            Err(ClientError::Verify {
                error: VerifyError::Mismatch {
                    field: "out_order_no"
                },
                ..
            })
        ),
        "{replayed:?}"
    );
    sandbox.emulator.replay_order("RENT-MINE-0001", None);
    let mine = client
        .call(&query("RENT-MINE-0001"), &mut work)
        .expect("honest again");
    assert_eq!(mine.state, OrderState::Created);
}

#[test]
fn the_test_hooks_over_http() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut work = vec![0u8; WORK];
    let no = "RENT-HOOK-0001";
    order_at(&sandbox, &mut client, no, At::Created);
    let error_code = |body: &str| json_field(body, "code");
    #[rustfmt::skip]
    let refusals: &[(&str, String, u16, &str)] = &[
        ("confirm",   format!(r#"{{"out_order_no":"{no}"}}"#),            400, "PARAM_ERROR"),
        ("collect",   String::from("{}"),                                  400, "PARAM_ERROR"),
        ("deducting", format!(r#"{{"out_order_no":"{no}"}}"#),            400, "PARAM_ERROR"),
        ("expire",    String::from(r#"{"out_order_no":"NO-SUCH-ORDER"}"#), 404, "ORDER_NOT_EXIST"),
        ("collect",   format!(r#"{{"out_order_no":"{no}"}}"#),            400, "INVALID_ORDER_STATE"),
        ("nope",      format!(r#"{{"out_order_no":"{no}"}}"#),            404, "NOT_FOUND"),
    ];
    for (name, json, status, code) in refusals {
        let (got, body) = hook(&sandbox, name, json);
        assert_eq!(
            (got, error_code(&body)),
            (*status, (*code).to_owned()),
            "{name} {json}"
        );
    }
    let (status, body) = hook(&sandbox, "expire", &format!(r#"{{"out_order_no":"{no}"}}"#));
    assert_eq!(status, 204, "{body}");
    let order = client.call(&query(no), &mut work).expect("query");
    assert_eq!(order.state, OrderState::Expired);
    assert_eq!(
        sandbox.emulator.service_order(no).map(|o| o.state),
        Some(OrderState::Expired)
    );
    assert!(
        sandbox.emulator.callbacks().is_empty(),
        "expiry sends no callback"
    );
}
