// The loader alone, over a stand-in for the module's exports (no .wasm needed): every buffer
// it hands the module (the private-key PEM among them) is cleared before it is freed.
//
//   node --test adapters/wasm/js/loader.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Wxpay, WxpayError } from './wxpay.mjs';

/** Exports with a bump allocator that snapshot each buffer as it is freed. */
function fakeExports(answer) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const encoder = new TextEncoder();
  const OUT = 60_000;
  let next = 8;
  const freed = [];
  const calls = [];
  const exports = {
    memory,
    wxpay_alloc: (len) => {
      const ptr = next;
      next += len;
      return ptr;
    },
    wxpay_free: (ptr, len) => {
      freed.push(Buffer.from(new Uint8Array(memory.buffer, ptr, len)).toString('latin1'));
    },
    wxpay_out_ptr: () => OUT,
    wxpay_client_new: (...flat) => {
      // While the call runs, the arguments are intact.
      const args = [];
      for (let i = 0; i < flat.length; i += 2) {
        args.push(Buffer.from(new Uint8Array(memory.buffer, flat[i], flat[i + 1])).toString());
      }
      calls.push(args);
      const bytes = encoder.encode(JSON.stringify(answer));
      new Uint8Array(memory.buffer, OUT, bytes.length).set(bytes);
      return bytes.length;
    },
  };
  return { exports, freed, calls };
}

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

for (const [name, answer] of [
  ['success', { ok: { handle: 7 } }],
  ['failure', { error: { kind: 'config', reason: 'bad_key', message: 'bad key' } }],
]) {
  test(`the private-key PEM is cleared before its buffer is freed (${name})`, () => {
    const { exports, freed, calls } = fakeExports(answer);
    const wx = new Wxpay(exports);
    let thrown;
    try {
      wx.createClient({ mchid: '1230000109', serialNo: 'SERIAL', privateKeyPem: PEM });
    } catch (e) {
      thrown = e;
    }
    assert.equal(thrown instanceof WxpayError, name === 'failure');
    assert.deepEqual(calls, [['1230000109', 'SERIAL', PEM]], 'the module saw the arguments');
    assert.equal(freed.length, 3, 'every argument buffer is freed');
    for (const bytes of freed) {
      assert.match(bytes, /^\0*$/, 'cleared before it was freed');
    }
    const memory = Buffer.from(exports.memory.buffer).toString('latin1');
    assert.equal(memory.includes('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'), false, 'no PEM left in memory');
  });
}
