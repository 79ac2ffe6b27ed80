// The JS side of wxpay-wasm: a hand-written loader over the module's plain exports.
//
// The module does the protocol (target, nonce, signature, headers, verification over the raw
// body, parsing); this file only moves strings and bytes across and does the HTTP I/O with the
// fetch you give it. The merchant key goes in once (createClient) and is never handed back.
//
//   import { load } from './wxpay.mjs';
//   const wx = await load(wasmBytes);                 // BufferSource or WebAssembly.Module
//   const client = wx.createClient({ mchid, serialNo, privateKeyPem,
//                                    platformKeys: [{ serial, publicKeyPem }] });
//   const { record, requestId } = await client.query(fetch, baseUrl,
//                                    { authorizationCode, serviceId });
//
// Failures are thrown as WxpayError with a `kind`: 'config', 'request', 'api', 'verify',
// 'parse' (from the module) or 'transport' (from fetch), a `reason`, a one-line `message` and,
// when a response arrived, its `requestId`.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A typed failure: check `kind` (and `reason`, `status`, `code`, …), never parse `message`. */
export class WxpayError extends Error {
  constructor(fields) {
    super(fields.message);
    this.name = 'WxpayError';
    Object.assign(this, fields);
  }
}

/**
 * Instantiates the module.
 * @param {BufferSource | WebAssembly.Module} source the .wasm bytes or a compiled module
 * @param {{ now?: () => number, randomBytes?: (buf: Uint8Array) => void }} [host]
 *   `now`: Unix seconds (default `Date.now() / 1000`); `randomBytes`: fills `buf` from a
 *   CSPRNG (default `crypto.getRandomValues`).
 */
export async function load(source, host = {}) {
  const now = host.now ?? (() => Date.now() / 1000);
  const randomBytes = host.randomBytes ?? ((buf) => globalThis.crypto.getRandomValues(buf));
  let memory;
  const imports = {
    wxpay: {
      now: () => Number(now()),
      random_fill: (ptr, len) => {
        try {
          randomBytes(new Uint8Array(memory.buffer, ptr >>> 0, len >>> 0));
          return 0;
        } catch {
          return 1;
        }
      },
    },
  };
  const instance =
    source instanceof WebAssembly.Module
      ? await WebAssembly.instantiate(source, imports)
      : (await WebAssembly.instantiate(source, imports)).instance;
  memory = instance.exports.memory;
  return new Wxpay(instance.exports);
}

/** One instance of the module. */
export class Wxpay {
  #exports;

  constructor(exports) {
    this.#exports = exports;
  }

  /**
   * Loads a merchant into the module.
   * @param {{ mchid: string, serialNo: string, privateKeyPem: string,
   *           platformKeys?: { serial: string, publicKeyPem: string }[] }} config
   *   A `PUB_KEY_ID_…` platform key turns on public-key mode (`Wechatpay-Serial` is sent).
   */
  createClient({ mchid, serialNo, privateKeyPem, platformKeys = [] }) {
    const { handle } = this._call('wxpay_client_new', [mchid, serialNo, privateKeyPem]);
    const client = new Client(this, handle);
    try {
      for (const { serial, publicKeyPem } of platformKeys) {
        client.addPlatformKey(serial, publicKeyPem);
      }
    } catch (e) {
      client.free();
      throw e;
    }
    return client;
  }

  /**
   * Calls an export with strings, bytes and numbers; returns the `ok` value or throws.
   * Every argument buffer is cleared in module memory before it is freed (one of them carries
   * the private-key PEM), and the loader's own encoded copy of a string is cleared too.
   */
  _call(name, args) {
    const ex = this.#exports;
    const buffers = [];
    const flat = [];
    try {
      for (const arg of args) {
        if (typeof arg === 'number') {
          flat.push(arg);
          continue;
        }
        const bytes = typeof arg === 'string' ? encoder.encode(arg) : arg;
        const ptr = ex.wxpay_alloc(bytes.length) >>> 0;
        buffers.push([ptr, bytes.length]);
        // A fresh view each time: an allocation may have grown (and detached) the memory.
        new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
        if (typeof arg === 'string') bytes.fill(0);
        flat.push(ptr, bytes.length);
      }
      const len = ex[name](...flat) >>> 0;
      const ptr = ex.wxpay_out_ptr() >>> 0;
      const answer = JSON.parse(decoder.decode(new Uint8Array(ex.memory.buffer, ptr, len)));
      if (answer.error) throw new WxpayError(answer.error);
      return answer.ok;
    } finally {
      for (const [ptr, len] of buffers) {
        new Uint8Array(ex.memory.buffer, ptr, len).fill(0);
        ex.wxpay_free(ptr, len);
      }
    }
  }
}

/** One merchant inside the module; only a handle lives on the JS side. */
export class Client {
  #wx;
  #handle;

  constructor(wx, handle) {
    this.#wx = wx;
    this.#handle = handle;
  }

  #call(name, args) {
    if (this.#handle === 0) {
      throw new WxpayError({ kind: 'request', reason: 'freed', message: 'client was freed' });
    }
    return this.#wx._call(name, [this.#handle, ...args]);
  }

  /** Adds (or replaces) a platform key: certificate serial or `PUB_KEY_ID_…`, and its PEM. */
  addPlatformKey(serial, publicKeyPem) {
    this.#call('wxpay_client_add_platform_key', [serial, publicKeyPem]);
  }

  /**
   * Signs any request with an explicit time and nonce (test vectors, replays).
   * `target` must be the percent-encoded path and query, exactly as it will be sent.
   * @returns {{ method: string, target: string, headers: Record<string, string>, body: string }}
   */
  signRequest({ method, target, body = '', timestamp, nonce }) {
    return this.#call('wxpay_sign_request', [method, target, body, Number(timestamp), nonce]);
  }

  /**
   * Step one: the signed request for the query by authorization code (raw code; the module
   * encodes it), at the host's time with a fresh nonce. Send it to `baseUrl + target`.
   */
  prepareQuery({ authorizationCode, serviceId }) {
    return this.#call('wxpay_prepare_query', [authorizationCode, serviceId]);
  }

  /**
   * Step two: what came back. `headers`: a Headers object, [name, value] pairs or a plain
   * object; `body`: the raw bytes (Uint8Array or ArrayBuffer), never decoded text.
   * @returns {{ record: object, requestId: string | null }} only for a verified 2xx
   */
  finishQuery({ status, headers, body }) {
    const bytes = body instanceof Uint8Array ? body : new Uint8Array(body ?? new ArrayBuffer(0));
    return this.#call('wxpay_finish_query', [status, headerLines(headers), bytes]);
  }

  /**
   * Both steps around `fetch` (the WHATWG signature): resolves to `{ record, requestId }`,
   * rejects with a WxpayError.
   */
  async query(fetch, baseUrl, { authorizationCode, serviceId }, { signal } = {}) {
    const request = this.prepareQuery({ authorizationCode, serviceId });
    const { response, body } = await send(fetch, baseUrl, request, signal);
    return this.finishQuery({ status: response.status, headers: response.headers, body });
  }

  /**
   * Step one of a typed call by name (`serviceorder.create`, `serviceorder.get`,
   * `serviceorder.cancel`, `serviceorder.modify`, `serviceorder.complete`, `serviceorder.pay`,
   * `serviceorder.sync`, `permissions.get`), its arguments as the API documents them (see
   * adapters/wasm/src/calls.rs). Unknown argument fields are refused.
   */
  prepareCall(name, args) {
    return this.#call('wxpay_prepare_call', [name, JSON.stringify(args)]);
  }

  /**
   * Step two of a typed call: only a verified 2xx that answers the prepared call.
   * @returns {{ result: object, requestId: string | null }}
   */
  finishCall({ status, headers, body }) {
    const bytes = body instanceof Uint8Array ? body : new Uint8Array(body ?? new ArrayBuffer(0));
    return this.#call('wxpay_finish_call', [status, headerLines(headers), bytes]);
  }

  /** Both steps of a typed call around `fetch`: resolves to `{ result, requestId }`. */
  async call(fetch, baseUrl, name, args, { signal } = {}) {
    const request = this.prepareCall(name, args);
    const { response, body } = await send(fetch, baseUrl, request, signal);
    return this.finishCall({ status: response.status, headers: response.headers, body });
  }

  /** Drops the merchant from the module (its key is zeroized). */
  free() {
    if (this.#handle !== 0) {
      this.#wx._call('wxpay_client_free', [this.#handle]);
      this.#handle = 0;
    }
  }
}

/** Sends a prepared request with `fetch`, exactly as signed; transport failures are typed. */
async function send(fetch, baseUrl, request, signal) {
  try {
    const response = await fetch(baseUrl.replace(/\/+$/, '') + request.target, {
      method: request.method,
      headers: request.headers,
      body: request.body === '' ? undefined : request.body,
      redirect: 'manual',
      signal,
    });
    const body = new Uint8Array(await response.arrayBuffer());
    return { response, body };
  } catch (e) {
    throw new WxpayError({
      kind: 'transport',
      reason: e?.name === 'AbortError' ? 'aborted' : 'fetch_failed',
      message: `transport: ${e?.cause?.message ?? e?.message ?? e}`,
      requestId: null,
    });
  }
}

function headerLines(headers) {
  let pairs;
  if (headers == null) pairs = [];
  else if (Array.isArray(headers)) pairs = headers;
  else if (typeof headers.entries === 'function') pairs = [...headers.entries()];
  else pairs = Object.entries(headers);
  return pairs
    .map(([name, value]) => {
      const line = `${name}: ${value}`;
      if (/[\r\n]/.test(line)) {
        throw new WxpayError({
          kind: 'request',
          reason: 'invalid_input',
          message: 'a response header contains a line break',
        });
      }
      return line;
    })
    .join('\n');
}
