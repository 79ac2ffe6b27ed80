// The query, the identities and the stand-ins, shared word for word by the device code
// (`mod params`) and the build script (`include!`), which prepares the fixture on the host with
// the same values. Plain comments only: this file is also `include!`d.

/// Demo merchant (the emulator's keys, `adapters/emulator/keys/`).
pub const MCHID: &str = "1230000109";
/// Serial of the demo merchant's API certificate.
pub const MERCHANT_SERIAL: &str = "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29";
/// The emulator's platform public-key id: the key responses are signed with.
pub const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000001";
/// `Host` header.
pub const HOST: &str = "api.mch.weixin.qq.com";
/// A raw code with the two characters HTTP stacks treat differently (`|`, `*`).
pub const AUTHORIZATION_CODE: &str = "1234323JKHDFE|1243252*";
/// Payscore service id.
pub const SERVICE_ID: &str = "500001";
/// The device's clock, in Unix seconds: equal to the fixture's `Wechatpay-Timestamp`.
pub const NOW: i64 = 1_700_000_000;
/// `Wechatpay-Nonce` of the prepared response.
pub const RESPONSE_NONCE: &str = "fIRmWaReNoNcE0123456789abcdefGHI";
/// Seeds of the stand-in random sources: request nonce and RSA blinding.
pub const NONCE_SEED: u32 = 0x2545_F491;
/// Blinding seed; blinding does not change a PKCS#1 v1.5 signature, only how it is computed.
pub const BLINDING_SEED: u32 = 0x9E37_79B9;
/// What the secure-element stand-in "signs": every byte of the signature.
pub const SE_SIGNATURE_BYTE: u8 = 0x5A;

/// A deterministic stand-in for a hardware RNG (xorshift32), so the example and its instruction
/// counts repeat exactly. Not random: never use it for real nonces or blinding.
#[derive(Debug, Clone)]
pub struct StandInRng(u32);

impl StandInRng {
    /// A generator starting from `seed` (non-zero).
    pub const fn new(seed: u32) -> Self {
        StandInRng(seed)
    }
}

impl wxpay_core::RandomSource for StandInRng {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), wxpay_core::Error> {
        for byte in dest {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            self.0 = x;
            *byte = (x >> 24) as u8;
        }
        Ok(())
    }
}

/// A secure element stand-in: returns a fixed signature, so no RSA signing code is linked.
#[derive(Debug, Clone, Copy)]
pub struct SecureElementStub;

impl wxpay_core::sign::Signer for SecureElementStub {
    type Error = ();
    fn serial_no(&self) -> &str {
        MERCHANT_SERIAL
    }
    fn sign_prehash(
        &mut self,
        _digest: &wxpay_core::sign::Sha256Digest,
        out: &mut [u8; wxpay_core::sign::SIGNATURE_LEN],
    ) -> Result<(), ()> {
        out.fill(SE_SIGNATURE_BYTE);
        Ok(())
    }
}

/// The device clock: always [`NOW`].
#[derive(Debug, Clone, Copy)]
pub struct FixedClock;

impl wxpay_core::Clock for FixedClock {
    fn unix_seconds(&self) -> i64 {
        NOW
    }
}

/// The record the prepared response carries: every field of the documented record, the
/// newer risk fields, and an unknown field with text beyond ASCII.
pub const RECORD_JSON: &str = concat!(
    r#"{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1230000109","#,
    r#""openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","authorization_code":"1234323JKHDFE|1243252*","#,
    r#""authorization_state":"AVAILABLE","notify_url":"https:\/\/api.test.com\/payscore\/notify","#,
    r#""authorization_success_time":"2015-05-20T13:29:35.120+08:00","#,
    r#""user_risk_level":1,"risk_level_version":2,"remark":"微信支付分"}"#
);

// The rest of the permissions family (variant 5, `full_se_family`).

/// `appid` of the demo merchant's app.
pub const APPID: &str = "wxd678efh567hg6787";
/// The user's openid (the record's).
pub const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
/// The merchant's own id for a new authorization (pre-authorise).
pub const NEW_AUTHORIZATION_CODE: &str = "FW2023111500000001";
/// `notify_url` of the pre-authorisation.
pub const NOTIFY_URL: &str = "https://api.test.com/payscore/notify";
/// Termination reason: characters beyond ASCII, counted as characters against the 50 limit.
pub const TERMINATE_REASON: &str = "用户在设备上解除授权";
/// The token the prepared pre-authorisation response carries.
pub const APPLY_PERMISSIONS_TOKEN: &str =
    "1LLLD3vpwkjLjKWcJg3AHx5ZbVjKmSUd2eQsLRQbLBUwP8cWJdEhGNpeYTexAHEd7p9TpNtRQmcAUsaWDQh0xWfA";
/// `Wechatpay-Nonce` of each prepared family response, in call order.
pub const FAMILY_NONCES: [&str; 4] = [
    "fIRmWaReNoNcE0123456789abcdPRE01",
    "fIRmWaReNoNcE0123456789abcdOID02",
    "fIRmWaReNoNcE0123456789abcdTBC03",
    "fIRmWaReNoNcE0123456789abcdTBO04",
];

// One callback notification (variant 6, `callback`).

/// The emulator's demo APIv3 key (`adapters/emulator`, `demo::APIV3_KEY`).
pub const APIV3_KEY: &str = "wxpayDemoApiV3Key-TEST-ONLY-0001";
/// `resource.nonce` (the AES-GCM nonce, 12 bytes).
pub const CALLBACK_AEAD_NONCE: &str = "fw2Callback1";
/// `resource.associated_data` (close events carry `payscore`, as the emulator sends them).
pub const CALLBACK_ASSOCIATED_DATA: &str = "payscore";
/// `Wechatpay-Nonce` of the callback's headers.
pub const CALLBACK_NONCE: &str = "fIRmWaReNoNcE0123456789abcdCALLB";
/// The notification id.
pub const CALLBACK_ID: &str = "EV-fw2c0ffee0123456789abcd";
/// The decrypted payload: the user closed the service, at the device clock's time (Beijing).
pub const CALLBACK_PAYLOAD: &str = concat!(
    r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","service_id":"500001","#,
    r#""openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","user_service_status":"USER_CLOSE_SERVICE","#,
    r#""openorclose_time":"20231115061320","authorization_code":"1234323JKHDFE|1243252*"}"#
);

// A rental's service order: complete with the real fees, then the USER_PAID callback
// (variant 8, `serviceorder`).

/// Fee items and discounts the device's order type holds: `CompleteOrder<4, 2>`,
/// `ServiceOrder<4, 2>`; an answer with more is refused (`TooMany`), never cut.
pub const ORDER_PAYMENTS: usize = 4;
/// See [`ORDER_PAYMENTS`].
pub const ORDER_DISCOUNTS: usize = 2;
/// The merchant's order number.
pub const OUT_ORDER_NO: &str = "RENT-FW-000001";
/// The real fees, in fen: (name, amount, description); names unique in the order.
pub const ORDER_FEES: [(&str, i64, &str); 2] = [("租借费", 300, "2 小时"), ("充电线", 150, "1 根")];
/// The discount, in fen: (name, amount, description).
pub const ORDER_DISCOUNT: (&str, i64, &str) = ("新人优惠", 100, "首单");
/// `total_amount` of complete: Σ fees − Σ discounts.
pub const ORDER_TOTAL: i64 = 300 + 150 - 100;
/// `time_range` of complete: when the item went out and came back.
pub const ORDER_START_TIME: &str = "20231115041320";
/// See [`ORDER_START_TIME`].
pub const ORDER_END_TIME: &str = "20231115061320";
/// WeChat's order number, as the answers carry it.
pub const ORDER_ID: &str = "15646546545165651651";
/// `transaction_id` of the collection the USER_PAID callback reports.
pub const ORDER_TRANSACTION_ID: &str = "4200000000202311150000000001";
/// `Wechatpay-Nonce` of the signed answer to complete.
pub const COMPLETE_NONCE: &str = "fIRmWaReNoNcE0123456789abcdCMPL1";
/// `Wechatpay-Nonce` of the USER_PAID callback's headers.
pub const PAID_CALLBACK_NONCE: &str = "fIRmWaReNoNcE0123456789abcdPAID1";
/// `resource.nonce` of the USER_PAID callback (12 bytes).
pub const PAID_AEAD_NONCE: &str = "fw8UserPaid1";
/// The USER_PAID notification id.
pub const PAID_CALLBACK_ID: &str = "EV-fw8beef00123456789abcd";

/// The device's order type: a tariff of at most [`ORDER_PAYMENTS`] fees and
/// [`ORDER_DISCOUNTS`] discounts.
pub type DeviceOrder = wxpay_core::api::serviceorder::ServiceOrder<ORDER_PAYMENTS, ORDER_DISCOUNTS>;
/// The device's complete call.
pub type DeviceComplete =
    wxpay_core::api::serviceorder::CompleteOrder<ORDER_PAYMENTS, ORDER_DISCOUNTS>;

/// The complete call the device makes (and the host replays to record the request):
/// two fee items, one discount, the time range.
pub fn complete_order(out_order_no: &str) -> Result<DeviceComplete, wxpay_core::Error> {
    use wxpay_core::api::serviceorder::{CompleteBody, PostDiscount, PostPayment, TimeRange};
    use wxpay_core::model::text;
    let mut post_payments = wxpay_core::heapless::Vec::new();
    for (name, amount, description) in ORDER_FEES {
        post_payments
            .push(PostPayment {
                name: text("name", name)?,
                amount,
                description: Some(text("description", description)?),
                count: Some(1),
            })
            .map_err(|_| wxpay_core::Error::Invalid {
                field: "post_payments",
                problem: wxpay_core::Problem::TooMany {
                    max: ORDER_PAYMENTS,
                },
            })?;
    }
    let (name, amount, description) = ORDER_DISCOUNT;
    let mut post_discounts = wxpay_core::heapless::Vec::new();
    post_discounts
        .push(PostDiscount {
            name: text("name", name)?,
            description: Some(text("description", description)?),
            amount,
            count: Some(1),
        })
        .map_err(|_| wxpay_core::Error::Invalid {
            field: "post_discounts",
            problem: wxpay_core::Problem::TooMany {
                max: ORDER_DISCOUNTS,
            },
        })?;
    Ok(DeviceComplete {
        out_order_no: text("out_order_no", out_order_no)?,
        body: CompleteBody {
            appid: text("appid", APPID)?,
            service_id: text("service_id", SERVICE_ID)?,
            post_payments,
            post_discounts,
            total_amount: ORDER_TOTAL,
            time_range: Some(TimeRange {
                start_time: text("start_time", ORDER_START_TIME)?,
                start_time_remark: None,
                end_time: Some(text("end_time", ORDER_END_TIME)?),
                end_time_remark: None,
            }),
            location: None,
            profit_sharing: None,
            goods_tag: None,
        },
    })
}
