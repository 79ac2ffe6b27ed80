use super::*;
use crate::model::Record;
use std::string::String as StdString;
use std::{format, vec};

/// A complete answer with every documented field, as the API writes it.
pub(crate) const ORDER: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","service_id":"500001","out_order_no":"RENT-0001","service_introduction":"充电宝租借","state":"DONE","state_description":"MCH_COMPLETE","post_payments":[{"name":"租借费","amount":300,"description":"2 小时","count":1}],"post_discounts":[{"name":"新人优惠","description":"首单","amount":100,"count":1}],"risk_fund":{"name":"DEPOSIT","amount":9900,"description":"充电宝押金"},"time_range":{"start_time":"20260101120000","end_time":"20260101140000"},"location":{"start_location":"一号柜","end_location":"二号柜"},"attach":"kiosk=7","notify_url":"https://kiosk.example.com/notify","order_id":"15646546545165651651","total_amount":200,"need_collection":true,"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","collection":{"state":"USER_PAID","total_amount":200,"paying_amount":0,"paid_amount":200,"details":[{"seq":1,"amount":200,"paid_type":"NEWTON","paid_time":"20260101140500","transaction_id":"4200000000000000000000000001","promotion_detail":[{"coupon_id":"x","amount":1,"goods_detail":[{"a":1}]}]}]},"new_field":{"x":[1,2]}}"#;

fn s<const N: usize>(t: &str) -> heapless::String<N> {
    heapless::String::try_from(t).unwrap_or_else(|_| std::panic!("{t} fits"))
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

fn create() -> CreateOrder {
    CreateOrder {
        out_order_no: s("RENT-0001"),
        appid: s("wxd678efh567hg6787"),
        service_id: s("500001"),
        service_introduction: s("充电宝租借"),
        post_payments: Vec::new(),
        post_discounts: Vec::new(),
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
        attach: None,
        notify_url: s("https://kiosk.example.com/notify"),
        openid: None,
        need_user_confirm: Some(true),
        device: None,
    }
}

fn complete(payments: &[PostPayment], discounts: &[PostDiscount], total: i64) -> CompleteOrder {
    CompleteOrder {
        out_order_no: s("RENT-0001"),
        body: CompleteBody {
            appid: s("wxd678efh567hg6787"),
            service_id: s("500001"),
            post_payments: Vec::from_slice(payments).unwrap_or_default(),
            post_discounts: Vec::from_slice(discounts).unwrap_or_default(),
            total_amount: total,
            time_range: None,
            location: None,
            profit_sharing: None,
            goods_tag: None,
        },
    }
}

fn body_of(call: &impl Call) -> Result<StdString, Error> {
    let mut buf = vec![0u8; BODY_CAPACITY];
    call.body(&mut buf).map(Into::into)
}

fn invalid(field: &'static str, problem: Problem) -> Result<StdString, Error> {
    Err(Error::Invalid { field, problem })
}

#[test]
fn order_parses_renders_and_round_trips() {
    let order = ServiceOrder::<100, 30>::from_json(ORDER.as_bytes());
    let order = order.unwrap_or_else(|e| std::panic!("{e}"));
    assert_eq!(order.state, OrderState::Done);
    assert_eq!(order.post_payments.len(), 1);
    assert_eq!(order.post_payments.first().map(|p| p.amount), Some(300));
    let collection = order.collection.as_ref();
    assert_eq!(
        collection.map(|c| c.state.clone()),
        Some(CollectionState::UserPaid)
    );
    assert_eq!(
        collection
            .and_then(|c| c.details.first())
            .and_then(|d| d.transaction_id.as_deref()),
        Some("4200000000000000000000000001")
    );
    let mut buf = vec![0u8; 8192];
    let rendered = order.write_json(&mut buf).map(StdString::from);
    let again = rendered
        .as_deref()
        .map(|r| ServiceOrder::<100, 30>::from_json(r.as_bytes()));
    assert_eq!(again, Ok(Ok(order.clone())));
    // Small capacities hold small orders, and refuse larger ones rather than cut them.
    assert!(ServiceOrder::<1, 1>::from_json(ORDER.as_bytes()).is_ok());
    assert_eq!(
        ServiceOrder::<0, 1>::from_json(ORDER.as_bytes()),
        Err(ParseError::TooMany {
            field: "post_payments",
            max: 0
        })
    );
}

#[test]
fn order_parse_errors_name_the_field() {
    let with = |from: &str, to: &str| ORDER.replacen(from, to, 1);
    #[rustfmt::skip]
    let cases: &[(StdString, ParseError)] = &[
        (with(r#""state":"DONE","#, ""),                                 ParseError::MissingField { field: "state" }),
        (with(r#""mchid":"1230000109","#, r#""mchid":"1230000109","mchid":"1","#), ParseError::DuplicateField { field: "mchid" }),
        (with(r#""amount":300"#, r#""amount":"300""#),                   ParseError::WrongType { field: "amount" }),
        (with(r#""total_amount":200,"need"#, r#""total_amount":2.5,"need"#), ParseError::WrongType { field: "total_amount" }),
        (with("RENT-0001", &"R".repeat(33)),                              ParseError::FieldTooLong { field: "out_order_no", max: 32 }),
        (with(r#""need_collection":true"#, r#""need_collection":1"#),    ParseError::WrongType { field: "need_collection" }),
        (with(r#""details":[{"#, &format!(r#""details":[{}{{"#, r#"{"amount":1},"#.repeat(10))), ParseError::TooMany { field: "details", max: DETAILS_CAPACITY }),
    ];
    for (body, want) in cases {
        assert_eq!(
            ServiceOrder::<100, 30>::from_json(body.as_bytes()),
            Err(*want),
            "{body}"
        );
    }
}

#[test]
fn create_body_is_canonical() {
    assert_eq!(
        body_of(&create()).as_deref(),
        Ok(
            r#"{"out_order_no":"RENT-0001","appid":"wxd678efh567hg6787","service_id":"500001","service_introduction":"充电宝租借","time_range":{"start_time":"OnAccept"},"risk_fund":{"name":"DEPOSIT","amount":9900,"description":"充电宝押金"},"notify_url":"https://kiosk.example.com/notify","need_user_confirm":true}"#
        )
    );
    // A request a user wrote parses strictly: a typo is an error, not dropped.
    let typo = r#"{"out_order_no":"RENT-0001","appid":"a","service_id":"1","service_introduction":"x","time_range":{"start_time":"OnAccept"},"risk_fund":{"name":"DEPOSIT","amount":1},"notify_url":"https://x","need_user_confim":true}"#;
    assert!(matches!(
        CreateOrder::<100, 30>::from_json_strict(typo.as_bytes()),
        Err(ParseError::UnknownField { .. })
    ));
}

/// Every validation rule, one line each, naming the field; nothing is written when refused.
#[test]
fn validation_table() {
    let mut long_intro = create();
    long_intro.service_introduction = s(&"a".repeat(21));
    let mut bad_no = create();
    bad_no.out_order_no = s("RENT 0001");
    let mut short_no = create();
    short_no.out_order_no = s("R1");
    let mut bad_start = create();
    bad_start.time_range.start_time = s("20261301120000");
    let mut date_start = create();
    date_start.time_range.start_time = s("20260101");
    let mut bad_end = create();
    bad_end.time_range.end_time = Some(s("OnAccept"));
    let mut bad_fund = create();
    bad_fund.risk_fund.name = RiskFundName::Other(s("BAIL"));
    let mut dup_names = create();
    dup_names.post_payments = Vec::from_slice(&[payment("租借费", 1)]).unwrap_or_default();
    dup_names.post_discounts = Vec::from_slice(&[discount("租借费", 1)]).unwrap_or_default();
    let mut no_openid = create();
    no_openid.need_user_confirm = Some(false);
    let long_name = payment(&"f".repeat(21), 1);
    let p = |a| payment("租借费", a);
    let d = |a| discount("优惠", a);
    #[rustfmt::skip]
    let cases: std::vec::Vec<(Result<StdString, Error>, Result<StdString, Error>)> = vec![
        (body_of(&long_intro), invalid("service_introduction", Problem::TooManyChars { max: 20 })),
        (body_of(&bad_no),     invalid("out_order_no", Problem::Charset { allowed: "[0-9A-Za-z_-|*] (6 to 32)" })),
        (body_of(&short_no),   invalid("out_order_no", Problem::Empty)),
        (body_of(&bad_start),  invalid("start_time", Problem::Time { format: "yyyyMMddHHmmss, yyyyMMdd or OnAccept" })),
        (body_of(&bad_end),    invalid("end_time", Problem::Time { format: "yyyyMMddHHmmss or yyyyMMdd" })),
        (body_of(&bad_fund),   invalid("name", Problem::NotInSet { allowed: "DEPOSIT ADVANCE CASH_DEPOSIT ESTIMATE_ORDER_COST " })),
        (body_of(&dup_names),  invalid("name", Problem::NotUnique)),
        (body_of(&no_openid),  invalid("openid", Problem::Inconsistent { rule: "required when need_user_confirm is false" })),
        (body_of(&complete(&[], &[], 0)),              invalid("post_payments", Problem::TooFew { min: 1 })),
        (body_of(&complete(&[p(300)], &[d(100)], 300)), invalid("total_amount", Problem::Inconsistent { rule: "total_amount = Σ post_payments.amount − Σ post_discounts.amount" })),
        (body_of(&complete(&[p(100)], &[d(300)], -200)), invalid("total_amount", Problem::OutOfRange { min: 0, max: i64::MAX })),
        (body_of(&complete(&[p(-1)], &[], -1)),        invalid("total_amount", Problem::OutOfRange { min: 0, max: i64::MAX })),
        (body_of(&complete(&[long_name], &[], 1)),     invalid("name", Problem::TooManyChars { max: 20 })),
        (body_of(&complete(&[p(i64::MAX), payment("b", 1)], &[], 0)), invalid("amount", Problem::OutOfRange { min: 0, max: i64::MAX })),
        (body_of(&CancelOrder { body: CancelBody { reason: s(&"r".repeat(51)), ..CancelOrder::new("RENT-0001", "1", "a", "r").unwrap_or_else(|e| std::panic!("{e}")).body }, out_order_no: s("RENT-0001") }),
                               invalid("reason", Problem::TooManyChars { max: 50 })),
        (body_of(&SyncOrder::new("RENT-0001", "1", "a", "2026010112").unwrap_or_else(|e| std::panic!("{e}"))), invalid("paid_time", Problem::Time { format: "yyyyMMddHHmmss" })),
    ];
    for (i, (got, want)) in cases.iter().enumerate() {
        assert_eq!(got, want, "case {i}");
    }
    assert!(body_of(&date_start).is_ok());
    assert!(body_of(&complete(&[p(300)], &[d(100)], 200)).is_ok());
    assert_eq!(
        CancelOrder::new("RENT-0001", "1", "a", &"退".repeat(51)).map(|_| ()),
        Err(Error::Invalid {
            field: "reason",
            problem: Problem::TooManyChars { max: 50 }
        })
    );
    assert_eq!(
        QueryOrder::new(Some("RENT-0001"), Some("q"), "1", "a").map(|_| ()),
        Err(Error::Invalid {
            field: "out_order_no",
            problem: Problem::Inconsistent {
                rule: "exactly one of out_order_no and query_id"
            }
        })
    );
    assert!(QueryOrder::new(None, None, "1", "a").is_err());
}

#[test]
fn targets() {
    let mut buf = [0u8; crate::call::TARGET_CAPACITY];
    let q = QueryOrder::new(Some("RENT-0001"), None, "500001", "wxd678efh567hg6787");
    assert_eq!(
        q.map(|q| q.target(&mut buf).map(StdString::from)),
        Ok(Ok("/v3/payscore/serviceorder?service_id=500001&appid=wxd678efh567hg6787&out_order_no=RENT-0001".into()))
    );
    let q = QueryOrder::new(None, Some("15646546545165651651"), "500001", "wx");
    assert_eq!(
        q.map(|q| q.target(&mut buf).map(StdString::from)),
        Ok(Ok(
            "/v3/payscore/serviceorder?service_id=500001&appid=wx&query_id=15646546545165651651"
                .into()
        ))
    );
    let pay = PayOrder::new("RENT|0001*", "1", "a").unwrap_or_else(|e| std::panic!("{e}"));
    assert_eq!(
        pay.target(&mut buf),
        Ok("/v3/payscore/serviceorder/RENT%7C0001%2A/pay")
    );
}

#[test]
fn answers_are_bound_to_requests() {
    let order =
        ServiceOrder::<100, 30>::from_json(ORDER.as_bytes()).unwrap_or_else(|e| std::panic!("{e}"));
    let query = |no: &str, service: &str, appid: &str| {
        QueryOrder::new(Some(no), None, service, appid).unwrap_or_else(|e| std::panic!("{e}"))
    };
    let mismatch = |field| Err(VerifyError::Mismatch { field });
    #[rustfmt::skip]
    let cases: &[(Result<(), VerifyError>, Result<(), VerifyError>)] = &[
        (query("RENT-0001", "500001", "wxd678efh567hg6787").check(&order, "1230000109"), Ok(())),
        (query("RENT-0002", "500001", "wxd678efh567hg6787").check(&order, "1230000109"), mismatch("out_order_no")),
        (query("RENT-0001", "500002", "wxd678efh567hg6787").check(&order, "1230000109"), mismatch("service_id")),
        (query("RENT-0001", "500001", "wxother").check(&order, "1230000109"),             mismatch("appid")),
        (query("RENT-0001", "500001", "wxd678efh567hg6787").check(&order, "1900000000"), mismatch("mchid")),
        (complete(&[], &[], 0).check(&order, "1230000109"),                                Ok(())),
        (create().check(&order, "1230000109"),                                             Ok(())),
    ];
    for (i, (got, want)) in cases.iter().enumerate() {
        assert_eq!(got, want, "case {i}");
    }
}

/// What the default capacities cost; reported in docs/design.md.
#[test]
#[allow(clippy::print_stdout)]
fn sizes() {
    let order = core::mem::size_of::<ServiceOrder>();
    let small = core::mem::size_of::<ServiceOrder<4, 2>>();
    let complete = core::mem::size_of::<CompleteOrder>();
    std::println!(
        "ServiceOrder: {order} B; ServiceOrder<4, 2>: {small} B; CompleteOrder: {complete} B"
    );
    assert!(small < order / 4);
}
