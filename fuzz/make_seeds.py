#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from ../shared/vectors/vectors.json,
emulator-like bodies and edge cases. Input formats: see tests/src/fuzz_harness.rs.

Run from anywhere: python3 fuzz/make_seeds.py. It only adds or overwrites its own `seed-*`
files; files the fuzzer added (named by their SHA-1) are left alone.
"""

import base64
import json
import pathlib

FUZZ = pathlib.Path(__file__).resolve().parent
VECTORS = json.loads((FUZZ / "../../shared/vectors/vectors.json").read_text())
KEYS = VECTORS["keys"]
NOW = "1554208460"
SERIAL = "PUB_KEY_ID_0114232134912410000000000000"  # FUZZ_SERIAL in the harness
REJECT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
MARKER_SIG = base64.b64encode(bytes([0x5A]) * 256).decode()  # accepted by MarkerVerifier
NONCE = "593BEC0C930BF1AFEB40B4A08C8FB242"

FULL = (
    '{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1230000109",'
    '"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","authorization_code":"1234323JKHDFE1243252",'
    '"authorization_state":"AVAILABLE","notify_url":"https://api.test.com/payscore/notify",'
    '"cancel_authorization_time":"2015-05-21T08:00:01+08:00",'
    '"authorization_success_time":"2015-05-20T13:29:35.120+08:00",'
    '"user_risk_level":2,"risk_level_version":1}'
)

# Bodies an emulator (or WeChat Pay) sends for the authorization-record query, and edge cases.
RECORDS = {
    "full": FULL,
    "minimal": '{"mchid":"1","appid":"a","service_id":"s"}',
    "unbinduser": '{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1230000109",'
    '"authorization_code":"code|with*odd","authorization_state":"UNBINDUSER"}',
    "unavailable-cancelled": '{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1230000109",'
    '"openid":"oUpF8u","authorization_state":"UNAVAILABLE","cancel_authorization_time":"2015-05-21T00:00:01Z"}',
    "nulls-and-unknown": '{"x_nested":{"a":[1,{"b":null}]},"service_id":"s","appid":"a","mchid":"m",'
    '"openid":null,"authorization_state":"FROZEN","risk":{"level":"HIGH"},"z":[true,false]}',
    "escapes": '{"service_id":"s","appid":"a","mchid":"m","notify_url":"https:\\/\\/\u5546\u6237.example.com'
    '\\/\u56de\u8c03?from=\\u4e2d\\u6587&e=\\ud83d\\ude00"}',
    "escaped-keys": '{"\\u0073ervice_id":"s","app\\u0069d":"a","mchid":"\\"\\\\\\/\\b\\f\\n\\r\\t"}',
    "pretty": json.dumps(json.loads(FULL), indent=2, ensure_ascii=False),
    "numbers": '{"service_id":"s","appid":"a","mchid":"m","user_risk_level":-0,'
    '"risk_level_version":9223372036854775807,"x":[1e400,-2.5E-3,0.0]}',
    "number-overflow": '{"service_id":"s","appid":"a","mchid":"m","user_risk_level":9223372036854775808}',
    "number-float": '{"service_id":"s","appid":"a","mchid":"m","user_risk_level":1.5}',
    "at-capacity": '{"service_id":"%s","appid":"%s","mchid":"%s","openid":"%s","notify_url":"%s"}'
    % ("s" * 32, "a" * 32, "m" * 32, "o" * 128, "u" * 255),
    "over-capacity": '{"service_id":"%s","appid":"a","mchid":"m"}' % ("s" * 33),
    "duplicate": '{"service_id":"s","service_id":"t","appid":"a","mchid":"m"}',
    "missing-mchid": '{"service_id":"s","appid":"a"}',
    "wrong-type": '{"service_id":5,"appid":"a","mchid":"m"}',
    "deep": '{"t":' + "[" * 64 + "]" * 64 + ',"service_id":"s","appid":"a","mchid":"m"}',
    "too-deep": '{"t":' + "[" * 65 + "]" * 65 + "}",
    "lone-surrogate": '{"service_id":"\\ud83d","appid":"a","mchid":"m"}',
    "bad-time": '{"service_id":"s","appid":"a","mchid":"m","authorization_success_time":"2023-02-29T00:00:00Z"}',
    "time-fraction": '{"service_id":"s","appid":"a","mchid":"m",'
    '"authorization_success_time":"2015-05-20T13:29:35.1234567891-05:30"}',
    "not-found-body": '{"code":"ORDER_NOT_EXIST","message":"\u7528\u6237\u672a\u6388\u6743"}',
    "array": '["service_id"]',
    "trailing": '{"service_id":"s","appid":"a","mchid":"m"} x',
    "truncated": '{"service_id":"s"',
    "empty": "",
    "time-rfc3339": "2015-05-20T13:29:35.120+08:00",
    "time-leap-day": "2024-02-29T23:59:60z",
    "time-compact": "20190730163659",
}

RECORDS_BYTES = {
    "invalid-utf8": b'{"service_id":"\xff","appid":"a","mchid":"m"}',
    "control-in-string": b'{"service_id":"a\nb","appid":"a","mchid":"m"}',
}

API_ERRORS = {
    "not-found": "404\nRequest-ID: 08F78BB5AF0610D302\n\n"
    '{"code":"ORDER_NOT_EXIST","message":"\u7528\u6237\u672a\u6388\u6743"}',
    "param-error": "400\nRequest-ID: 08F78BB5AF0610D302\n\n"
    '{"code":"PARAM_ERROR","message":"bad","detail":{"field":"/service_id","value":"x","issue":"y","location":"body"}}',
    "sign-error": "401\nrequest-id: 1\n\n"
    '{"detail":{"sign_information":{"method":"GET","url":"/v3/x","truncated_sign_message":"GET\\n/v3/x\\n"}},'
    '"message":"\u7b7e\u540d\u9519\u8bef","code":"SIGN_ERROR"}',
    "system-error": "500\n\n" '{"code":"SYSTEM_ERROR"}',
    "rate-limited": "429\n\n" '{"code":"FREQUENCY_LIMITED","message":"a\\nb"}',
    "no-auth": "403\n\n" '{"code":"NO_AUTH","message":"\\u5546\\u6237\\ud83d\\ude00"}',
    "resource-not-exists": "404\n\n" '{"code":"RESOURCE_NOT_EXISTS","message":"no certificates"}',
    "bad-gateway-html": "502\nContent-Type: text/html\n\n<html>Bad Gateway</html>",
    "empty-503": "503\n\n",
    "long-message": "400\n\n" '{"code":"X","message":"%s"}' % ("\u9519" * 100),
    "long-code": "400\n\n" '{"code":"%s","message":"m"}' % ("C" * 33),
    "duplicate-code": "400\n\n" '{"code":"A","code":"B","message":"m","message":"n"}',
    "message-not-string": "400\n\n" '{"code":"A","message":{"x":1}}',
    "signed-error": "400\nWechatpay-Timestamp: %s\nWechatpay-Nonce: %s\nWechatpay-Serial: %s\n"
    "Wechatpay-Signature: %s\nRequest-ID: abc\n\n" '{"code":"INVALID_REQUEST","message":"m"}'
    % (NOW, NONCE, SERIAL, MARKER_SIG),
    "body-only": '{"code":"ORDER_DONE","message":"done"}',
    "long-request-id": "404\nRequest-ID: %s\n\n{}" % ("r" * 65),
}

API_ERRORS_BYTES = {
    "invalid-utf8": b"400\n\n\xe9\x94\x99\xe9\x94",
    "crlf": b"404\r\nRequest-ID: x\r\n\n{\"code\":\"ORDER_NOT_EXIST\"}",
}


def response(body, timestamp=NOW, nonce=NONCE, serial=SERIAL, signature=MARKER_SIG, extra="", status="200"):
    head = [status]
    if timestamp is not None:
        head.append("Wechatpay-Timestamp: " + timestamp)
    if nonce is not None:
        head.append("Wechatpay-Nonce: " + nonce)
    if serial is not None:
        head.append("Wechatpay-Serial: " + serial)
    if signature is not None:
        head.append("Wechatpay-Signature: " + signature)
    head.append("Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048")
    head.append("Request-ID: 08F78BB5AF0610D302")
    if extra:
        head.append(extra)
    return "\n".join(head) + "\n\n" + body


VERIFY = {}
for v in VECTORS["response_vectors"]:
    # The real RSA signature: the marker verifier says BadSignature (first byte not the marker).
    VERIFY["vector-" + v["name"]] = response(v["body"], v["timestamp"], v["nonce"], v["serial"], v["signature"])
    # The same response with a marker signature: verifies, and the body goes to the parsers.
    VERIFY["marker-" + v["name"]] = response(v["body"], v["timestamp"], v["nonce"])
VERIFY.update(
    {
        "marker-full": response(FULL),
        "marker-204": response("", status="204"),
        "skew-300": response(FULL, timestamp=str(int(NOW) - 300)),
        "skew-301": response(FULL, timestamp=str(int(NOW) + 301)),
        "probe": response(FULL, signature="WECHATPAY/SIGNTEST/" + MARKER_SIG[:40]),
        "malformed-base64": response(FULL, signature="not base64!"),
        "short-signature": response(FULL, signature="WlpaWg=="),
        "reject-serial": response(FULL, serial=REJECT_SERIAL),
        "unknown-serial": response(FULL, serial="PUB_KEY_ID_0000"),
        "missing-nonce": response(FULL, nonce=None),
        "missing-signature": response(FULL, signature=None),
        "sm2": response(FULL, extra="Wechatpay-Signature-Type: WECHATPAY2-SM2-WITH-SM3"),
        "repeated-nonce": response(FULL, extra="wechatpay-nonce: again"),
        "bad-timestamp": response(FULL, timestamp="+1554208460"),
        "huge-timestamp": response(FULL, timestamp="999999999999999999"),
        "lowercase-padded": "200\nwechatpay-timestamp:  %s \nWECHATPAY-NONCE:\t%s\nwechatpay-serial: %s\n"
        "wechatpay-signature: %s\n\n%s" % (NOW, NONCE, SERIAL, MARKER_SIG, FULL),
        "error-unsigned": "404\nRequest-ID: x\n\n" '{"code":"ORDER_NOT_EXIST","message":"m"}',
        "no-head": FULL,
    }
)
VERIFY_BYTES = {
    "non-utf8-nonce": response(FULL).replace("Wechatpay-Nonce: " + NONCE, "Wechatpay-Nonce: \udcff", 1).encode(
        "utf-8", "surrogateescape"
    ),
}

TARGETS = {
    "plain": "1234323JKHDFE1243252\nservice_id\n500001",
    "pct-segment": "PCT+a/b=c d\nservice_id\n500001",
    "pct-query": "1234323JKHDFE1243252\nservice_id\n500001\nnote\na b&c=d+e/f",
    "non-ascii": "\u6388\u6743\u7801-001\nservice_id\n500001\nreason\n\u6d4b\u8bd5 \u539f\u56e0",
    "pipe-star": "code|with*odd chars",
    "reserved": "a&b=c;d,e:f@g$h!i'j(k)#?%/",
    "controls": "\x7f\x00\r\t",
    "non-bmp": "\U0001f642\nservice_id\n500001",
    "empty-segment": "\nservice_id\n500001",
    "empty-key": "x\n\nv",
    "empty-value": "x\nk\n",
    "odd-pairs": "x\nk",
    "encoded-input": "%41%7C%2a%E6%8E%88",
    "bad-escapes": "%4\n%G0\n%FF\n%",
    "long-segment": "\u6388" * 150 + "\nservice_id\n" + "|" * 40,
    "many-pairs": "s\n" + "\n".join("k%d\nv %d" % (i, i) for i in range(20)),
}

AUTHS = {}
for v in VECTORS["request_vectors"]:
    AUTHS["vector-" + v["name"]] = "\n".join(
        [KEYS["mchid"], KEYS["merchant_serial"], v["nonce"], v["timestamp"], v["method"], v["path_with_query"], v["body"]]
    )
    AUTHS["header-node-" + v["name"]] = v["authorization_node"]
    AUTHS["header-python-" + v["name"]] = v["authorization_python"]
AUTHS.update(
    {
        "quote-in-mchid": '123",x="\n5DF34429A8561CBBC19AE88B111C34BE5C2ACD29\n%s\n%s\nGET\n/v3/x\n' % (NONCE, NOW),
        "long-mchid": "1" * 33 + "\nS\nN\n1\nGET\n/\n",
        "mchid-at-capacity": "1" * 32 + "\n" + "S" * 64 + "\nN\n1\nGET\n/\n",
        "long-serial": "1\n" + "S" * 65 + "\nN\n1\nGET\n/\n",
        "dash-nonce": "1\nS\nab-cd\n1\nGET\n/\n",
        "empty-nonce": "1\nS\n\n1\nGET\n/\n",
        "long-nonce": "1\nS\n" + "n" * 400 + "\n18446744073709551615\nDELETE\n/v3/x\n",
        "timestamp-zero": "1\nS\nN\n0\nPATCH\n\nbody\nwith\nlines",
        "bad-method": "1\nS\nN\nx\nget\n/v3/x?y=1\n{}",
        "header-reordered": 'WECHATPAY2-SHA256-RSA2048 signature="s",timestamp="2",serial_no="S",nonce_str="n",mchid="1"',
        "header-duplicate": 'WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="S"',
        "header-space": 'WECHATPAY2-SHA256-RSA2048 mchid="1", nonce_str="n",signature="s",timestamp="2",serial_no="S"',
        "header-unquoted": 'WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="n",signature="s",timestamp="2",serial_no="S"',
        "header-extra": 'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="S",x="y"',
        "header-empty-values": 'WECHATPAY2-SHA256-RSA2048 mchid="",nonce_str="",signature="",timestamp="",serial_no=""',
        "header-other-scheme": 'OTHER mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="S"',
    }
)


def write(target, seeds):
    out = FUZZ / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        (out / ("seed-" + name)).write_bytes(data)
    return len(seeds)


total = 0
total += write("record", {**RECORDS, **RECORDS_BYTES, **{"vector-" + v["name"]: v["body"] for v in VECTORS["response_vectors"]}})
total += write("api_error", {**API_ERRORS, **API_ERRORS_BYTES})
total += write("verify", {**VERIFY, **VERIFY_BYTES})
total += write("target_roundtrip", TARGETS)
total += write("authorization_roundtrip", AUTHS)
print("wrote", total, "seeds")
