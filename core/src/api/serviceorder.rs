//! Payscore service orders (direct merchant): the rental kiosk's money flow
//! (PROTOCOL.md §8). Declarations and one [`Call`] per endpoint.
//!
//! | call | method and target | body | success | answer bound to |
//! |---|---|---|---|---|
//! | [`CreateOrder`] | `POST /v3/payscore/serviceorder` | itself | [`ServiceOrder`] | `mchid`, `appid`, `service_id`, `out_order_no` |
//! | [`QueryOrder`] | `GET /v3/payscore/serviceorder?service_id=&appid=&out_order_no=` (or `query_id=`) | | [`ServiceOrder`] | `mchid`, `appid`, `service_id`, `out_order_no` (when asked by it) |
//! | [`CancelOrder`] | `POST …/{out_order_no}/cancel` | [`CancelBody`] | [`OrderAck`] | `mchid`, `appid`, `service_id`, `out_order_no` |
//! | [`ModifyOrder`] | `POST …/{out_order_no}/modify` | [`ModifyBody`] | [`ServiceOrder`] | as create |
//! | [`CompleteOrder`] | `POST …/{out_order_no}/complete` | [`CompleteBody`] | [`ServiceOrder`] | as create |
//! | [`PayOrder`] | `POST …/{out_order_no}/pay` | [`OrderIds`] | [`OrderAck`] | as cancel |
//! | [`SyncOrder`] | `POST …/{out_order_no}/sync` | [`SyncBody`] | [`ServiceOrder`] | as create |
//!
//! Amounts are integers in fen. Text limits count characters where the docs do
//! (`service_introduction` ≤ 20, `reason` ≤ 50, fee item names ≤ 20 and unique in an order);
//! byte capacities hold that many CJK characters (3 bytes each).
//!
//! **Capacities.** `ServiceOrder<P, D>` and the bodies carrying fee items take the number of
//! `post_payments` (`P`, default 100, the documented maximum) and `post_discounts` (`D`,
//! default 30) as const parameters: the defaults hold any documented answer (29,952 bytes on
//! a 64-bit host), while firmware that knows its tariff can use e.g. `ServiceOrder<4, 2>`
//! (5,152 bytes); an answer with more items is `ParseError::TooMany`, never a cut.
//! `collection.details` holds [`DETAILS_CAPACITY`] instalments (undocumented; assumed).

use heapless::{String, Vec};

use crate::call::{Call, Success, bind};
use crate::error::{Error, ParseError, Problem, VerifyError};
use crate::model::{Record, Rule, check_segment, is_code_byte, text};
use crate::path::TargetBuilder;
use crate::transport::Method;

/// Fixed path of the family.
pub const SERVICEORDER_PATH: &str = "/v3/payscore/serviceorder";
/// Documented maximum of `post_payments`.
pub const MAX_POST_PAYMENTS: usize = 100;
/// Documented maximum of `post_discounts`.
pub const MAX_POST_DISCOUNTS: usize = 30;
/// Instalments kept in `collection.details` (not documented; assumed).
pub const DETAILS_CAPACITY: usize = 10;
/// Room for a body with the default capacities and no control characters.
pub const BODY_CAPACITY: usize = 32 * 1024;

/// `appid`, `service_id`: 1 to 32 bytes.
pub const ID_RULE: Rule = Rule::bytes(1, 32);
/// `out_order_no`: 6 to 32 of `[0-9A-Za-z_-|*]` (the docs allow 6–32).
pub const ORDER_NO_RULE: Rule = Rule::Charset {
    min: 6,
    max: 32,
    allowed: is_code_byte,
    name: "[0-9A-Za-z_-|*] (6 to 32)",
};
/// A fee item's `name`: 1 to 20 characters.
pub const ITEM_NAME_RULE: Rule = Rule::chars(1, 20);
/// A fee item's or the risk fund's `description`: up to 30 characters.
pub const DESCRIPTION_RULE: Rule = Rule::chars(1, 30);
/// `reason`: 1 to 50 characters.
pub const REASON_RULE: Rule = Rule::chars(1, 50);
/// An amount in fen: not negative.
pub const AMOUNT_RULE: Rule = Rule::range(0, i64::MAX);
/// `time_range.start_time`.
pub const START_TIME_RULE: Rule = Rule::CompactTime {
    date: true,
    on_accept: true,
};
/// `time_range.end_time`.
pub const END_TIME_RULE: Rule = Rule::CompactTime {
    date: true,
    on_accept: false,
};
/// `detail.paid_time` of sync.
pub const PAID_TIME_RULE: Rule = Rule::CompactTime {
    date: false,
    on_accept: false,
};

crate::text_enum! {
    /// `state`: where the order stands.
    pub enum OrderState(16) {
        /// `CREATED`: waiting for the user to confirm.
        Created = "CREATED",
        /// `DOING`: confirmed (see `state_description`).
        Doing = "DOING",
        /// `DONE`: paid; final.
        Done = "DONE",
        /// `REVOKED`: cancelled by the merchant; final.
        Revoked = "REVOKED",
        /// `EXPIRED`: unconfirmed for 30 days; final.
        Expired = "EXPIRED",
    }
}

crate::text_enum! {
    /// `state_description`, only while `DOING`.
    pub enum StateDescription(16) {
        /// `USER_CONFIRM`: the user confirmed.
        UserConfirm = "USER_CONFIRM",
        /// `MCH_COMPLETE`: the merchant completed; WeChat is collecting.
        MchComplete = "MCH_COMPLETE",
    }
}

crate::text_enum! {
    /// `risk_fund.name`.
    pub enum RiskFundName(32) {
        /// `DEPOSIT` (deposit-waiver services).
        Deposit = "DEPOSIT",
        /// `ADVANCE` (deposit-waiver services).
        Advance = "ADVANCE",
        /// `CASH_DEPOSIT` (deposit-waiver services).
        CashDeposit = "CASH_DEPOSIT",
        /// `ESTIMATE_ORDER_COST` (use-first services).
        EstimateOrderCost = "ESTIMATE_ORDER_COST",
    }
}

crate::text_enum! {
    /// `collection.state`.
    pub enum CollectionState(16) {
        /// `USER_PAYING`: completed, being collected.
        UserPaying = "USER_PAYING",
        /// `USER_PAID`: collected.
        UserPaid = "USER_PAID",
    }
}

crate::text_enum! {
    /// `collection.details[].paid_type`.
    pub enum PaidType(16) {
        /// `NEWTON`: WeChat Pay Score collected it.
        Newton = "NEWTON",
        /// `MCH`: paid to the merchant another way (sync).
        Mch = "MCH",
    }
}

crate::text_enum! {
    /// `type` of sync: the only documented value is `Order_Paid`.
    pub enum SyncType(16) {
        /// `Order_Paid`: the user paid elsewhere.
        OrderPaid = "Order_Paid",
    }
}

crate::record! {
    /// A fee item (`post_payments[]`): `amount` is the line's total in fen.
    pub struct PostPayment {
        /// `name`, 1–20 characters, unique in the order.
        name: String<60> where ITEM_NAME_RULE,
        /// `amount` in fen, ≥ 0.
        amount: i64 where AMOUNT_RULE,
        /// `description`, up to 30 characters.
        description: Option<String<90>> where DESCRIPTION_RULE,
        /// `count`, 1–100 (informative).
        count: Option<u32> where Rule::range(1, 100),
    }
}

crate::record! {
    /// A discount item (`post_discounts[]`).
    pub struct PostDiscount {
        /// `name`, 1–20 characters, unique in the order.
        name: String<60> where ITEM_NAME_RULE,
        /// `description`, up to 30 characters.
        description: Option<String<90>> where DESCRIPTION_RULE,
        /// `amount` in fen, ≥ 0.
        amount: i64 where AMOUNT_RULE,
        /// `count`, 1–100.
        count: Option<u32> where Rule::range(1, 100),
    }
}

crate::record! {
    /// `risk_fund`: the deposit waived or the estimated cost.
    pub struct RiskFund {
        /// `name`, from the documented set.
        name: RiskFundName,
        /// `amount` in fen, ≥ 0.
        amount: i64 where AMOUNT_RULE,
        /// `description`, up to 30 characters.
        description: Option<String<90>> where DESCRIPTION_RULE,
    }
}

crate::record! {
    /// `time_range`.
    pub struct TimeRange {
        /// `start_time`: `yyyyMMddHHmmss`, `yyyyMMdd` or `OnAccept`.
        start_time: String<14> where START_TIME_RULE,
        /// `start_time_remark`, up to 20 characters.
        start_time_remark: Option<String<60>> where Rule::chars(1, 20),
        /// `end_time`: `yyyyMMddHHmmss` or `yyyyMMdd`.
        end_time: Option<String<14>> where END_TIME_RULE,
        /// `end_time_remark`, up to 50 characters.
        end_time_remark: Option<String<150>> where Rule::chars(1, 50),
    }
}

crate::record! {
    /// `location` (limits not confirmed by the official page: 50 characters assumed).
    pub struct Location {
        /// `start_location`.
        start_location: Option<String<150>> where Rule::chars(1, 50),
        /// `end_location`.
        end_location: Option<String<150>> where Rule::chars(1, 50),
    }
}

crate::record! {
    /// `device` (from a public OpenAPI transcription; 32 bytes assumed).
    pub struct Device {
        /// `start_device_id`.
        start_device_id: Option<String<32>> where Rule::bytes(1, 32),
        /// `end_device_id`.
        end_device_id: Option<String<32>> where Rule::bytes(1, 32),
        /// `materiel_no`.
        materiel_no: Option<String<32>> where Rule::bytes(1, 32),
    }
}

crate::record! {
    /// One instalment of `collection.details` (`promotion_detail` is skipped as unknown).
    pub struct CollectionDetail {
        /// `seq`.
        seq: Option<i64>,
        /// `amount` in fen.
        amount: i64,
        /// `paid_type`.
        paid_type: Option<PaidType>,
        /// `paid_time`, `yyyyMMddHHmmss`.
        paid_time: Option<String<14>>,
        /// `transaction_id`.
        transaction_id: Option<String<32>>,
    }
}

crate::record! {
    /// `collection`: what WeChat collected.
    pub struct Collection {
        /// `state`.
        state: CollectionState,
        /// `total_amount` in fen.
        total_amount: i64,
        /// `paying_amount` in fen.
        paying_amount: Option<i64>,
        /// `paid_amount` in fen.
        paid_amount: Option<i64>,
        /// `details[]`.
        details: Vec<CollectionDetail, DETAILS_CAPACITY>,
    }
}

crate::record! {
    /// A service order, as query, create, modify, complete and sync return it (create adds
    /// `package`), and as the `USER_CONFIRM` / `USER_PAID` callbacks carry it.
    pub struct ServiceOrder<const P: usize = 100, const D: usize = 30> {
        /// `appid`.
        appid: String<32>,
        /// `mchid`.
        mchid: String<32>,
        /// `service_id`.
        service_id: String<32>,
        /// `out_order_no`.
        out_order_no: String<32>,
        /// `service_introduction`, up to 20 characters.
        service_introduction: Option<String<60>>,
        /// `state`.
        state: OrderState,
        /// `state_description`, only while `DOING`.
        state_description: Option<StateDescription>,
        /// `post_payments[]`.
        post_payments: Vec<PostPayment, P>,
        /// `post_discounts[]`.
        post_discounts: Vec<PostDiscount, D>,
        /// `risk_fund`.
        risk_fund: Option<RiskFund>,
        /// `time_range`.
        time_range: Option<TimeRange>,
        /// `location`.
        location: Option<Location>,
        /// `attach`, echoed from create.
        attach: Option<String<256>>,
        /// `notify_url`.
        notify_url: Option<String<255>>,
        /// `order_id`, WeChat's order number.
        order_id: Option<String<128>>,
        /// `package`: opens the user's confirmation page (create only).
        package: Option<String<512>>,
        /// `total_amount` in fen.
        total_amount: Option<i64>,
        /// `need_collection`.
        need_collection: Option<bool>,
        /// `openid`.
        openid: Option<String<128>>,
        /// `collection`.
        collection: Option<Collection>,
    }
}

crate::record! {
    /// What cancel and pay return.
    pub struct OrderAck {
        /// `appid`.
        appid: String<32>,
        /// `mchid`.
        mchid: String<32>,
        /// `out_order_no`.
        out_order_no: String<32>,
        /// `service_id`.
        service_id: String<32>,
        /// `order_id`.
        order_id: Option<String<128>>,
    }
}

/// The identifiers an answer must carry back: the ones the request named.
trait Ids {
    fn ids(&self) -> (&str, &str, &str, &str);
}

impl<const P: usize, const D: usize> Ids for ServiceOrder<P, D> {
    fn ids(&self) -> (&str, &str, &str, &str) {
        (
            &self.mchid,
            &self.appid,
            &self.service_id,
            &self.out_order_no,
        )
    }
}

impl Ids for OrderAck {
    fn ids(&self) -> (&str, &str, &str, &str) {
        (
            &self.mchid,
            &self.appid,
            &self.service_id,
            &self.out_order_no,
        )
    }
}

/// `mchid`, `appid`, `service_id` and (when given) `out_order_no` of `answer` equal the
/// request's.
fn bind_ids(
    answer: &impl Ids,
    mchid: &str,
    appid: &str,
    service_id: &str,
    out_order_no: Option<&str>,
) -> Result<(), VerifyError> {
    let (a_mchid, a_appid, a_service, a_order) = answer.ids();
    bind("mchid", a_mchid, mchid)?;
    bind("appid", a_appid, appid)?;
    bind("service_id", a_service, service_id)?;
    match out_order_no {
        Some(asked) => bind("out_order_no", a_order, asked),
        None => Ok(()),
    }
}

/// Fee item names are unique in an order; `total_amount = Σ payments − Σ discounts ≥ 0`.
fn check_fees(
    payments: &[PostPayment],
    discounts: &[PostDiscount],
    total_amount: Option<i64>,
) -> Result<(), Error> {
    let names = payments
        .iter()
        .map(|p| p.name.as_str())
        .chain(discounts.iter().map(|d| d.name.as_str()));
    for (i, name) in names.clone().enumerate() {
        if names.clone().skip(i + 1).any(|other| other == name) {
            return Err(Error::Invalid {
                field: "name",
                problem: Problem::NotUnique,
            });
        }
    }
    let Some(total) = total_amount else {
        return Ok(());
    };
    let overflow = Error::Invalid {
        field: "amount",
        problem: Problem::OutOfRange {
            min: 0,
            max: i64::MAX,
        },
    };
    let paid = payments
        .iter()
        .try_fold(0i64, |sum, p| sum.checked_add(p.amount))
        .ok_or(overflow)?;
    let discounted = discounts
        .iter()
        .try_fold(0i64, |sum, d| sum.checked_add(d.amount))
        .ok_or(overflow)?;
    if paid.checked_sub(discounted) != Some(total) {
        return Err(Error::Invalid {
            field: "total_amount",
            problem: Problem::Inconsistent {
                rule: "total_amount = Σ post_payments.amount − Σ post_discounts.amount",
            },
        });
    }
    if total < 0 {
        return Err(Error::Invalid {
            field: "total_amount",
            problem: Problem::OutOfRange {
                min: 0,
                max: i64::MAX,
            },
        });
    }
    Ok(())
}

/// `…/serviceorder/{out_order_no}/{action}`.
fn order_target<'b>(buf: &'b mut [u8], out_order_no: &str, action: &str) -> Result<&'b str, Error> {
    check_segment(out_order_no, "out_order_no", &ORDER_NO_RULE)?;
    TargetBuilder::new(buf, SERVICEORDER_PATH)
        .segment(out_order_no)
        .segment(action)
        .finish()
}

crate::record! {
    /// Create: the body of `POST /v3/payscore/serviceorder`, and its [`Call`].
    pub struct CreateOrder<const P: usize = 100, const D: usize = 30> {
        /// `out_order_no`: the merchant's own order number.
        out_order_no: String<32> where ORDER_NO_RULE,
        /// `appid`.
        appid: String<32> where ID_RULE,
        /// `service_id`.
        service_id: String<32> where ID_RULE,
        /// `service_introduction`, 1–20 characters, shown to the user.
        service_introduction: String<60> where Rule::chars(1, 20),
        /// `post_payments[]`, up to 100 at create.
        post_payments: Vec<PostPayment, P> where Rule::items(0, MAX_POST_PAYMENTS),
        /// `post_discounts[]`, up to 30.
        post_discounts: Vec<PostDiscount, D> where Rule::items(0, MAX_POST_DISCOUNTS),
        /// `time_range`.
        time_range: TimeRange,
        /// `location`.
        location: Option<Location>,
        /// `risk_fund`.
        risk_fund: RiskFund,
        /// `attach`, up to 256 bytes, echoed in queries and callbacks.
        attach: Option<String<256>> where Rule::bytes(1, 256),
        /// `notify_url`, where `USER_CONFIRM` / `USER_PAID` go.
        notify_url: String<255> where Rule::bytes(1, 255),
        /// `openid`: only when `need_user_confirm` is false.
        openid: Option<String<128>> where Rule::bytes(1, 128),
        /// `need_user_confirm` (default true; rental kiosks use true).
        need_user_confirm: Option<bool>,
        /// `device`.
        device: Option<Device>,
    }
}

impl<const P: usize, const D: usize> Call for CreateOrder<P, D> {
    const METHOD: Method = Method::Post;
    const SUCCESS: Success = Success::Body;
    type Response = ServiceOrder<P, D>;

    fn target<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        TargetBuilder::new(buf, SERVICEORDER_PATH).finish()
    }
    fn body<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        check_fees(&self.post_payments, &self.post_discounts, None)?;
        if self.need_user_confirm == Some(false) && self.openid.is_none() {
            return Err(Error::Invalid {
                field: "openid",
                problem: Problem::Inconsistent {
                    rule: "required when need_user_confirm is false",
                },
            });
        }
        self.to_json(buf)
    }
    fn parse(&self, body: &[u8]) -> Result<Self::Response, ParseError> {
        ServiceOrder::from_json(body)
    }
    fn parse_into(&self, body: &[u8], out: &mut Self::Response) -> Result<(), ParseError> {
        out.parse_into(body)
    }
    fn check(&self, answer: &Self::Response, mchid: &str) -> Result<(), VerifyError> {
        bind_ids(
            answer,
            mchid,
            &self.appid,
            &self.service_id,
            Some(&self.out_order_no),
        )
    }
}

/// Which order a query names: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // held once per query; boxing needs an allocator
pub enum OrderKey {
    /// `out_order_no`, the merchant's number.
    OutOrderNo(String<32>),
    /// `query_id`, handed to the merchant's mini-program after confirmation (≤ 512 bytes).
    QueryId(String<512>),
}

/// Query an order: `GET /v3/payscore/serviceorder?…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryOrder<const P: usize = 100, const D: usize = 30> {
    /// `out_order_no` or `query_id`.
    pub key: OrderKey,
    /// `service_id`.
    pub service_id: String<32>,
    /// `appid`.
    pub appid: String<32>,
}

impl QueryOrder {
    /// From borrowed text: exactly one of `out_order_no` / `query_id`.
    pub fn new(
        out_order_no: Option<&str>,
        query_id: Option<&str>,
        service_id: &str,
        appid: &str,
    ) -> Result<Self, Error> {
        Self::with_capacity(out_order_no, query_id, service_id, appid)
    }
}

impl<const P: usize, const D: usize> QueryOrder<P, D> {
    /// [`QueryOrder::new`] for an answer of other capacities.
    pub fn with_capacity(
        out_order_no: Option<&str>,
        query_id: Option<&str>,
        service_id: &str,
        appid: &str,
    ) -> Result<Self, Error> {
        let key = match (out_order_no, query_id) {
            (Some(no), None) => OrderKey::OutOrderNo(text("out_order_no", no)?),
            (None, Some(id)) => OrderKey::QueryId(text("query_id", id)?),
            _ => {
                return Err(Error::Invalid {
                    field: "out_order_no",
                    problem: Problem::Inconsistent {
                        rule: "exactly one of out_order_no and query_id",
                    },
                });
            }
        };
        Ok(QueryOrder {
            key,
            service_id: text("service_id", service_id)?,
            appid: text("appid", appid)?,
        })
    }
}

impl<const P: usize, const D: usize> Call for QueryOrder<P, D> {
    const METHOD: Method = Method::Get;
    const SUCCESS: Success = Success::Body;
    type Response = ServiceOrder<P, D>;

    fn target<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        ID_RULE.check_text(&self.service_id, "service_id")?;
        ID_RULE.check_text(&self.appid, "appid")?;
        let builder = TargetBuilder::new(buf, SERVICEORDER_PATH)
            .query("service_id", &self.service_id)
            .query("appid", &self.appid);
        match &self.key {
            OrderKey::OutOrderNo(no) => {
                ORDER_NO_RULE.check_text(no, "out_order_no")?;
                builder.query("out_order_no", no).finish()
            }
            OrderKey::QueryId(id) => {
                Rule::bytes(1, 512).check_text(id, "query_id")?;
                builder.query("query_id", id).finish()
            }
        }
    }
    fn parse(&self, body: &[u8]) -> Result<Self::Response, ParseError> {
        ServiceOrder::from_json(body)
    }
    fn parse_into(&self, body: &[u8], out: &mut Self::Response) -> Result<(), ParseError> {
        out.parse_into(body)
    }
    fn check(&self, answer: &Self::Response, mchid: &str) -> Result<(), VerifyError> {
        let asked = match &self.key {
            OrderKey::OutOrderNo(no) => Some(no.as_str()),
            OrderKey::QueryId(_) => None,
        };
        bind_ids(answer, mchid, &self.appid, &self.service_id, asked)
    }
}

crate::record! {
    /// The body of cancel.
    pub struct CancelBody {
        /// `appid`.
        appid: String<32> where ID_RULE,
        /// `service_id`.
        service_id: String<32> where ID_RULE,
        /// `reason`, 1–50 characters.
        reason: String<150> where REASON_RULE,
    }
}

crate::record! {
    /// The body of pay: the two identifiers.
    pub struct OrderIds {
        /// `appid`.
        appid: String<32> where ID_RULE,
        /// `service_id`.
        service_id: String<32> where ID_RULE,
    }
}

crate::record! {
    /// The body of modify: lower the amount of a completed order.
    pub struct ModifyBody<const P: usize = 100, const D: usize = 30> {
        /// `appid`.
        appid: String<32> where ID_RULE,
        /// `service_id`.
        service_id: String<32> where ID_RULE,
        /// `post_payments[]`, 1–100.
        post_payments: Vec<PostPayment, P> where Rule::items(1, MAX_POST_PAYMENTS),
        /// `post_discounts[]`, up to 30.
        post_discounts: Vec<PostDiscount, D> where Rule::items(0, MAX_POST_DISCOUNTS),
        /// `total_amount` = Σ payments − Σ discounts, ≥ 0.
        total_amount: i64 where AMOUNT_RULE,
        /// `reason`, 1–50 characters.
        reason: String<150> where REASON_RULE,
    }
}

crate::record! {
    /// The body of complete: the real fees.
    pub struct CompleteBody<const P: usize = 100, const D: usize = 30> {
        /// `appid`.
        appid: String<32> where ID_RULE,
        /// `service_id`.
        service_id: String<32> where ID_RULE,
        /// `post_payments[]`, 1–100.
        post_payments: Vec<PostPayment, P> where Rule::items(1, MAX_POST_PAYMENTS),
        /// `post_discounts[]`, up to 30.
        post_discounts: Vec<PostDiscount, D> where Rule::items(0, MAX_POST_DISCOUNTS),
        /// `total_amount` = Σ payments − Σ discounts, ≥ 0.
        total_amount: i64 where AMOUNT_RULE,
        /// `time_range`.
        time_range: Option<TimeRange>,
        /// `location`.
        location: Option<Location>,
        /// `profit_sharing`.
        profit_sharing: Option<bool>,
        /// `goods_tag`, up to 32 bytes (assumed).
        goods_tag: Option<String<32>> where Rule::bytes(1, 32),
    }
}

crate::record! {
    /// `detail` of sync.
    pub struct SyncDetail {
        /// `paid_time`, `yyyyMMddHHmmss`.
        paid_time: String<14> where PAID_TIME_RULE,
    }
}

crate::record! {
    /// The body of sync: the user paid elsewhere.
    pub struct SyncBody {
        /// `appid`.
        appid: String<32> where ID_RULE,
        /// `service_id`.
        service_id: String<32> where ID_RULE,
        /// `type`: `Order_Paid`.
        kind as "type": SyncType,
        /// `detail`.
        detail: SyncDetail,
    }
}

/// Declares a `POST …/{out_order_no}/{action}` call over a body with `appid`/`service_id`.
macro_rules! order_action {
    (
        $(#[$attr:meta])*
        $name:ident $(< $(const $cap:ident = $default:literal),+ >)?,
        $action:literal, $body:ty, $response:ty, |$call:ident| $extra:expr
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name $(< $(const $cap: usize = $default),+ >)? {
            /// `out_order_no` (path).
            pub out_order_no: String<32>,
            /// The body.
            pub body: $body,
        }

        impl<$($(const $cap: usize),+)?> Call for $name<$($($cap),+)?> {
            const METHOD: Method = Method::Post;
            const SUCCESS: Success = Success::Body;
            type Response = $response;

            fn target<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
                order_target(buf, &self.out_order_no, $action)
            }
            fn body<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
                let $call = self;
                $extra?;
                self.body.to_json(buf)
            }
            fn parse(&self, body: &[u8]) -> Result<Self::Response, ParseError> {
                <$response>::from_json(body)
            }
            fn parse_into(&self, body: &[u8], out: &mut Self::Response) -> Result<(), ParseError> {
                $crate::model::Record::parse_into(out, body)
            }
            fn check(&self, answer: &Self::Response, mchid: &str) -> Result<(), VerifyError> {
                bind_ids(
                    answer,
                    mchid,
                    &self.body.appid,
                    &self.body.service_id,
                    Some(&self.out_order_no),
                )
            }
        }
    };
}

order_action! {
    /// Cancel an order: `POST …/{out_order_no}/cancel`.
    CancelOrder, "cancel", CancelBody, OrderAck, |_c| Ok::<(), Error>(())
}
order_action! {
    /// Modify (lower) the amount of a completed order: `POST …/{out_order_no}/modify`.
    ModifyOrder<const P = 100, const D = 30>, "modify", ModifyBody<P, D>, ServiceOrder<P, D>,
    |c| check_fees(&c.body.post_payments, &c.body.post_discounts, Some(c.body.total_amount))
}
order_action! {
    /// Complete an order with the real fees: `POST …/{out_order_no}/complete`.
    CompleteOrder<const P = 100, const D = 30>, "complete", CompleteBody<P, D>, ServiceOrder<P, D>,
    |c| check_fees(&c.body.post_payments, &c.body.post_discounts, Some(c.body.total_amount))
}
order_action! {
    /// Ask WeChat to collect now: `POST …/{out_order_no}/pay`.
    PayOrder, "pay", OrderIds, OrderAck, |_c| Ok::<(), Error>(())
}
order_action! {
    /// The user paid elsewhere: `POST …/{out_order_no}/sync`.
    SyncOrder, "sync", SyncBody, ServiceOrder, |_c| Ok::<(), Error>(())
}

impl CancelOrder {
    /// From borrowed text; a value longer than its capacity is refused with its field named.
    pub fn new(
        out_order_no: &str,
        service_id: &str,
        appid: &str,
        reason: &str,
    ) -> Result<Self, Error> {
        REASON_RULE.check_text(reason, "reason")?;
        Ok(CancelOrder {
            out_order_no: text("out_order_no", out_order_no)?,
            body: CancelBody {
                appid: text("appid", appid)?,
                service_id: text("service_id", service_id)?,
                reason: text("reason", reason)?,
            },
        })
    }
}

impl PayOrder {
    /// From borrowed text.
    pub fn new(out_order_no: &str, service_id: &str, appid: &str) -> Result<Self, Error> {
        Ok(PayOrder {
            out_order_no: text("out_order_no", out_order_no)?,
            body: OrderIds {
                appid: text("appid", appid)?,
                service_id: text("service_id", service_id)?,
            },
        })
    }
}

impl SyncOrder {
    /// From borrowed text; `paid_time` is `yyyyMMddHHmmss`.
    pub fn new(
        out_order_no: &str,
        service_id: &str,
        appid: &str,
        paid_time: &str,
    ) -> Result<Self, Error> {
        Ok(SyncOrder {
            out_order_no: text("out_order_no", out_order_no)?,
            body: SyncBody {
                appid: text("appid", appid)?,
                service_id: text("service_id", service_id)?,
                kind: SyncType::OrderPaid,
                detail: SyncDetail {
                    paid_time: text("paid_time", paid_time)?,
                },
            },
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
