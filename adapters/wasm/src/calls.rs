//! Typed calls by name, for JavaScript: `prepare_call(name, argsJson)` then
//! `finish_call(response)`, the same two steps as the query by code, for every service-order
//! call. Arguments are parsed strictly (an unknown field is refused, so a typo is never
//! dropped) and validated by the core before anything is signed; the answer is verified,
//! bound to the request, parsed and rendered by its declaration.
//!
//! | name | args |
//! |---|---|
//! | `serviceorder.create` | the create body as the API documents it |
//! | `serviceorder.get` | `{out_order_no` or `query_id, service_id, appid}` |
//! | `serviceorder.cancel` | `{out_order_no, service_id, appid, reason}` |
//! | `serviceorder.modify` | `{out_order_no, body}` (`body`: the modify body) |
//! | `serviceorder.complete` | `{out_order_no, body}` (`body`: the complete body) |
//! | `serviceorder.pay` | `{out_order_no, service_id, appid}` |
//! | `serviceorder.sync` | `{out_order_no, service_id, appid, paid_time}` |
//! | `permissions.get` | `{authorization_code, service_id}` |

use heapless::String;
use wxpay_core::api::permissions::QueryByCode;
use wxpay_core::api::serviceorder::{
    CancelOrder, CompleteBody, CompleteOrder, CreateOrder, ModifyBody, ModifyOrder, PayOrder,
    QueryOrder, SyncOrder,
};
use wxpay_core::model::Record;
use wxpay_core::{Call, Error, ParseError, Problem};

wxpay_core::record! {
    /// Arguments of the calls named by an order and its ids.
    pub struct OrderArgs {
        /// `out_order_no`.
        out_order_no: Option<String<32>>,
        /// `query_id` (get only).
        query_id: Option<String<512>>,
        /// `service_id`.
        service_id: String<32>,
        /// `appid`.
        appid: String<32>,
        /// `reason` (cancel).
        reason: Option<String<150>>,
        /// `paid_time` (sync).
        paid_time: Option<String<14>>,
    }
}

wxpay_core::record! {
    /// Arguments of modify.
    pub struct ModifyArgs {
        /// `out_order_no`.
        out_order_no: String<32>,
        /// The modify body.
        body: ModifyBody,
    }
}

wxpay_core::record! {
    /// Arguments of complete.
    pub struct CompleteArgs {
        /// `out_order_no`.
        out_order_no: String<32>,
        /// The complete body.
        body: CompleteBody,
    }
}

wxpay_core::record! {
    /// Arguments of the query by authorization code.
    pub struct ByCodeArgs {
        /// `authorization_code`.
        authorization_code: String<32>,
        /// `service_id`.
        service_id: String<32>,
    }
}

/// A prepared call, kept until its answer comes back (boxed: orders are large).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// `permissions.get`.
    ByCode(Box<QueryByCode>),
    /// `serviceorder.create`.
    Create(Box<CreateOrder>),
    /// `serviceorder.get`.
    Query(Box<QueryOrder>),
    /// `serviceorder.cancel`.
    Cancel(Box<CancelOrder>),
    /// `serviceorder.modify`.
    Modify(Box<ModifyOrder>),
    /// `serviceorder.complete`.
    Complete(Box<CompleteOrder>),
    /// `serviceorder.pay`.
    Pay(Box<PayOrder>),
    /// `serviceorder.sync`.
    Sync(Box<SyncOrder>),
}

/// Arguments that are not what the call documents.
fn args_error(error: ParseError) -> Error {
    let field = match error {
        ParseError::MissingField { field }
        | ParseError::DuplicateField { field }
        | ParseError::WrongType { field }
        | ParseError::FieldTooLong { field, .. }
        | ParseError::InvalidValue { field }
        | ParseError::TooMany { field, .. } => field,
        _ => "args",
    };
    Error::Invalid {
        field,
        problem: Problem::Inconsistent {
            rule: "arguments must be the documented JSON (unknown fields are refused)",
        },
    }
}

fn parse<R: Record>(args: &[u8]) -> Result<R, Error> {
    R::from_json_strict(args).map_err(args_error)
}

fn required<'a>(value: Option<&'a str>, field: &'static str) -> Result<&'a str, Error> {
    value.ok_or(Error::Invalid {
        field,
        problem: Problem::Empty,
    })
}

impl Pending {
    /// The call named `name` with `args` (JSON).
    pub fn new(name: &str, args: &[u8]) -> Result<Pending, Error> {
        let order = || parse::<OrderArgs>(args);
        Ok(match name {
            "permissions.get" => {
                let a: ByCodeArgs = parse(args)?;
                Pending::ByCode(Box::new(QueryByCode {
                    authorization_code: a.authorization_code,
                    service_id: a.service_id,
                }))
            }
            "serviceorder.create" => Pending::Create(Box::new(parse(args)?)),
            "serviceorder.get" => {
                let a = order()?;
                Pending::Query(Box::new(QueryOrder::new(
                    a.out_order_no.as_deref(),
                    a.query_id.as_deref(),
                    &a.service_id,
                    &a.appid,
                )?))
            }
            "serviceorder.cancel" => {
                let a = order()?;
                Pending::Cancel(Box::new(CancelOrder::new(
                    required(a.out_order_no.as_deref(), "out_order_no")?,
                    &a.service_id,
                    &a.appid,
                    required(a.reason.as_deref(), "reason")?,
                )?))
            }
            "serviceorder.modify" => {
                let a: ModifyArgs = parse(args)?;
                Pending::Modify(Box::new(ModifyOrder {
                    out_order_no: a.out_order_no,
                    body: a.body,
                }))
            }
            "serviceorder.complete" => {
                let a: CompleteArgs = parse(args)?;
                Pending::Complete(Box::new(CompleteOrder {
                    out_order_no: a.out_order_no,
                    body: a.body,
                }))
            }
            "serviceorder.pay" => {
                let a = order()?;
                Pending::Pay(Box::new(PayOrder::new(
                    required(a.out_order_no.as_deref(), "out_order_no")?,
                    &a.service_id,
                    &a.appid,
                )?))
            }
            "serviceorder.sync" => {
                let a = order()?;
                Pending::Sync(Box::new(SyncOrder::new(
                    required(a.out_order_no.as_deref(), "out_order_no")?,
                    &a.service_id,
                    &a.appid,
                    required(a.paid_time.as_deref(), "paid_time")?,
                )?))
            }
            _ => {
                return Err(Error::Invalid {
                    field: "name",
                    problem: Problem::NotInSet {
                        allowed: "permissions.get, serviceorder.create, serviceorder.get, \
                                  serviceorder.cancel, serviceorder.modify, \
                                  serviceorder.complete, serviceorder.pay, serviceorder.sync",
                    },
                });
            }
        })
    }

    /// Runs `f` with the call inside (each a different `Call` type).
    pub fn with<T>(&self, f: impl CallVisitor<Output = T>) -> T {
        match self {
            Pending::ByCode(c) => f.visit(&**c),
            Pending::Create(c) => f.visit(&**c),
            Pending::Query(c) => f.visit(&**c),
            Pending::Cancel(c) => f.visit(&**c),
            Pending::Modify(c) => f.visit(&**c),
            Pending::Complete(c) => f.visit(&**c),
            Pending::Pay(c) => f.visit(&**c),
            Pending::Sync(c) => f.visit(&**c),
        }
    }
}

/// Something done with a call whose answer is a declared record.
pub trait CallVisitor {
    /// What it gives.
    type Output;
    /// Does it.
    fn visit<Q: Call>(self, call: &Q) -> Self::Output
    where
        Q::Response: Record;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arguments() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, bool)] = &[
            ("serviceorder.get",    r#"{"out_order_no":"RENT-0001","service_id":"1","appid":"wx"}"#, true),
            ("serviceorder.get",    r#"{"out_order_no":"RENT-0001","query_id":"q","service_id":"1","appid":"wx"}"#, false),
            ("serviceorder.get",    r#"{"out_order_no":"RENT-0001","service_id":"1","appid":"wx","typo":1}"#, false),
            ("serviceorder.cancel", r#"{"out_order_no":"RENT-0001","service_id":"1","appid":"wx"}"#, false),
            ("serviceorder.cancel", r#"{"out_order_no":"RENT-0001","service_id":"1","appid":"wx","reason":"r"}"#, true),
            ("serviceorder.sync",   r#"{"out_order_no":"RENT-0001","service_id":"1","appid":"wx","paid_time":"20260101120000"}"#, true),
            ("serviceorder.pay",    r#"{"out_order_no":"RENT-0001","service_id":"1","appid":"wx"}"#, true),
            ("serviceorder.complete", r#"{"out_order_no":"RENT-0001","body":{"appid":"wx","service_id":"1","post_payments":[{"name":"fee","amount":1}],"total_amount":1}}"#, true),
            ("serviceorder.complete", r#"{"out_order_no":"RENT-0001","body":{"appid":"wx","service_id":"1","post_payment":[]}}"#, false),
            ("permissions.get",     r#"{"authorization_code":"a|b","service_id":"1"}"#, true),
            ("serviceorder.refund", r#"{}"#, false),
        ];
        for (name, args, ok) in cases {
            assert_eq!(
                Pending::new(name, args.as_bytes()).is_ok(),
                *ok,
                "{name} {args}"
            );
        }
    }
}
