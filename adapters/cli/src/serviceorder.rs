//! `wxpay serviceorder …` (Payscore service orders) and `wxpay request` (any endpoint, signed
//! and verified).
//!
//! `--data` is the request body as the API documents it. It is read into the typed request
//! (an unknown field is refused with its name, so a typo is never dropped), validated by the
//! core before anything is signed, and written canonically.

use clap::{Args, Subcommand};
use serde_json::Value;
use wxpay_core::api::serviceorder::{
    CancelOrder, CompleteBody, CompleteOrder, CreateOrder, ModifyBody, ModifyOrder, PayOrder,
    QueryOrder, SyncOrder,
};
use wxpay_core::model::{Record, text};
use wxpay_core::{Call, Method, ParseError};

use crate::input::{MAX_BODY_BYTES, read_bounded};
use crate::{Connection, Failure, client_failure, connect, output, request_failure, segment};

/// Room for a request body and its answer.
const WORK_BUFFER: usize = 256 * 1024;

#[derive(Debug, Subcommand)]
// Each subcommand's options are defined when it is parsed, not on every run.
#[command(defer = true)]
pub(crate) enum ServiceOrderCmd {
    /// Create a service order (`--data`: the create body as the API documents it).
    #[command(after_help = crate::AFTER_HELP)]
    Create {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        conn: Connection,
    },
    /// Query an order by out_order_no or by query_id.
    #[command(after_help = crate::AFTER_HELP)]
    Get {
        /// The merchant's order number.
        #[arg(
            long,
            env = "WXPAY_OUT_ORDER_NO",
            required_unless_present = "query_id",
            conflicts_with = "query_id"
        )]
        out_order_no: Option<String>,
        /// The query_id handed to the mini-program after confirmation.
        #[arg(long, env = "WXPAY_QUERY_ID")]
        query_id: Option<String>,
        #[command(flatten)]
        ids: Ids,
        #[command(flatten)]
        conn: Connection,
    },
    /// Cancel an order (at most 50 characters of reason).
    #[command(after_help = crate::AFTER_HELP)]
    Cancel {
        #[command(flatten)]
        order: OrderNo,
        #[command(flatten)]
        ids: Ids,
        /// Why (1 to 50 characters).
        #[arg(long, env = "WXPAY_REASON")]
        reason: String,
        #[command(flatten)]
        conn: Connection,
    },
    /// Lower the amount of a completed order (`--data`: the modify body).
    #[command(after_help = crate::AFTER_HELP)]
    Modify {
        #[command(flatten)]
        order: OrderNo,
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        conn: Connection,
    },
    /// Complete an order with the real fees (`--data`: the complete body).
    #[command(after_help = crate::AFTER_HELP)]
    Complete {
        #[command(flatten)]
        order: OrderNo,
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        conn: Connection,
    },
    /// Ask WeChat Pay to collect a completed order now.
    #[command(after_help = crate::AFTER_HELP)]
    Pay {
        #[command(flatten)]
        order: OrderNo,
        #[command(flatten)]
        ids: Ids,
        #[command(flatten)]
        conn: Connection,
    },
    /// Tell WeChat Pay the user paid elsewhere.
    #[command(after_help = crate::AFTER_HELP)]
    Sync {
        #[command(flatten)]
        order: OrderNo,
        #[command(flatten)]
        ids: Ids,
        /// When the user paid, yyyyMMddHHmmss (Beijing time).
        #[arg(long, env = "WXPAY_PAID_TIME")]
        paid_time: String,
        #[command(flatten)]
        conn: Connection,
    },
}

// `--data FILE|-`.
#[derive(Debug, Args)]
pub(crate) struct Data {
    /// The request body, JSON as the API documents it: a file, or - for stdin.
    #[arg(long, env = "WXPAY_DATA", value_name = "FILE|-")]
    data: String,
}

// `--out-order-no`.
#[derive(Debug, Args)]
pub(crate) struct OrderNo {
    /// The merchant's order number.
    #[arg(long, env = "WXPAY_OUT_ORDER_NO")]
    out_order_no: String,
}

// `--service-id` and `--appid`.
#[derive(Debug, Args)]
pub(crate) struct Ids {
    /// Payscore service id.
    #[arg(long, env = "WXPAY_SERVICE_ID")]
    service_id: String,
    /// App id.
    #[arg(long, env = "WXPAY_APPID")]
    appid: String,
}

// `wxpay request METHOD TARGET [--data FILE|-]`.
#[derive(Debug, Args)]
pub(crate) struct RequestArgs {
    /// GET, POST, PUT, PATCH or DELETE.
    method: String,
    /// The request target, path and query, already percent-encoded, e.g.
    /// /v3/payscore/serviceorder?service_id=1&appid=wx&out_order_no=A1 (it is signed and sent
    /// exactly as given).
    target: String,
    /// The request body: a file, or - for stdin (sent and signed byte for byte).
    #[arg(long, env = "WXPAY_DATA", value_name = "FILE|-")]
    data: Option<String>,
    #[command(flatten)]
    conn: Connection,
}

/// Reads `--data` into a typed body: strict (unknown fields refused by name).
fn read_data<R: Record>(data: &Data) -> Result<R, Failure> {
    let bytes = read_bounded(&data.data, MAX_BODY_BYTES, "data")?;
    R::from_json_strict(&bytes).map_err(|e| data_failure(&data.data, &bytes, e))
}

/// `--data` that is not the documented body: the line names the field.
fn data_failure(source: &str, bytes: &[u8], error: ParseError) -> Failure {
    let what = match error {
        ParseError::UnknownField { offset } => {
            let key = bytes
                .get(offset..)
                .and_then(|rest| {
                    let rest = rest.strip_prefix(b"\"")?;
                    let end = rest.iter().position(|b| *b == b'"')?;
                    std::str::from_utf8(rest.get(..end)?).ok()
                })
                .unwrap_or("?");
            format!("unknown field `{key}` (not in the documented body)")
        }
        other => other.to_string(),
    };
    Failure::usage(format!("--data {source}: {what}"))
}

impl OrderNo {
    /// The order number as a path segment: not empty, `.` or `..`, and within its capacity.
    fn checked(&self) -> Result<wxpay_core::heapless::String<32>, Failure> {
        segment("--out-order-no", &self.out_order_no)?;
        text("out_order_no", &self.out_order_no).map_err(request_failure)
    }
}

/// Signs, sends and verifies `request`, and renders the answer bound to it.
fn send<Q: Call>(conn: &Connection, sandbox: bool, request: &Q) -> Result<Value, Failure>
where
    Q::Response: Record,
{
    let (mut client, _emulator) = connect(conn, sandbox)?;
    let mut work = vec![0u8; WORK_BUFFER];
    let answer = client.call(request, &mut work).map_err(client_failure)?;
    Ok(output::render(&answer))
}

pub(crate) fn run(cmd: ServiceOrderCmd, sandbox: bool) -> Result<Value, Failure> {
    match cmd {
        ServiceOrderCmd::Create { data, conn } => {
            let request: CreateOrder = read_data(&data)?;
            send(&conn, sandbox, &request)
        }
        ServiceOrderCmd::Get {
            out_order_no,
            query_id,
            ids,
            conn,
        } => {
            let request = QueryOrder::new(
                out_order_no.as_deref(),
                query_id.as_deref(),
                &ids.service_id,
                &ids.appid,
            )
            .map_err(request_failure)?;
            send(&conn, sandbox, &request)
        }
        ServiceOrderCmd::Cancel {
            order,
            ids,
            reason,
            conn,
        } => {
            segment("--out-order-no", &order.out_order_no)?;
            let request =
                CancelOrder::new(&order.out_order_no, &ids.service_id, &ids.appid, &reason)
                    .map_err(request_failure)?;
            send(&conn, sandbox, &request)
        }
        ServiceOrderCmd::Modify { order, data, conn } => {
            let request = ModifyOrder {
                out_order_no: order.checked()?,
                body: read_data::<ModifyBody>(&data)?,
            };
            send(&conn, sandbox, &request)
        }
        ServiceOrderCmd::Complete { order, data, conn } => {
            let request = CompleteOrder {
                out_order_no: order.checked()?,
                body: read_data::<CompleteBody>(&data)?,
            };
            send(&conn, sandbox, &request)
        }
        ServiceOrderCmd::Pay { order, ids, conn } => {
            segment("--out-order-no", &order.out_order_no)?;
            let request = PayOrder::new(&order.out_order_no, &ids.service_id, &ids.appid)
                .map_err(request_failure)?;
            send(&conn, sandbox, &request)
        }
        ServiceOrderCmd::Sync {
            order,
            ids,
            paid_time,
            conn,
        } => {
            segment("--out-order-no", &order.out_order_no)?;
            let request =
                SyncOrder::new(&order.out_order_no, &ids.service_id, &ids.appid, &paid_time)
                    .map_err(request_failure)?;
            send(&conn, sandbox, &request)
        }
    }
}

/// `wxpay request`: any endpoint, signed, sent, verified; prints the verified body (`{}` for
/// an empty one, e.g. a 204).
pub(crate) fn request(args: RequestArgs, sandbox: bool) -> Result<Value, Failure> {
    let method = Method::parse(&args.method.to_ascii_uppercase()).ok_or_else(|| {
        Failure::usage(format!(
            "METHOD {}: not GET, POST, PUT, PATCH or DELETE",
            args.method
        ))
    })?;
    check_target(&args.target)?;
    let body = match &args.data {
        Some(source) => read_bounded(source, MAX_BODY_BYTES, "data")?,
        None => Default::default(),
    };
    let (mut client, _emulator) = connect(&args.conn, sandbox)?;
    let mut response = vec![0u8; WORK_BUFFER];
    let verified = client
        .send(method, &args.target, &body, &mut response)
        .map_err(client_failure)?;
    if verified.body.is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(verified.body).map_err(|e| {
        Failure::new(
            crate::Exit::Parse,
            format!(
                "the verified body is not JSON: {e}{}",
                verified
                    .request_id
                    .as_deref()
                    .map(|id| format!(" (Request-ID {id})"))
                    .unwrap_or_default()
            ),
        )
    })
}

/// TARGET is sent exactly as signed: it must already be percent-encoded, start with `/`, and
/// name no `.` or `..` segment (a proxy would resolve it to another endpoint).
fn check_target(target: &str) -> Result<(), Failure> {
    let bad = |why: &str| Err(Failure::usage(format!("TARGET {target}: {why}")));
    if !target.starts_with('/') {
        return bad("must start with /");
    }
    if let Some(c) = target.chars().find(|c| {
        !c.is_ascii_graphic()
            || matches!(
                c,
                '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' | '#'
            )
    }) {
        return bad(&format!(
            "{c:?} must be percent-encoded (the target is signed and sent exactly as given)"
        ));
    }
    let path = target.split('?').next().unwrap_or_default();
    if path
        .split('/')
        .skip(1)
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return bad("has an empty, `.` or `..` path segment");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        #[rustfmt::skip]
        let cases: &[(&str, bool)] = &[
            ("/v3/payscore/serviceorder?service_id=1&appid=wx&out_order_no=A1", true),
            ("/v3/certificates", true),
            ("/v3/payscore/permissions/authorization-code/a%7Cb", true),
            ("v3/x", false),
            ("/v3/x y", false),
            ("/v3/a|b", false),
            ("/v3/../certificates", false),
            ("/v3/./x", false),
            ("/v3//x", false),
            ("/v3/x#frag", false),
            ("/v3/中", false),
        ];
        for (target, ok) in cases {
            assert_eq!(check_target(target).is_ok(), *ok, "{target}");
        }
    }

    #[test]
    fn unknown_data_fields_are_named() {
        let bytes = br#"{"appid":"wx","servce_id":"1"}"#;
        let error = ModifyBody::<100, 30>::from_json_strict(bytes)
            .map(|_| ())
            .map_err(|e| data_failure("body.json", bytes, e).1);
        assert_eq!(
            error,
            Err("--data body.json: unknown field `servce_id` (not in the documented body)".into())
        );
    }
}
