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
