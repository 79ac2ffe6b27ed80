#!/usr/bin/env python3
"""Writes the seed corpora of the `certificates` and `certificate` fuzz targets under
fuzz/corpus/<target>/ from the emulator's TEST certificates (adapters/emulator/keys/).
Input formats: see tests/src/fuzz_harness.rs. Needs the `cryptography` package (AES-GCM).

Run from anywhere: python3 fuzz/make_certificate_seeds.py. It only writes its own `seed-*` files.
"""

import base64
import json
import pathlib
import ssl

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FUZZ = pathlib.Path(__file__).resolve().parent
KEYS = FUZZ / "../adapters/emulator/keys"
APIV3_KEY = b"wxpayFuzzApiV3Key0123456789abcde"  # FUZZ_APIV3_KEY in the harness
NOW = "1780000000"  # CERTIFICATES_NOW
HELD = "PUB_KEY_ID_0114232134912410000000000000"  # FUZZ_SERIAL: a held marker key
REJECT = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"  # REJECT_SERIAL
MARKER_SIG = base64.b64encode(bytes([0x5A]) * 256).decode()
S1 = "3A1F5C0E6B9D27480C1E5A7F9B3D2E6C4A8F0B17"
S2 = "D27E4B19A0C35F8E61B7D2094C5A3E8F7B0C1D26"
SX = "1B9E7C3A5D0F2846A3E9C7B1D5F0A2846C9E3B51"
PEM = {
    S1: (KEYS / "platform_cert_1.pem").read_text(),
    S2: (KEYS / "platform_cert_2.pem").read_text(),
    SX: (KEYS / "platform_cert_expired.pem").read_text(),
}


def entry(serial_no, pem, key=APIV3_KEY, nonce="61f9c719728a", aad="certificate", tamper=False,
          algorithm="AEAD_AES_256_GCM"):
    sealed = bytearray(AESGCM(key).encrypt(nonce.encode(), pem.encode(), aad.encode()))
    if tamper:
        sealed[5] ^= 1
    return {
        "serial_no": serial_no,
        "effective_time": "2025-01-01T08:00:00+08:00",
        "expire_time": "2045-01-01T08:00:00+08:00",
        "encrypt_certificate": {
            "algorithm": algorithm,
            "nonce": nonce,
            "associated_data": aad,
            "ciphertext": base64.b64encode(bytes(sealed)).decode(),
        },
    }


def message(status, serial, body, signature=MARKER_SIG):
    head = [str(status), f"Wechatpay-Timestamp: {NOW}", "Wechatpay-Nonce: n0nce",
            f"Wechatpay-Signature: {signature}", f"Wechatpay-Serial: {serial}", "Request-ID: fuzz"]
    return ("\n".join(head) + "\n\n" + body).encode()


def answer(*entries):
    return json.dumps({"data": list(entries)}, separators=(",", ":"))


both = answer(entry(S1, PEM[S1]), entry(S2, PEM[S2]))
seeds = {
    "certificates": {
        "seed-bootstrap": message(200, S1, both),
        "seed-held": message(200, HELD, both),
        "seed-rejecting-key": message(200, REJECT, both),
        "seed-unnamed-signer": message(200, SX, both),
        "seed-expired": message(200, HELD, answer(entry(S1, PEM[S1]), entry(SX, PEM[SX]))),
        "seed-mismatch": message(200, HELD, answer(entry(S2, PEM[S1]))),
        "seed-tampered": message(200, HELD, answer(entry(S1, PEM[S1], tamper=True))),
        "seed-wrong-key": message(200, S1, answer(entry(S1, PEM[S1], key=b"0" * 32))),
        "seed-empty-aad": message(200, S1, answer(entry(S1, PEM[S1], aad=""))),
        "seed-sm4": message(200, HELD, answer(entry(S1, PEM[S1], algorithm="AEAD_SM4_GCM"))),
        "seed-empty-list": message(200, HELD, '{"data":[]}'),
        "seed-no-data": message(200, HELD, '{"code":"x"}'),
        "seed-not-exists": message(404, HELD, json.dumps({
            "code": "RESOURCE_NOT_EXISTS",
            "message": "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥"},
            ensure_ascii=False)),
        "seed-500": message(500, HELD, '{"code":"SYSTEM_ERROR","message":"busy"}'),
        "seed-bad-sig": message(200, S1, both, signature="AAAA"),
    },
    "certificate": {
        "seed-pem-1": PEM[S1].encode(),
        "seed-pem-2": PEM[S2].encode(),
        "seed-pem-expired": PEM[SX].encode(),
        "seed-pem-crlf": PEM[S1].replace("\n", "\r\n").encode(),
        "seed-der-1": ssl.PEM_cert_to_DER_cert(PEM[S1]),
        "seed-der-3": ssl.PEM_cert_to_DER_cert((KEYS / "platform_cert_3.pem").read_text()),
        "seed-der-truncated": ssl.PEM_cert_to_DER_cert(PEM[S2])[:400],
        "seed-public-key": (KEYS / "platform_pub.pem").read_bytes(),
    },
}
for target, files in seeds.items():
    out = FUZZ / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    print(f"{target}: {len(files)} seeds")
