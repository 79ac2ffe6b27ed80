#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from tests/vectors/vectors.json,
emulator-like bodies and edge cases. Input formats: see tests/src/fuzz_harness.rs.

Run from anywhere: python3 fuzz/make_seeds.py. It only adds or overwrites its own `seed-*`
files; files the fuzzer added (named by their SHA-1) are left alone.
"""

import base64
import hashlib
import json
import pathlib

FUZZ = pathlib.Path(__file__).resolve().parent
VECTORS = json.loads((FUZZ / "../tests/vectors/vectors.json").read_text())
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

# Callbacks (PROTOCOL.md §5): envelopes whose resource really was encrypted with the harness's
# APIv3 key, so the fuzzer starts past the signature, the decryption and into the payload.
APIV3_KEY = b"wxpayFuzzApiV3Key0123456789abcde"  # FUZZ_APIV3_KEY in the harness
OTHER_KEY = b"0123456789abcdefwxpayFuzzApiV3Ke"
CB_NONCE = "fqzyA1b2C3d4"  # 12 ASCII bytes

OPEN_PAYLOAD = (
    '{"appid":"wxd678efh567hg6787","mchid":"1230000109","service_id":"500001",'
    '"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","user_service_status":"USER_OPEN_SERVICE",'
    '"openorclose_time":"20190730163659","authorization_code":"1234323JKHDFE1243252"}'
)
CLOSE_PAYLOAD = (
    '{"appid":"wxd678efh567hg6787","mchid":"1230000109","service_id":"500001",'
    '"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","user_service_status":"USER_CLOSE_SERVICE",'
    '"openorclose_time":"20190731093000","authorization_code":"1234323JKHDFE1243252",'
    '"out_request_no":"REQ-20190731-0001"}'
)


def seal(plaintext, key=APIV3_KEY, nonce=CB_NONCE, aad=""):
    """base64(AES-256-GCM ciphertext || tag): deterministic, the nonce is fixed."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # pip install cryptography

    if isinstance(plaintext, str):
        plaintext = plaintext.encode()
    return base64.b64encode(AESGCM(key).encrypt(nonce.encode(), plaintext, aad.encode())).decode()


def envelope(
    payload=OPEN_PAYLOAD,
    event_type="PAYSCORE.USER_OPEN_SERVICE",
    aad="",
    ciphertext=None,
    nonce=CB_NONCE,
    algorithm="AEAD_AES_256_GCM",
    extra="",
    resource_extra="",
    event_id='"EV-2018022511223320873"',
):
    if ciphertext is None:
        ciphertext = seal(payload, nonce=nonce if len(nonce) == 12 else CB_NONCE, aad=aad)
    head = '"id":%s,' % event_id if event_id is not None else ""
    return (
        "{" + head + '"create_time":"2019-07-30T16:36:59+08:00","resource_type":"encrypt-resource",'
        '"event_type":"%s","resource":{"algorithm":"%s","ciphertext":"%s","nonce":"%s",'
        '"associated_data":"%s","original_type":"payscore"%s},"summary":"\u652f\u4ed8\u5206\u901a\u77e5"%s}'
        % (event_type, algorithm, ciphertext, nonce, aad, resource_extra, extra)
    )


def callback(body, **kw):
    return response(body, status="POST", **kw)


CALLBACKS = {
    "open": callback(envelope()),
    "close": callback(envelope(CLOSE_PAYLOAD, "PAYSCORE.USER_CLOSE_SERVICE")),
    "other-event": callback(envelope('{"out_order_no":"1234323JKHDFE1243252"}', "PAYSCORE.USER_CONFIRM")),
    "other-event-not-json": callback(envelope("not json at all", "PAYSCORE.USER_PAID")),
    "aad-certificate": callback(envelope(aad="certificate")),
    "aad-mismatch": callback(envelope(ciphertext=seal(OPEN_PAYLOAD, aad="certificate"))),
    "aad-null": callback(envelope().replace('"associated_data":""', '"associated_data":null')),
    "aad-absent": callback(envelope().replace('"associated_data":"",', "")),
    "escaped-ciphertext": callback(envelope(CLOSE_PAYLOAD, "PAYSCORE.USER_CLOSE_SERVICE").replace("/", "\\/")),
    "unicode-escaped-fields": callback(
        envelope().replace('"id":"EV-', '"\\u0069d":"EV-').replace("USER_OPEN_SERVICE\"", "USER_\\u004fPEN_SERVICE\"", 1)
    ),
    "pretty": callback(json.dumps(json.loads(envelope()), indent=2, ensure_ascii=False)),
    "payload-minimal": callback(envelope("{}")),
    "payload-nulls-unknown": callback(
        envelope('{"appid":null,"openid":null,"x":{"y":[1,2,{"z":null}]},"user_service_status":"USER_OPEN_SERVICE"}')
    ),
    "payload-escapes": callback(envelope('{"openid":"o\\u4e2d\\ud83d\\ude00\\/\\"","mchid":"\\u0031"}')),
    "payload-duplicate": callback(envelope('{"openid":"a","openid":"b"}')),
    "payload-wrong-type": callback(envelope('{"openid":5}')),
    "payload-too-long": callback(envelope('{"appid":"%s"}' % ("a" * 33))),
    "payload-at-capacity": callback(envelope('{"openid":"%s","out_request_no":"%s"}' % ("o" * 128, "r" * 64))),
    "payload-trailing": callback(envelope(OPEN_PAYLOAD + " x")),
    "payload-invalid-utf8": callback(envelope(b'{"openid":"\xff"}')),
    "payload-empty": callback(envelope("", "PAYSCORE.USER_CLOSE_SERVICE")),
    "wrong-key": callback(envelope(ciphertext=seal(OPEN_PAYLOAD, key=OTHER_KEY))),
    "tampered": callback(envelope(ciphertext=seal(OPEN_PAYLOAD)[:-8] + "AAAAAAA=")),
    "truncated-tag": callback(envelope(ciphertext=base64.b64encode(b"0123456789").decode())),
    "empty-ciphertext": callback(envelope(ciphertext="")),
    "bad-base64": callback(envelope(ciphertext="not*base64")),
    "unpadded-base64": callback(envelope(ciphertext=seal("{\"a\":1}").rstrip("="))),
    "short-nonce": callback(envelope(nonce="short")),
    "long-nonce": callback(envelope(nonce="0123456789abcdef")),
    "other-algorithm": callback(envelope(algorithm="AEAD_SM4_GCM")),
    "missing-id": callback(envelope(event_id=None)),
    "id-not-string": callback(envelope(event_id="12345")),
    "missing-resource": callback('{"id":"EV-1","event_type":"PAYSCORE.USER_OPEN_SERVICE"}'),
    "resource-not-object": callback('{"id":"EV-1","event_type":"PAYSCORE.USER_OPEN_SERVICE","resource":"x"}'),
    "duplicate-resource": callback(envelope(extra=',"resource":{"original_type":"payscore"}')),
    "duplicate-ciphertext": callback(envelope(resource_extra=',"ciphertext":"%s"' % seal('{"openid":"second"}'))),
    "skew-300": callback(envelope(), timestamp=str(int(NOW) + 300)),
    "skew-301": callback(envelope(), timestamp=str(int(NOW) - 301)),
    "reject-serial": callback(envelope(), serial=REJECT_SERIAL),
    "unsigned": envelope(),
    "not-json": callback("not json"),
}


# The decrypted payloads on their own, and apply_permissions_token bodies.
PAYLOADS = {
    "open": OPEN_PAYLOAD,
    "close": CLOSE_PAYLOAD,
    "empty-object": "{}",
    "nulls": '{"appid":null,"mchid":null,"service_id":null,"openid":null,"user_service_status":null,'
    '"openorclose_time":null,"authorization_code":null,"out_request_no":null}',
    "at-capacity": '{"appid":"%s","openid":"%s","out_request_no":"%s"}' % ("a" * 32, "o" * 128, "r" * 64),
    "over-capacity": '{"out_request_no":"%s"}' % ("r" * 65),
    "duplicate": '{"mchid":"1","mchid":"2"}',
    "wrong-type": '{"service_id":500001}',
    "escapes": '{"openid":"\\u4e2d\\ud83d\\ude00\\/\\\\\\"","authorization_code":"a|b*c"}',
    "bad-time": '{"openorclose_time":"20230229250000"}',
    "rfc3339-time": '{"openorclose_time":"2019-07-30T16:36:59+08:00"}',
    "unknown-nested": '{"x":[{"y":{"z":[true,false,null,-1.5e3]}}],"openid":"o"}',
    "token": '{"apply_permissions_token":"1LEMWZu7WZPNWd7TflsqZfSBy5dVvG3mJz3Ccp9c5mNg"}',
    "token-at-capacity": '{"apply_permissions_token":"%s"}' % ("t" * 300),
    "token-over-capacity": '{"apply_permissions_token":"%s"}' % ("t" * 301),
    "token-null": '{"apply_permissions_token":null}',
    "token-duplicate": '{"apply_permissions_token":"a","apply_permissions_token":"b"}',
    "token-and-event": '{"apply_permissions_token":"t","openid":"o","service_id":"s","appid":"a","mchid":"m"}',
    "array": "[]",
    "truncated": '{"openid":"o',
    "empty": "",
}
PAYLOADS_BYTES = {
    "invalid-utf8": b'{"openid":"\xc3"}',
}


# HTTP responses. Three settings bytes first: read sizes (0 whole, else a generator seed),
# body buffer (8-byte steps), scratch buffer (request head + 8-byte steps); then the peer's bytes.
def peer(raw, reads=7, body_steps=128, scratch_steps=96):
    if isinstance(raw, str):
        raw = raw.encode()
    return bytes([reads, body_steps, scratch_steps]) + raw


SIGNED_HEAD = (
    "Request-ID: 08F78BB5AF0610D302\r\nWechatpay-Nonce: %s\r\nWechatpay-Serial: %s\r\n"
    "Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048\r\nWechatpay-Timestamp: %s\r\n"
    "Wechatpay-Signature: %s\r\n" % (NONCE, SERIAL, NOW, MARKER_SIG)
)


def chunked(body, sizes):
    """The body in chunks of these sizes (bytes, so a chunk may end inside a character)."""
    out, rest = b"", body.encode()
    for size in sizes + [len(rest)]:
        piece, rest = rest[:size], rest[size:]
        if piece:
            out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def length_resp(body, status="200 OK", extra=""):
    return "HTTP/1.1 %s\r\nServer: nginx\r\n%s%sContent-Length: %d\r\n\r\n%s" % (
        status, SIGNED_HEAD, extra, len(body.encode()), body)


NOT_FOUND = '{"code":"ORDER_NOT_EXIST","message":"\u7528\u6237\u672a\u6388\u6743"}'
HTTP = {
    "length": peer(length_resp(FULL)),
    "length-whole-reads": peer(length_resp(FULL), reads=0),
    "length-one-byte-steps": peer(length_resp(FULL), reads=1),
    "chunked": peer(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + SIGNED_HEAD + "\r\n").encode() + chunked(FULL, [10, 1, 100])),
    "chunked-utf8-split": peer(b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(NOT_FOUND, [38, 4])),
    "chunked-ext-trailer": peer(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n2;name=val\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n"
    ),
    "chunked-uppercase-hex": peer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"),
    "chunked-bad-size": peer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    "chunked-missing-crlf": peer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}0\r\n\r\n"),
    "until-close": peer("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + FULL),
    "http10": peer("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
    "no-content": peer("HTTP/1.1 204 No Content\r\n" + SIGNED_HEAD + "\r\n"),
    "no-content-with-length": peer("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
    "not-modified": peer("HTTP/1.1 304 Not Modified\r\n\r\n"),
    "continue": peer("HTTP/1.1 100 Continue\r\n\r\n" + length_resp(NOT_FOUND, "404 Not Found")),
    "too-many-continues": peer("HTTP/1.1 100 Continue\r\n\r\n" * 5 + length_resp("{}")),
    "bare-lf": peer("HTTP/1.1 200 OK\nContent-Length: 2\n\n{}"),
    "pipelined": peer(length_resp("{}") + length_resp(NOT_FOUND, "404 Not Found")),
    "pipelined-chunked": peer(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked("{}", []) + b"HTTP/1.1 204 No Content\r\n\r\n"
    ),
    "stray-after-length": peer(length_resp("{}") + "junk"),
    "stray-after-204": peer("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n"),
    "both-framings": peer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}"),
    "repeated-length-agrees": peer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n{}"),
    "repeated-length-differs": peer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x"),
    "length-not-number": peer("HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}"),
    "length-huge": peer("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n{}"),
    "body-too-large": peer(length_resp(FULL), body_steps=8),
    "body-exactly-fits": peer("HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n" + "x" * 16, body_steps=2),
    "gzip": peer("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}"),
    "too-many-headers": peer("HTTP/1.1 200 OK\r\n" + "".join("X-%d: 1\r\n" % i for i in range(9)) + "Content-Length: 0\r\n\r\n"),
    "head-too-large": peer("HTTP/1.1 200 OK\r\nX-Long: " + "y" * 300 + "\r\n\r\n", scratch_steps=0),
    "malformed-status": peer("HTTP/1.1 2000 OK\r\n\r\n"),
    "not-http": peer("SSH-2.0-OpenSSH_9.6\r\n\r\n"),
    "truncated-head": peer("HTTP/1.1 200 OK\r\nContent-Len"),
    "truncated-body": peer(length_resp(FULL)[:-7]),
    "empty": peer(""),
    "malformed-header-values": peer(
        b"HTTP/1.1 200 OK\r\nWechatpay-Nonce: \xff\r\nRequest-ID: " + b"r" * 70 + b"\r\nContent-Length: 0\r\n\r\n"
    ),
}


# ObjectWriter and the permissions bodies: one string per line.
WRITER = {
    "pre-authorization": "500001\nwxd678efh567hg6787\n1234323JKHDFE1243252\nhttps://api.test.com/payscore/notify",
    "pre-authorization-chinese-url": "500001\nwxd678efh567hg6787\n1234323JKHDFE1243252\nhttps://\u5546\u6237.example.com/\u652f\u4ed8\u5206/\u901a\u77e5",
    "terminate": "500001\n\u7528\u6237\u8981\u6c42\u89e3\u9664\u6388\u6743",
    "terminate-openid": "500001\nwxd678efh567hg6787\n\u7528\u6237\u8981\u6c42",
    "reason-50-chars": "1\n" + "\u9000" * 50 + "\n" + "r" * 50,
    "reason-51-chars": "1\n" + "\u9000" * 51 + "\n" + "r" * 51,
    "at-capacity": "s" * 32 + "\n" + "a" * 32 + "\n" + "c" * 32 + "\n" + "u" * 255,
    "over-capacity": "s" * 33 + "\n" + "a" * 33 + "\n" + "c" * 33 + "\n" + "u" * 256,
    "escapes": 'q"uote\nback\\slash\ntab\tand\x01\x1f\ncr\r',
    "controls-url": "1\na\nc\n" + "\x01" * 255,
    "non-bmp": "1\n\U0001f642\nc",
    "empty-fields": "\n\n\n",
    "empty": "",
    "one-key": "k",
    "long-key": "k" * 60 + "\nv\n" + "x" * 48 + "\nw",
    "many-members": "\n".join("k%d\nv%d" % (i, i) for i in range(30)),
    "del-and-c1": "\x7f\n\u0085\u2028\u2029",
}
WRITER_BYTES = {
    "invalid-utf8": b"1\n\xff\xfe\nc",
}


# Service orders (PROTOCOL.md §8–§9): the order as query/create/complete answer it and as the
# USER_CONFIRM / USER_PAID callbacks carry it, and the request bodies a user writes.
ORDER = (
    '{"appid":"wxd678efh567hg6787","mchid":"1230000109","service_id":"500001","out_order_no":"RENT-0001",'
    '"service_introduction":"\u5145\u7535\u5b9d\u79df\u501f","state":"DONE","state_description":"MCH_COMPLETE",'
    '"post_payments":[{"name":"租借费","amount":300,"description":"2 小时","count":1}],'
    '"post_discounts":[{"name":"新人优惠","description":"首单","amount":100,"count":1}],'
    '"risk_fund":{"name":"DEPOSIT","amount":9900,"description":"充电宝押金"},'
    '"time_range":{"start_time":"20260101120000","end_time":"20260101140000"},'
    '"location":{"start_location":"一号柜","end_location":"二号柜"},"attach":"kiosk=7",'
    '"notify_url":"https://kiosk.example.com/notify","order_id":"15646546545165651651","total_amount":200,'
    '"need_collection":true,"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","collection":{"state":"USER_PAID",'
    '"total_amount":200,"paying_amount":0,"paid_amount":200,"details":[{"seq":1,"amount":200,"paid_type":"NEWTON",'
    '"paid_time":"20260101140500","transaction_id":"4200000000000000000000000001",'
    '"promotion_detail":[{"coupon_id":"x","amount":1,"goods_detail":[{"a":1}]}]}]},"new_field":{"x":[1,2]}}'
)
CONFIRMED = (
    '{"appid":"wxd678efh567hg6787","mchid":"1230000109","service_id":"500001","out_order_no":"RENT-0002",'
    '"service_introduction":"充电宝租借","state":"DOING","state_description":"USER_CONFIRM",'
    '"post_payments":[{"name":"租借费","amount":150,"description":"每小时 1.5 元"}],'
    '"risk_fund":{"name":"DEPOSIT","amount":9900},"time_range":{"start_time":"20260101120000"},'
    '"notify_url":"http://127.0.0.1:9/notify","order_id":"1000000000123","need_collection":true,'
    '"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}'
)
MIN_ORDER = '{"appid":"a","mchid":"m","service_id":"s","out_order_no":"o","state":"CREATED"}'


def items(n, prefix="费用"):
    return ",".join('{"name":"%s%d","amount":%d}' % (prefix, i, i) for i in range(n))


ORDERS = {
    "full": ORDER,
    "confirmed": CONFIRMED,
    "minimal": MIN_ORDER,
    "pretty": json.dumps(json.loads(ORDER), indent=2, ensure_ascii=False),
    "created-with-package": CONFIRMED.replace('"DOING","state_description":"USER_CONFIRM"', '"CREATED"')[:-1]
    + ',"package":"%s"}' % ("p" * 512),
    "unknown-states": MIN_ORDER.replace('"CREATED"', '"FROZEN","state_description":"WAITING"'),
    "nulls": MIN_ORDER[:-1] + ',"risk_fund":null,"post_payments":null,"collection":null,"attach":null}',
    "three-payments": MIN_ORDER[:-1] + ',"post_payments":[%s]}' % items(3),
    "two-discounts": MIN_ORDER[:-1] + ',"post_discounts":[%s]}' % items(2, "优惠"),
    "payments-at-capacity": MIN_ORDER[:-1] + ',"post_payments":[%s]}' % items(100),
    "payments-over-capacity": MIN_ORDER[:-1] + ',"post_payments":[%s]}' % items(101),
    "details-over-capacity": MIN_ORDER[:-1]
    + ',"collection":{"state":"USER_PAYING","total_amount":1,"details":[%s]}}'
    % ",".join('{"amount":1}' for _ in range(11)),
    "duplicate-state": MIN_ORDER[:-1] + ',"state":"DONE"}',
    "duplicate-nested": MIN_ORDER[:-1] + ',"risk_fund":{"name":"DEPOSIT","amount":1,"amount":2}}',
    "missing-state": '{"appid":"a","mchid":"m","service_id":"s","out_order_no":"o"}',
    "amount-float": MIN_ORDER[:-1] + ',"total_amount":1.5}',
    "amount-negative-zero": MIN_ORDER[:-1] + ',"total_amount":-0}',
    "amount-extremes": MIN_ORDER[:-1] + ',"total_amount":-9223372036854775808,"post_payments":[{"name":"n","amount":9223372036854775807}]}',
    "amount-overflow": MIN_ORDER[:-1] + ',"total_amount":9223372036854775808}',
    "count-negative": MIN_ORDER[:-1] + ',"post_payments":[{"name":"n","amount":1,"count":-1}]}',
    "escapes": MIN_ORDER[:-1] + ',"attach":"a\\"b\\u4e2d\\ud83d\\ude00\\n","service_introduction":"\\u0041"}',
    "too-long-appid": MIN_ORDER.replace('"a"', '"%s"' % ("a" * 33), 1),
    "deep-unknown": MIN_ORDER[:-1] + ',"x":' + "[" * 60 + "]" * 60 + "}",
    "array": "[" + MIN_ORDER + "]",
    "empty": "",
}
ORDERS_BYTES = {
    "invalid-utf8": MIN_ORDER.replace('"o"', '"\xff"').encode("latin-1"),
}

CREATE = (
    '{"out_order_no":"RENT-0001","appid":"wxd678efh567hg6787","service_id":"500001",'
    '"service_introduction":"充电宝租借","post_payments":[{"name":"租借费","amount":150,"description":"每小时 1.5 元"}],'
    '"time_range":{"start_time":"OnAccept"},"risk_fund":{"name":"DEPOSIT","amount":9900,"description":"充电宝押金"},'
    '"attach":"kiosk=7","notify_url":"https://kiosk.example.com/notify","need_user_confirm":true}'
)
COMPLETE = (
    '{"appid":"wxd678efh567hg6787","service_id":"500001","post_payments":[{"name":"租借费","amount":300,"count":2},'
    '{"name":"超时费","amount":100}],"post_discounts":[{"name":"新人优惠","amount":100}],"total_amount":300,'
    '"time_range":{"start_time":"20260101120000","end_time":"20260101140000"},'
    '"location":{"end_location":"二号柜"},"profit_sharing":false,"goods_tag":"tag"}'
)
MODIFY = (
    '{"appid":"wxd678efh567hg6787","service_id":"500001","post_payments":[{"name":"租借费","amount":200}],'
    '"total_amount":200,"reason":"归还时间以柜机记录为准"}'
)
BODIES = {
    "create": CREATE,
    "complete": COMPLETE,
    "modify": MODIFY,
    "create-pretty": json.dumps(json.loads(CREATE), indent=2, ensure_ascii=False),
    "create-full": CREATE[:-1] + ',"location":{"start_location":"一号柜"},"device":{"start_device_id":"K-7",'
    '"materiel_no":"PB-1"},"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","post_discounts":[{"name":"新人优惠","amount":50}]}',
    "create-dates": CREATE.replace('"OnAccept"', '"20260101","end_time":"20260102","end_time_remark":"次日归还"'),
    "create-bad-date": CREATE.replace('"OnAccept"', '"20230229"'),
    "create-bad-order-no": CREATE.replace("RENT-0001", "RENT 0001"),
    "create-short-order-no": CREATE.replace("RENT-0001", "R1"),
    "create-long-introduction": CREATE.replace("充电宝租借", "充" * 21),
    "create-introduction-at-limit": CREATE.replace("充电宝租借", "充" * 20),
    "create-risk-fund-other": CREATE.replace('"DEPOSIT"', '"LOAN"'),
    "create-unknown-field": CREATE[:-1] + ',"notfiy_url":"x"}',
    "create-unknown-nested": CREATE.replace('"amount":150', '"amount":150,"cnt":1'),
    "create-astral": CREATE.replace("kiosk=7", "kiosk\\ud83d\\ude00"),
    "create-escaped": CREATE.replace("kiosk=7", "k\\u0069osk\\n\\\"7"),
    "create-duplicate": CREATE[:-1] + ',"attach":"again"}',
    "create-null-optional": CREATE[:-1] + ',"location":null,"device":null}',
    "complete-inconsistent": COMPLETE.replace('"total_amount":300', '"total_amount":301'),
    "complete-negative": COMPLETE.replace('"amount":100}]', '"amount":-100}]'),
    "complete-no-payments": '{"appid":"a","service_id":"s","total_amount":0}',
    "complete-duplicate-names": COMPLETE.replace("超时费", "租借费"),
    "complete-count-zero": COMPLETE.replace('"count":2', '"count":0'),
    "complete-many": '{"appid":"a","service_id":"s","post_payments":[%s],"total_amount":%d}'
    % (items(100), sum(range(100))),
    "complete-too-many": '{"appid":"a","service_id":"s","post_payments":[%s],"total_amount":0}' % items(101),
    "modify-long-reason": MODIFY.replace("归还时间以柜机记录为准", "因" * 51),
    "modify-no-reason": MODIFY.replace(',"reason":"归还时间以柜机记录为准"', ""),
    "empty-object": "{}",
    "empty": "",
}

ORDER_CALLBACKS = {
    "confirm": callback(envelope(CONFIRMED, "PAYSCORE.USER_CONFIRM", aad="payscore")),
    "paid": callback(envelope(ORDER, "PAYSCORE.USER_PAID", aad="payscore")),
    "paid-empty-aad": callback(envelope(ORDER, "PAYSCORE.USER_PAID")),
    "confirm-three-payments": callback(
        envelope(MIN_ORDER[:-1] + ',"post_payments":[%s]}' % items(3), "PAYSCORE.USER_CONFIRM", aad="payscore")
    ),
    "paid-over-capacity": callback(
        envelope(MIN_ORDER[:-1] + ',"post_payments":[%s]}' % items(101), "PAYSCORE.USER_PAID", aad="payscore")
    ),
    "confirm-minimal": callback(envelope(MIN_ORDER, "PAYSCORE.USER_CONFIRM", aad="payscore")),
    "confirm-missing-state": callback(
        envelope('{"appid":"a","mchid":"m","service_id":"s","out_order_no":"o"}', "PAYSCORE.USER_CONFIRM", aad="payscore")
    ),
    "paid-duplicate": callback(envelope(MIN_ORDER[:-1] + ',"state":"DONE"}', "PAYSCORE.USER_PAID", aad="payscore")),
    "paid-aad-mismatch": callback(
        envelope(ORDER, "PAYSCORE.USER_PAID", ciphertext=seal(ORDER, aad="payscore"))
    ),
    "confirm-pretty": callback(
        json.dumps(json.loads(envelope(CONFIRMED, "PAYSCORE.USER_CONFIRM", aad="payscore")), indent=2)
    ),
    "paid-skew-301": callback(envelope(ORDER, "PAYSCORE.USER_PAID", aad="payscore"), timestamp=str(int(NOW) + 301)),
}


def pem_der(pem):
    return base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))


def rsa_seeds():
    """`rsa_fixed`: a mode byte, then a DER key (0) or a digest and a signature (1)."""
    from cryptography.hazmat.primitives import serialization  # pip install cryptography

    merchant = KEYS["merchant_private_key_pem"]
    platform = KEYS["platform_public_key_pem"]
    pkcs1 = serialization.load_pem_private_key(merchant.encode(), None).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption())
    modulus = serialization.load_pem_public_key(platform.encode()).public_numbers().n
    good = next(v for v in VECTORS["response_vectors"] if v["expect_valid"])
    digest = hashlib.sha256(f"{good['timestamp']}\n{good['nonce']}\n{good['body']}\n".encode()).digest()
    sig = base64.b64decode(good["signature"])
    return {
        "key-merchant-pkcs8": b"\x00" + pem_der(merchant),
        "key-merchant-pkcs1": b"\x00" + pkcs1,
        "key-platform-spki": b"\x00" + pem_der(platform),
        "key-not-der": b"\x00not a key",
        "sig-valid": b"\x01" + digest + sig,
        "sig-flipped": b"\x01" + digest + sig[:-1] + bytes([sig[-1] ^ 1]),
        "sig-short": b"\x01" + digest + sig[:255],
        "sig-long": b"\x01" + digest + sig + b"\x00",
        "sig-zero": b"\x01" + digest + bytes(256),
        "sig-modulus": b"\x01" + digest + modulus.to_bytes(256, "big"),
    }


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
total += write("callback", CALLBACKS)
total += write("callback_payload", {**PAYLOADS, **PAYLOADS_BYTES})
total += write("http_response", HTTP)
total += write("json_writer", {**WRITER, **WRITER_BYTES})
total += write("serviceorder_record", {**ORDERS, **ORDERS_BYTES})
total += write("serviceorder_body_roundtrip", BODIES)
total += write("serviceorder_callback", ORDER_CALLBACKS)
total += write("rsa_fixed", rsa_seeds())
print("wrote", total, "seeds")
