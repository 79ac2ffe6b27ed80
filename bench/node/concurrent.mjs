// The Node SDK (wechatpay-axios-plugin) with C queries in flight at once, for `async-qps`
// (bench/src/bin/async-qps.rs): the same signed, verified authorization-record query as
// query.mjs, on one client whose keep-alive agent holds up to C sockets.
//
// Env: the WXPAY_* settings of query.mjs, BENCH_QUERIES (total), BENCH_CONCURRENCY (C).
// Prints one JSON line: {"sdk", "node", "concurrency", "queries", "qps"}.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const require = createRequire(import.meta.url);
const { Wechatpay } = require('wechatpay-axios-plugin');
const sdk = require('wechatpay-axios-plugin/package.json').version;

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    console.error(`concurrent.mjs: missing ${name}`);
    process.exit(2);
  }
  return value;
};

const platformSerial = env('WXPAY_PLATFORM_SERIAL');
const code = env('WXPAY_AUTHORIZATION_CODE', '1234323JKHDFE1243252');
const serviceId = env('WXPAY_SERVICE_ID', '500001');
const queries = Number(env('BENCH_QUERIES', '1000'));
const concurrency = Number(env('BENCH_CONCURRENCY', '1'));

const wxpay = new Wechatpay({
  mchid: env('WXPAY_MCHID'),
  serial: env('WXPAY_SERIAL'),
  privateKey: readFileSync(env('WXPAY_PRIVATE_KEY')),
  certs: { [platformSerial]: readFileSync(env('WXPAY_PLATFORM_PUBLIC_KEY')) },
  baseURL: env('WXPAY_BASE_URL'),
  httpAgent: new http.Agent({ keepAlive: true, maxSockets: concurrency }),
  headers: { 'Wechatpay-Serial': platformSerial },
});

const query = async () => {
  const { data } = await wxpay.v3.payscore.permissions['authorization-code']._authorization_code_
    .get({ params: { service_id: serviceId }, authorization_code: code });
  if (!data || data.authorization_code !== code) {
    throw new Error(`unexpected record: ${JSON.stringify(data)}`);
  }
};

// `count` queries from `concurrency` workers, each awaiting its previous query.
const run = async (count) => {
  let left = count;
  const worker = async () => {
    while (left > 0) {
      left -= 1;
      await query();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
};

let qps;
try {
  await run(Math.min(200, queries));
  const start = process.hrtime.bigint();
  await run(queries);
  qps = queries / (Number(process.hrtime.bigint() - start) / 1e9);
} catch (error) {
  const status = error.response?.status;
  console.error(`concurrent.mjs: query failed: ${status ?? ''} ${error.message}`);
  process.exit(1);
}

console.log(JSON.stringify({
  sdk: `wechatpay-axios-plugin ${sdk}`,
  node: process.version,
  concurrency,
  queries,
  qps,
}));
