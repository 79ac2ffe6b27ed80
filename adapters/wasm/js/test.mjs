// The WASM module in Node against the emulator's HTTP server on 127.0.0.1, and the shared
// request vectors inside the module. Run from the repository root after building:
//
//   cargo build -p wxpay-wasm --target wasm32-unknown-unknown --profile release-wasm
//   cargo build -p wxpay-cli
//   node --test adapters/wasm/js/test.mjs
//
// WXPAY_WASM and WXPAY_BIN override the module and the `wxpay` binary paths.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { createPublicKey, verify as rsaVerify } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { load, WxpayError } from './wxpay.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const wasmPath =
  process.env.WXPAY_WASM ?? `${root}target/wasm32-unknown-unknown/release-wasm/wxpay_wasm.wasm`;
const wxpayBin = process.env.WXPAY_BIN ?? `${root}target/debug/wxpay`;
const vectors = JSON.parse(readFileSync(`${root}tests/vectors/vectors.json`, 'utf8'));
const wasmBytes = readFileSync(wasmPath);

// The emulator's seeded demo record (adapters/emulator/src/lib.rs, `demo` and seed_demo_records).
const DEMO_CODE = '1234323JKHDFE1243252';
const DEMO_SERVICE_ID = '500001';
const DEMO_RECORD = {
  service_id: '500001',
  appid: 'wxd678efh567hg6787',
  mchid: '1230000109',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  authorization_code: DEMO_CODE,
  authorization_state: 'AVAILABLE',
  notify_url: 'https://api.test.com/payscore/notify',
  authorization_success_time: '2015-05-20T13:29:35+08:00',
};

/** Starts `wxpay sandbox` on 127.0.0.1 and reads the WXPAY_* settings it prints. */
async function startSandbox() {
  // wxpay refuses WXPAY_* variables it does not read (this test's WXPAY_WASM and WXPAY_BIN).
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('WXPAY_')),
  );
  const child = spawn(wxpayBin, ['sandbox', '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  const settings = {};
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sandbox printed no settings in 30 s')), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`sandbox exited early (${code})`)));
    lines.on('line', (line) => {
      const m = /^(WXPAY_[A-Z_]+)=(.*)$/.exec(line);
      if (m) settings[m[1]] = m[2];
      if (m?.[1] === 'WXPAY_PLATFORM_SERIAL') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await ready;
  child.removeAllListeners('exit');
  assert.match(settings.WXPAY_BASE_URL, /^http:\/\/127\.0\.0\.1:\d+$/);
  return { child, settings };
}

describe('the module against the emulator on 127.0.0.1', () => {
  let sandbox;
  let wx;
  let client;
  let baseUrl;

  before(async () => {
    sandbox = await startSandbox();
    const s = sandbox.settings;
    baseUrl = s.WXPAY_BASE_URL;
    wx = await load(wasmBytes);
    client = wx.createClient({
      mchid: s.WXPAY_MCHID,
      serialNo: s.WXPAY_SERIAL,
      privateKeyPem: readFileSync(s.WXPAY_PRIVATE_KEY, 'utf8'),
      platformKeys: [
        {
          serial: s.WXPAY_PLATFORM_SERIAL,
          publicKeyPem: readFileSync(s.WXPAY_PLATFORM_PUBLIC_KEY, 'utf8'),
        },
      ],
    });
  });

  after(() => {
    client?.free();
    sandbox?.child.kill();
  });

  const query = (code) =>
    client.query(fetch, baseUrl, { authorizationCode: code, serviceId: DEMO_SERVICE_ID });

  /** Awaits a rejection and returns the WxpayError. */
  async function failure(promise) {
    try {
      const value = await promise;
      assert.fail(`expected a WxpayError, got ${JSON.stringify(value)}`);
    } catch (e) {
      assert.ok(e instanceof WxpayError, `not a WxpayError: ${e?.stack ?? e}`);
      return e;
    }
  }

  test('happy path: the verified demo record, field for field', async () => {
    const { record, requestId } = await query(DEMO_CODE);
    assert.deepEqual(record, DEMO_RECORD);
    assert.equal(typeof requestId, 'string');
    assert.ok(requestId.length > 0);
  });

  test('awkward codes go out byte for byte (the server verifies the raw target)', async () => {
    for (const code of ['a|b*c', 'AUTHCODE-001|*']) {
      const { record } = await query(code);
      assert.equal(record.authorization_code, code);
      assert.equal(record.notify_url, 'https://商户.example.com/支付分/通知');
    }
  });

  test('codes outside the documented charset are refused before signing', async () => {
    for (const code of ['a/b?c#d%e f', '授权码-001', 'PCT+a/b=c d']) {
      const e = await failure(query(code));
      assert.equal(e.kind, 'request');
      assert.ok(e.message.includes('authorization_code'), e.message);
    }
  });

  test('API error: unknown code is a typed 404 ORDER_NOT_EXIST with its Request-ID', async () => {
    const e = await failure(query('NO_SUCH_CODE_42'));
    assert.equal(e.kind, 'api');
    assert.equal(e.status, 404);
    assert.equal(e.code, 'ORDER_NOT_EXIST');
    assert.equal(e.notFound, true);
    assert.equal(e.retryable, false);
    assert.equal(typeof e.requestId, 'string');
    assert.ok(e.requestId.length > 0);
    assert.ok(e.message.includes(e.requestId), e.message);
  });

  test('bad signature: rejected as a typed verify error, no record', async () => {
    const e = await failure(query('FAULT_BAD_SIGNATURE'));
    assert.equal(e.kind, 'verify');
    assert.equal(e.reason, 'bad_signature');
    assert.equal(typeof e.requestId, 'string');
    assert.equal('record' in e, false);
  });

  test('other faults map to their kinds', async () => {
    const cases = [
      ['FAULT_UNKNOWN_SERIAL', { kind: 'verify', reason: 'unknown_serial' }],
      ['FAULT_STALE_TIMESTAMP', { kind: 'verify', reason: 'clock_skew' }],
      ['FAULT_SIGNTEST_PROBE', { kind: 'verify', reason: 'signature_probe' }],
      ['FAULT_OVERSIZE_FIELD', { kind: 'parse', reason: 'field_too_long', field: 'openid' }],
      ['FAULT_NON_JSON_BODY', { kind: 'parse' }],
      ['FAULT_UNSIGNED_ERROR', { kind: 'api', status: 503, signatureVerified: false }],
      ['FAULT_SYSTEM_ERROR', { kind: 'api', status: 500, retryable: true }],
      ['FAULT_TRUNCATED_BODY', { kind: 'transport', requestId: null }],
      ['FAULT_CHUNKED_SPLIT_UTF8', null],
    ];
    for (const [code, want] of cases) {
      if (want === null) {
        const { record } = await query(code);
        assert.equal(record.service_id, DEMO_SERVICE_ID);
        continue;
      }
      const e = await failure(query(code));
      for (const [key, value] of Object.entries(want)) assert.equal(e[key], value, `${code}.${key}`);
    }
  });

  test('two steps by hand: a body changed by one byte is never parsed', async () => {
    const request = client.prepareQuery({ authorizationCode: DEMO_CODE, serviceId: DEMO_SERVICE_ID });
    assert.equal(request.method, 'GET');
    assert.equal(request.target, `/v3/payscore/permissions/authorization-code/${DEMO_CODE}?service_id=500001`);
    assert.match(request.headers.Authorization, /^WECHATPAY2-SHA256-RSA2048 mchid="1230000109",/);
    assert.equal(request.headers['Wechatpay-Serial'], sandbox.settings.WXPAY_PLATFORM_SERIAL);
    const response = await fetch(baseUrl + request.target, { headers: request.headers });
    const body = new Uint8Array(await response.arrayBuffer());
    const headers = [...response.headers];
    assert.deepEqual(client.finishQuery({ status: response.status, headers, body }).record, DEMO_RECORD);
    const tampered = body.slice();
    tampered[tampered.indexOf(0x41 /* 'A' of AVAILABLE */)] ^= 0x20;
    assert.throws(
      () => client.finishQuery({ status: response.status, headers, body: tampered }),
      (e) => e instanceof WxpayError && e.kind === 'verify' && e.reason === 'bad_signature',
    );
  });

  test('service orders by name: create, query, and refusals before signing', async () => {
    const order = {
      out_order_no: 'WASM-RENT-0001', appid: 'wxd678efh567hg6787', service_id: '500001',
      service_introduction: '充电宝租借', time_range: { start_time: 'OnAccept' },
      risk_fund: { name: 'DEPOSIT', amount: 9900 },
      notify_url: 'https://kiosk.example.com/notify', need_user_confirm: true,
    };
    const created = await client.call(fetch, baseUrl, 'serviceorder.create', order);
    assert.equal(created.result.state, 'CREATED');
    assert.equal(created.result.out_order_no, 'WASM-RENT-0001');
    assert.equal(typeof created.requestId, 'string');
    const queried = await client.call(fetch, baseUrl, 'serviceorder.get',
      { out_order_no: 'WASM-RENT-0001', service_id: '500001', appid: 'wxd678efh567hg6787' });
    assert.equal(queried.result.state, 'CREATED');
    const typo = await failure(client.call(fetch, baseUrl, 'serviceorder.create',
      { ...order, need_user_confim: true }));
    assert.equal(typo.kind, 'request');
    const unbalanced = await failure(client.call(fetch, baseUrl, 'serviceorder.complete', {
      out_order_no: 'WASM-RENT-0001',
      body: { appid: 'wxd678efh567hg6787', service_id: '500001',
              post_payments: [{ name: '租借费', amount: 300 }], total_amount: 200 },
    }));
    assert.equal(unbalanced.kind, 'request');
    assert.equal(unbalanced.field, 'total_amount');
  });

  test('transport failure and bad input are typed too', async () => {
    const refused = async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    };
    const e = await failure(client.query(refused, baseUrl, { authorizationCode: 'X', serviceId: '1' }));
    assert.equal(e.kind, 'transport');
    assert.match(e.message, /ECONNREFUSED/);
    const empty = await failure(query(''));
    assert.equal(empty.kind, 'request');
    assert.equal(empty.reason, 'invalid_value');
    assert.equal(empty.field, 'authorization_code');
  });

  test('the key goes in and never comes out', async () => {
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(wasmBytes)).map((e) => e.name);
    assert.deepEqual(exports.filter((n) => n.startsWith('wxpay_')).sort(), [
      'wxpay_alloc', 'wxpay_client_add_platform_key', 'wxpay_client_free', 'wxpay_client_new',
      'wxpay_finish_call', 'wxpay_finish_query', 'wxpay_free', 'wxpay_out_ptr', 'wxpay_prepare_call',
      'wxpay_prepare_query', 'wxpay_sign_request',
    ]);
    assert.deepEqual(Object.keys(client), []);
    const bad = (() => {
      try {
        wx.createClient({ mchid: '1230000109', serialNo: 'S', privateKeyPem: 'nonsense' });
      } catch (e) {
        return e;
      }
    })();
    assert.equal(bad.kind, 'config');
    assert.equal(bad.reason, 'unreadable_key');
  });
});

describe('shared request vectors, signed inside the module', () => {
  const keys = vectors.keys;
  const merchantPublicKey = createPublicKey(keys.merchant_public_key_pem);
  let client;

  before(async () => {
    const wx = await load(wasmBytes);
    client = wx.createClient({
      mchid: keys.mchid,
      serialNo: keys.merchant_serial,
      privateKeyPem: keys.merchant_private_key_pem,
    });
  });

  const fields = (authorization) => {
    const [scheme, params] = authorization.split(' ');
    const out = { scheme };
    for (const p of params.split(',')) {
      const eq = p.indexOf('=');
      out[p.slice(0, eq)] = JSON.parse(p.slice(eq + 1));
    }
    return out;
  };

  assert.equal(vectors.request_vectors.length, 7);
  for (const v of vectors.request_vectors) {
    test(`vector ${v.name}`, () => {
      const prepared = client.signRequest({
        method: v.method,
        target: v.path_with_query,
        body: v.body,
        timestamp: Number(v.timestamp),
        nonce: v.nonce,
      });
      assert.equal(prepared.method, v.method);
      assert.equal(prepared.target, v.path_with_query);
      assert.equal(prepared.body, v.body);
      const ours = fields(prepared.headers.Authorization);
      assert.equal(ours.signature, v.signature, 'signature byte for byte');
      assert.deepEqual(ours, fields(v.authorization_node));
      assert.deepEqual(ours, fields(v.authorization_python));
      // And independently: the signature is over exactly the canonical message.
      assert.ok(
        rsaVerify('sha256', Buffer.from(v.canonical_message, 'utf8'), merchantPublicKey,
          Buffer.from(ours.signature, 'base64')),
      );
      assert.equal(prepared.headers.Accept, 'application/json');
      assert.equal(prepared.headers['Content-Type'], v.body === '' ? undefined : 'application/json');
    });
  }
});
