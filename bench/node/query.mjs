// The Node SDK the seed comes from (wechatpay-axios-plugin), timed the way wxpay is timed:
// RSA-sign the same request message, then run sequential keep-alive queries for the same
// authorization record against the same emulator. Started by `node-compare`
// (bench/src/bin/node-compare.rs), which passes the emulator's WXPAY_* settings and keys.
//
// Prints one JSON line: {"sdk", "node", "sign_per_sec", "queries", "qps", "record"}.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const require = createRequire(import.meta.url);
const { Wechatpay, Rsa } = require('wechatpay-axios-plugin');
const sdk = require('wechatpay-axios-plugin/package.json').version;

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    console.error(`query.mjs: missing ${name}`);
    process.exit(2);
  }
  return value;
};

const baseURL = env('WXPAY_BASE_URL');
const mchid = env('WXPAY_MCHID');
const serial = env('WXPAY_SERIAL');
const privateKeyPem = readFileSync(env('WXPAY_PRIVATE_KEY'));
const platformSerial = env('WXPAY_PLATFORM_SERIAL');
const platformPem = readFileSync(env('WXPAY_PLATFORM_PUBLIC_KEY'));
const code = env('WXPAY_AUTHORIZATION_CODE', '1234323JKHDFE1243252');
const serviceId = env('WXPAY_SERVICE_ID', '500001');
const queries = Number(env('BENCH_QUERIES', '1000'));
const signs = Number(env('BENCH_SIGNS', '2000'));
const warmups = Number(env('BENCH_WARMUPS', '50'));
const message = env('BENCH_SIGN_MESSAGE');

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

// 1. Signing: the SDK's own Rsa.sign (OpenSSL through node:crypto), as its request
//    interceptor calls it for every request.
const privateKey = Rsa.from(privateKeyPem, Rsa.KEY_TYPE_PRIVATE);
for (let i = 0; i < Math.min(200, signs); i += 1) Rsa.sign(message, privateKey);
let start = process.hrtime.bigint();
for (let i = 0; i < signs; i += 1) Rsa.sign(message, privateKey);
const signPerSec = signs / seconds(start);

// 2. Queries: one client, one keep-alive connection, sequential, each response verified by
//    the SDK's response verifier against the platform public key (public-key mode).
const wxpay = new Wechatpay({
  mchid,
  serial,
  privateKey: privateKeyPem,
  certs: { [platformSerial]: platformPem },
  baseURL,
  httpAgent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
  headers: { 'Wechatpay-Serial': platformSerial },
});

let record;
const query = async () => {
  const { data } = await wxpay.v3.payscore.permissions['authorization-code']._authorization_code_
    .get({ params: { service_id: serviceId }, authorization_code: code });
  if (!data || data.authorization_code !== code) {
    throw new Error(`unexpected record: ${JSON.stringify(data)}`);
  }
  record = data;
};

try {
  for (let i = 0; i < Math.min(warmups, queries); i += 1) await query();
  start = process.hrtime.bigint();
  for (let i = 0; i < queries; i += 1) await query();
} catch (error) {
  const status = error.response?.status;
  const body = error.response?.data;
  console.error(`query.mjs: query failed: ${status ?? ''} ${JSON.stringify(body) ?? ''} ${error.message}`);
  process.exit(1);
}
const qps = queries / seconds(start);

console.log(JSON.stringify({
  sdk: `wechatpay-axios-plugin ${sdk}`,
  node: process.version,
  sign_per_sec: signPerSec,
  queries,
  qps,
  record,
}));
