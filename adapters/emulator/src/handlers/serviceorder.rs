//! Payscore service orders (`/v3/payscore/serviceorder…`, PROTOCOL.md §8): create, query,
//! cancel, modify, complete, pay and sync, with the state machine and its documented codes,
//! and the test hooks that play the user's and WeChat's part.
//!
//! Requests are read and answers written with the core's declared types
//! ([`CreateOrder`], [`CompleteBody`], [`ServiceOrder`], …), so the emulator and the client
//! share one definition of every field.
//!
//! | state | allowed |
//! |---|---|
//! | `CREATED` | cancel; the `confirm` and `expire` hooks |
//! | `DOING` / `USER_CONFIRM` | cancel, complete |
//! | `DOING` / `MCH_COMPLETE`, collection `USER_PAYING` | cancel, modify, pay, sync; the `collect` hook |
//! | `DONE`, `REVOKED`, `EXPIRED` | nothing (final) |
//!
//! Anything else is `400 INVALID_ORDER_STATE`, or `ORDER_CANCELED` for a `REVOKED` order and
//! `ORDER_DONE` for a `DONE` one; an unknown order (or one under another `appid` /
//! `service_id`) is `404 ORDER_NOT_EXIST`. Create is idempotent for an identical body; the same
//! `out_order_no` with other parameters is `400 INVALID_REQUEST`; `need_user_confirm: false` is
//! `403 NO_AUTH` (the emulated service is need-confirm). Bodies are read strictly (an unknown
//! field is `400 PARAM_ERROR`, as is any broken rule, an inconsistent `total_amount`, a total
//! over the `risk_fund` of a deposit-waiver service, or a modify that raises the amount).
//!
//! Test hooks (`POST`, JSON body, outside the signed API):
//!
//! - `/emulator/confirm {"out_order_no","openid"}`: the user confirms: `DOING/USER_CONFIRM`, a
//!   `PAYSCORE.USER_CONFIRM` callback; answers `200 {"out_order_no","query_id"}` (the
//!   `query_id` WeChat hands the merchant's mini-program);
//! - `/emulator/collect {"out_order_no"}`: WeChat collects: `DONE`, collection `USER_PAID` with
//!   a `transaction_id`, a `PAYSCORE.USER_PAID` callback; 204;
//! - `/emulator/expire {"out_order_no"}`: a `CREATED` order becomes `EXPIRED`; 204;
//! - `/emulator/deducting {"out_order_no","on":true|false}`: while on, cancel and modify of the
//!   order fail with `400 INVALID_ORDER_STATE` "单据正在扣款中" (the real code for this case is
//!   not documented; assumed); 204;
//! - `/emulator/replay {"out_order_no","answer_with":"OTHER"|null}`: a hostile server: queries
//!   for `out_order_no` are answered, correctly signed, with order `OTHER`; 204.
//!
//! A hook on an order in the wrong state is `400 INVALID_ORDER_STATE`, an unknown order
//! `404 ORDER_NOT_EXIST`. Each hook has an [`Emulator`] method for in-process use.

use std::collections::HashMap;
use std::fmt;

use wxpay_core::api::serviceorder::{
    CancelBody, Collection, CollectionDetail, CollectionState, CompleteBody, CreateOrder,
    ModifyBody, OrderAck, OrderIds, OrderState, PaidType, PostDiscount, PostPayment, RiskFund,
    RiskFundName, ServiceOrder, StateDescription, SyncBody,
};
use wxpay_core::callback;
use wxpay_core::heapless;
use wxpay_core::model::{Record, text};
use wxpay_core::time::{BEIJING_OFFSET_MINUTES, DateTime};

use super::{Answer, ApiCall, random_alnum, render};
use crate::router::decode;
use crate::{Emulator, Fault, lock};

/// Every service order the emulator holds, and the test switches on them.
#[derive(Debug, Default)]
pub(crate) struct Orders {
    by_no: HashMap<String, StoredOrder>,
    /// `out_order_no` → the order whose body answers queries for it (a hostile replay).
    replay: HashMap<String, String>,
}

#[derive(Debug, Clone)]
struct StoredOrder {
    /// The create request, for idempotency.
    create: CreateOrder,
    order: ServiceOrder,
    package: String,
    query_id: String,
    /// The "deducting" fault: cancel and modify fail.
    deducting: bool,
}

/// Why a request or hook was refused: status, code and message of the error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRefusal {
    /// HTTP status.
    pub status: u16,
    /// Error code, e.g. `INVALID_ORDER_STATE`.
    pub code: &'static str,
    /// Message.
    pub message: String,
}

impl OrderRefusal {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        OrderRefusal {
            status,
            code,
            message: message.into(),
        }
    }

    fn param(message: impl fmt::Display) -> Self {
        OrderRefusal::new(400, "PARAM_ERROR", message.to_string())
    }

    fn not_found() -> Self {
        OrderRefusal::new(404, "ORDER_NOT_EXIST", "no such service order")
    }

    fn answer(&self) -> Answer {
        Answer::error(self.status, self.code, &self.message)
    }
}

impl fmt::Display for OrderRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for OrderRefusal {}

type Outcome<T> = Result<T, OrderRefusal>;

/// Where an order stands, for the state checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Created,
    Confirmed,
    Paying,
    Done,
    Revoked,
    Expired,
    Other,
}

fn stage(order: &ServiceOrder) -> Stage {
    let collecting = order
        .collection
        .as_ref()
        .is_some_and(|c| c.state == CollectionState::UserPaying);
    match (&order.state, &order.state_description) {
        (OrderState::Created, _) => Stage::Created,
        (OrderState::Doing, _) if collecting => Stage::Paying,
        (OrderState::Doing, Some(StateDescription::UserConfirm)) => Stage::Confirmed,
        (OrderState::Done, _) => Stage::Done,
        (OrderState::Revoked, _) => Stage::Revoked,
        (OrderState::Expired, _) => Stage::Expired,
        _ => Stage::Other,
    }
}

/// `Ok` when the order is in one of `allowed`, else the documented code.
fn require(order: &ServiceOrder, allowed: &[Stage], action: &str) -> Outcome<()> {
    let now = stage(order);
    if allowed.contains(&now) {
        return Ok(());
    }
    Err(match now {
        Stage::Revoked => OrderRefusal::new(400, "ORDER_CANCELED", "the order was cancelled"),
        Stage::Done => OrderRefusal::new(400, "ORDER_DONE", "the order is done"),
        _ => OrderRefusal::new(
            400,
            "INVALID_ORDER_STATE",
            format!(
                "{action} is not allowed in state {}{}",
                order.state,
                order
                    .state_description
                    .as_ref()
                    .map(|d| format!("/{d}"))
                    .unwrap_or_default()
            ),
        ),
    })
}

/// A request body as the core reads a user's body (unknown fields refused), then validated.
fn parse_body<R: Record>(body: &[u8]) -> Outcome<R> {
    let parsed = R::from_json_strict(body).map_err(OrderRefusal::param)?;
    parsed.validate().map_err(OrderRefusal::param)?;
    Ok(parsed)
}

/// Fee item names are unique in an order.
fn check_names(payments: &[PostPayment], discounts: &[PostDiscount]) -> Outcome<()> {
    let names: Vec<&str> = payments
        .iter()
        .map(|p| p.name.as_str())
        .chain(discounts.iter().map(|d| d.name.as_str()))
        .collect();
    for (i, name) in names.iter().enumerate() {
        if names[i + 1..].contains(name) {
            return Err(OrderRefusal::param(format!(
                "fee item name {name} is not unique"
            )));
        }
    }
    Ok(())
}

/// Fee names unique, `total_amount = Σ payments − Σ discounts ≥ 0`, and at most the risk fund
/// for deposit-waiver services.
fn check_fees(
    payments: &[PostPayment],
    discounts: &[PostDiscount],
    total: i64,
    risk_fund: Option<&RiskFund>,
) -> Outcome<()> {
    check_names(payments, discounts)?;
    let paid: i128 = payments.iter().map(|p| i128::from(p.amount)).sum();
    let discounted: i128 = discounts.iter().map(|d| i128::from(d.amount)).sum();
    if paid - discounted != i128::from(total) || total < 0 {
        return Err(OrderRefusal::param(
            "total_amount must be Σ post_payments.amount − Σ post_discounts.amount and ≥ 0",
        ));
    }
    if let Some(fund) = risk_fund {
        let waiver = matches!(
            fund.name,
            RiskFundName::Deposit | RiskFundName::Advance | RiskFundName::CashDeposit
        );
        if waiver && total > fund.amount {
            return Err(OrderRefusal::param(
                "total_amount exceeds risk_fund.amount of a deposit-waiver service",
            ));
        }
    }
    Ok(())
}

/// Text the emulator made itself (ids, times) into a fixed-capacity string.
fn hstr<const N: usize>(value: &str) -> heapless::String<N> {
    heapless::String::try_from(value).unwrap_or_default()
}

fn random_digits(len: usize) -> String {
    let mut raw = vec![0u8; len];
    if getrandom::fill(&mut raw).is_err() {
        raw.fill(0);
    }
    raw.iter().map(|b| char::from(b'0' + b % 10)).collect()
}

/// `yyyyMMddHHmmss` in Beijing time.
fn compact_time(now: i64) -> String {
    let at = DateTime::from_unix_seconds(now, BEIJING_OFFSET_MINUTES);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        at.year, at.month, at.day, at.hour, at.minute, at.second
    )
}

fn ack(order: &ServiceOrder) -> OrderAck {
    OrderAck {
        appid: order.appid.clone(),
        mchid: order.mchid.clone(),
        out_order_no: order.out_order_no.clone(),
        service_id: order.service_id.clone(),
        order_id: order.order_id.clone(),
    }
}

/// Routes the `/v3/payscore/serviceorder` family; `None` if the path is not one of its APIs.
pub(crate) fn route(emulator: &Emulator, call: &ApiCall<'_>) -> Option<(Answer, Option<Fault>)> {
    let outcome = match (call.method, call.segments) {
        ("POST", ["v3", "payscore", "serviceorder"]) => emulator.create_order(call.body),
        ("GET", ["v3", "payscore", "serviceorder"]) => emulator.query_order(call.query),
        ("POST", ["v3", "payscore", "serviceorder", no, action]) => match decode(no) {
            Some(no) => emulator.order_action(&no, action, call.body),
            None => Err(OrderRefusal::param("malformed out_order_no")),
        },
        _ => return None,
    };
    Some((outcome.unwrap_or_else(|refusal| refusal.answer()), None))
}

/// The test hooks this family owns: `Some` for its paths.
pub(crate) fn hook(emulator: &Emulator, target: &str, body: &[u8], now: i64) -> Option<Answer> {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |name: &str| json[name].as_str().map(str::to_owned);
    let no_content = || Answer {
        status: 204,
        body: Vec::new(),
    };
    let outcome = match (target, text("out_order_no")) {
        ("/emulator/confirm", Some(no)) => match text("openid") {
            Some(openid) => emulator.confirm_order(&no, &openid, now).map(|query_id| {
                Answer::json(
                    200,
                    serde_json::json!({ "out_order_no": no, "query_id": query_id }),
                )
            }),
            None => Err(OrderRefusal::param("openid is required")),
        },
        ("/emulator/collect", Some(no)) => emulator.collect_order(&no, now).map(|()| no_content()),
        ("/emulator/expire", Some(no)) => emulator.expire_order(&no).map(|()| no_content()),
        ("/emulator/deducting", Some(no)) => match json["on"].as_bool() {
            Some(on) => emulator.set_deducting(&no, on).map(|()| no_content()),
            None => Err(OrderRefusal::param("on (true or false) is required")),
        },
        ("/emulator/replay", Some(no)) => {
            emulator.replay_order(&no, json["answer_with"].as_str());
            Ok(no_content())
        }
        (
            "/emulator/confirm"
            | "/emulator/collect"
            | "/emulator/expire"
            | "/emulator/deducting"
            | "/emulator/replay",
            None,
        ) => Err(OrderRefusal::param("out_order_no is required")),
        _ => return None,
    };
    Some(outcome.unwrap_or_else(|refusal| refusal.answer()))
}

impl Emulator {
    /// `POST /v3/payscore/serviceorder`: a new order in `CREATED`, or the same order again
    /// for an identical request.
    fn create_order(&self, body: &[u8]) -> Outcome<Answer> {
        let create: CreateOrder = parse_body(body)?;
        if create.need_user_confirm == Some(false) {
            return Err(OrderRefusal::new(
                403,
                "NO_AUTH",
                "this service takes need-confirm orders only",
            ));
        }
        check_names(&create.post_payments, &create.post_discounts)?;
        let mut orders = lock(&self.orders);
        if let Some(stored) = orders.by_no.get(create.out_order_no.as_str()) {
            if stored.create == create {
                return Ok(created_answer(stored));
            }
            return Err(OrderRefusal::new(
                400,
                "INVALID_REQUEST",
                "out_order_no is already used with other parameters",
            ));
        }
        let order = ServiceOrder {
            appid: create.appid.clone(),
            mchid: hstr(&self.mchid),
            service_id: create.service_id.clone(),
            out_order_no: create.out_order_no.clone(),
            service_introduction: Some(create.service_introduction.clone()),
            state: OrderState::Created,
            state_description: None,
            post_payments: create.post_payments.clone(),
            post_discounts: create.post_discounts.clone(),
            risk_fund: Some(create.risk_fund.clone()),
            time_range: Some(create.time_range.clone()),
            location: create.location.clone(),
            attach: create.attach.clone(),
            notify_url: Some(create.notify_url.clone()),
            order_id: Some(hstr(&format!("1000000000{}", random_digits(18)))),
            package: None,
            total_amount: None,
            need_collection: Some(true),
            openid: create.openid.clone(),
            collection: None,
        };
        let stored = StoredOrder {
            create,
            order,
            package: random_alnum(64),
            query_id: random_alnum(64),
            deducting: false,
        };
        let answer = created_answer(&stored);
        orders
            .by_no
            .insert(stored.order.out_order_no.to_string(), stored);
        Ok(answer)
    }

    /// `GET /v3/payscore/serviceorder?service_id=&appid=&(out_order_no=|query_id=)`.
    fn query_order(&self, query: &HashMap<String, String>) -> Outcome<Answer> {
        let (Some(service_id), Some(appid)) = (query.get("service_id"), query.get("appid")) else {
            return Err(OrderRefusal::param("service_id and appid are required"));
        };
        let orders = lock(&self.orders);
        let found = match (query.get("out_order_no"), query.get("query_id")) {
            (Some(no), None) => orders.by_no.get(no),
            (None, Some(id)) => orders.by_no.values().find(|s| &s.query_id == id),
            _ => {
                return Err(OrderRefusal::param(
                    "exactly one of out_order_no and query_id is required",
                ));
            }
        };
        let stored = found
            .filter(|s| {
                s.order.appid == appid.as_str() && s.order.service_id == service_id.as_str()
            })
            .ok_or_else(OrderRefusal::not_found)?;
        let shown = orders
            .replay
            .get(stored.order.out_order_no.as_str())
            .and_then(|other| orders.by_no.get(other))
            .unwrap_or(stored);
        Ok(render(&shown.order))
    }

    /// `POST …/{out_order_no}/{cancel|modify|complete|pay|sync}`.
    fn order_action(&self, no: &str, action: &str, body: &[u8]) -> Outcome<Answer> {
        let ids = |appid: &str, service_id: &str, stored: &StoredOrder| {
            if stored.order.appid == appid && stored.order.service_id == service_id {
                Ok(())
            } else {
                Err(OrderRefusal::not_found())
            }
        };
        match action {
            "cancel" => {
                let body: CancelBody = parse_body(body)?;
                self.with_order(no, |stored| {
                    ids(&body.appid, &body.service_id, stored)?;
                    require(
                        &stored.order,
                        &[Stage::Created, Stage::Confirmed, Stage::Paying],
                        "cancel",
                    )?;
                    refuse_while_deducting(stored)?;
                    stored.order.state = OrderState::Revoked;
                    stored.order.state_description = None;
                    Ok(render(&ack(&stored.order)))
                })
            }
            "complete" => {
                let body: CompleteBody = parse_body(body)?;
                self.with_order(no, |stored| {
                    ids(&body.appid, &body.service_id, stored)?;
                    require(&stored.order, &[Stage::Confirmed], "complete")?;
                    let order = &mut stored.order;
                    check_fees(
                        &body.post_payments,
                        &body.post_discounts,
                        body.total_amount,
                        order.risk_fund.as_ref(),
                    )?;
                    order.post_payments = body.post_payments.clone();
                    order.post_discounts = body.post_discounts.clone();
                    order.total_amount = Some(body.total_amount);
                    if body.time_range.is_some() {
                        order.time_range = body.time_range.clone();
                    }
                    if body.location.is_some() {
                        order.location = body.location.clone();
                    }
                    order.state_description = Some(StateDescription::MchComplete);
                    order.collection = Some(Collection {
                        state: CollectionState::UserPaying,
                        total_amount: body.total_amount,
                        paying_amount: Some(body.total_amount),
                        paid_amount: Some(0),
                        details: heapless::Vec::new(),
                    });
                    Ok(render(&*order))
                })
            }
            "modify" => {
                let body: ModifyBody = parse_body(body)?;
                self.with_order(no, |stored| {
                    ids(&body.appid, &body.service_id, stored)?;
                    require(&stored.order, &[Stage::Paying], "modify")?;
                    refuse_while_deducting(stored)?;
                    let order = &mut stored.order;
                    check_fees(
                        &body.post_payments,
                        &body.post_discounts,
                        body.total_amount,
                        order.risk_fund.as_ref(),
                    )?;
                    if body.total_amount > order.total_amount.unwrap_or(0) {
                        return Err(OrderRefusal::param("modify may only lower total_amount"));
                    }
                    order.post_payments = body.post_payments.clone();
                    order.post_discounts = body.post_discounts.clone();
                    order.total_amount = Some(body.total_amount);
                    if let Some(collection) = order.collection.as_mut() {
                        collection.total_amount = body.total_amount;
                        collection.paying_amount = Some(body.total_amount);
                    }
                    Ok(render(&*order))
                })
            }
            "pay" => {
                let body: OrderIds = parse_body(body)?;
                self.with_order(no, |stored| {
                    ids(&body.appid, &body.service_id, stored)?;
                    require(&stored.order, &[Stage::Paying], "pay")?;
                    // Collection itself is asynchronous: the `collect` hook plays it.
                    Ok(render(&ack(&stored.order)))
                })
            }
            "sync" => {
                let body: SyncBody = parse_body(body)?;
                self.with_order(no, |stored| {
                    ids(&body.appid, &body.service_id, stored)?;
                    require(&stored.order, &[Stage::Paying], "sync")?;
                    settle(
                        &mut stored.order,
                        PaidType::Mch,
                        body.detail.paid_time.as_str(),
                        None,
                    );
                    Ok(render(&stored.order))
                })
            }
            _ => Err(OrderRefusal::new(404, "NOT_FOUND", "no such API")),
        }
    }

    /// Runs `f` on the stored order `no`; `404 ORDER_NOT_EXIST` if there is none.
    fn with_order<T>(
        &self,
        no: &str,
        f: impl FnOnce(&mut StoredOrder) -> Outcome<T>,
    ) -> Outcome<T> {
        let mut orders = lock(&self.orders);
        let stored = orders
            .by_no
            .get_mut(no)
            .ok_or_else(OrderRefusal::not_found)?;
        f(stored)
    }

    /// The user confirms order `out_order_no` on the phone: `CREATED` → `DOING/USER_CONFIRM`
    /// and a `PAYSCORE.USER_CONFIRM` callback carrying the order. Returns the order's
    /// `query_id` (what WeChat hands the merchant's mini-program).
    pub fn confirm_order(&self, out_order_no: &str, openid: &str, now: i64) -> Outcome<String> {
        let (order, query_id) = self.with_order(out_order_no, |stored| {
            require(&stored.order, &[Stage::Created], "confirm")?;
            let order = &mut stored.order;
            order.state = OrderState::Doing;
            order.state_description = Some(StateDescription::UserConfirm);
            order.openid = Some(text("openid", openid).map_err(OrderRefusal::param)?);
            // `OnAccept` becomes the time the user confirmed.
            if let Some(range) = order
                .time_range
                .as_mut()
                .filter(|r| r.start_time == "OnAccept")
            {
                range.start_time = hstr(&compact_time(now));
            }
            Ok((order.clone(), stored.query_id.clone()))
        })?;
        self.order_callback(callback::USER_CONFIRM, "用户确认订单", &order, now);
        Ok(query_id)
    }

    /// WeChat collects a completed order: `DONE`, collection `USER_PAID` with a
    /// `transaction_id`, and a `PAYSCORE.USER_PAID` callback carrying the order.
    pub fn collect_order(&self, out_order_no: &str, now: i64) -> Outcome<()> {
        let order = self.with_order(out_order_no, |stored| {
            require(&stored.order, &[Stage::Paying], "collect")?;
            let transaction_id = format!("4200000{}", random_digits(21));
            settle(
                &mut stored.order,
                PaidType::Newton,
                &compact_time(now),
                Some(&transaction_id),
            );
            Ok(stored.order.clone())
        })?;
        self.order_callback(callback::USER_PAID, "用户支付成功", &order, now);
        Ok(())
    }

    /// A `CREATED` order left unconfirmed for 30 days: `EXPIRED`.
    pub fn expire_order(&self, out_order_no: &str) -> Outcome<()> {
        self.with_order(out_order_no, |stored| {
            require(&stored.order, &[Stage::Created], "expire")?;
            stored.order.state = OrderState::Expired;
            Ok(())
        })
    }

    /// Switches the "deducting" fault for an order: while on, cancel and modify fail with
    /// `400 INVALID_ORDER_STATE` ("单据正在扣款中"), as while WeChat is deducting.
    pub fn set_deducting(&self, out_order_no: &str, on: bool) -> Outcome<()> {
        self.with_order(out_order_no, |stored| {
            stored.deducting = on;
            Ok(())
        })
    }

    /// A hostile server: queries for `out_order_no` are answered, correctly signed, with the
    /// order `answer_with` (`None` to stop).
    pub fn replay_order(&self, out_order_no: &str, answer_with: Option<&str>) {
        let mut orders = lock(&self.orders);
        match answer_with {
            Some(other) => orders
                .replay
                .insert(out_order_no.to_owned(), other.to_owned()),
            None => orders.replay.remove(out_order_no),
        };
    }

    /// A copy of the service order `out_order_no`, as a query would show it.
    pub fn service_order(&self, out_order_no: &str) -> Option<ServiceOrder> {
        lock(&self.orders)
            .by_no
            .get(out_order_no)
            .map(|s| s.order.clone())
    }

    /// The `query_id` of the order `out_order_no`.
    pub fn order_query_id(&self, out_order_no: &str) -> Option<String> {
        lock(&self.orders)
            .by_no
            .get(out_order_no)
            .map(|s| s.query_id.clone())
    }

    /// Sends a service-order callback: the order rendered by its declaration, encrypted with
    /// associated data `payscore`, to the order's `notify_url`.
    fn order_callback(&self, event_type: &str, summary: &str, order: &ServiceOrder, now: i64) {
        let payload = render(order).body;
        let payload = String::from_utf8_lossy(&payload);
        self.send_callback(
            event_type,
            summary,
            "payscore",
            &payload,
            order.notify_url.as_ref().map(|u| u.to_string()),
            now,
        );
    }
}

/// Cancel and modify while WeChat is deducting.
fn refuse_while_deducting(stored: &StoredOrder) -> Outcome<()> {
    if stored.deducting {
        return Err(OrderRefusal::new(
            400,
            "INVALID_ORDER_STATE",
            "单据正在扣款中，请3分钟后重试",
        ));
    }
    Ok(())
}

/// The answer of create: the order and its `package`.
fn created_answer(stored: &StoredOrder) -> Answer {
    let mut order = stored.order.clone();
    order.package = Some(hstr(&stored.package));
    render(&order)
}

/// Marks a collecting order paid: `DONE`, collection `USER_PAID`, one instalment.
fn settle(
    order: &mut ServiceOrder,
    paid_type: PaidType,
    paid_time: &str,
    transaction: Option<&str>,
) {
    order.state = OrderState::Done;
    order.state_description = None;
    let total = order.total_amount.unwrap_or(0);
    let collection = order.collection.get_or_insert(Collection {
        state: CollectionState::UserPaying,
        total_amount: total,
        paying_amount: Some(total),
        paid_amount: Some(0),
        details: heapless::Vec::new(),
    });
    let amount = collection.paying_amount.unwrap_or(total);
    let seq = i64::try_from(collection.details.len()).unwrap_or(0) + 1;
    // The details hold DETAILS_CAPACITY instalments; a settled order adds exactly one.
    let _ = collection.details.push(CollectionDetail {
        seq: Some(seq),
        amount,
        paid_type: Some(paid_type),
        paid_time: Some(hstr(paid_time)),
        transaction_id: transaction.map(hstr),
    });
    collection.state = CollectionState::UserPaid;
    collection.paid_amount = Some(collection.paid_amount.unwrap_or(0) + amount);
    collection.paying_amount = Some(0);
}
