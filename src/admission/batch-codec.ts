import type { CapturedExchange } from '../core/model.js';

/*
 * A batch of exchanges travels to a worker as ONE ArrayBuffer that is transferred, not
 * cloned: [u32 metaLength][meta JSON][body bytes…]. Bodies from the listener are usually
 * views into Node's shared Buffer pool, so structured-cloning them would copy the whole slab
 * and transferring them is impossible; copying each body once into the batch's own buffer is
 * the cheapest correct option (measured by bench/bench-pool.ts).
 */

interface BodyRef {
  offset: number;
  length: number;
}

type ExchangeMeta = Omit<CapturedExchange, 'body' | 'response'> & {
  body: BodyRef;
  response?: Omit<NonNullable<CapturedExchange['response']>, 'body'> & { body: BodyRef };
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Packs exchanges into one transferable ArrayBuffer. */
export function encodeBatch(exchanges: readonly CapturedExchange[]): ArrayBuffer {
  let bodyBytes = 0;
  const metas: ExchangeMeta[] = exchanges.map((ex) => {
    const body = { offset: bodyBytes, length: ex.body.byteLength };
    bodyBytes += body.length;
    const { body: _b, response, ...rest } = ex;
    const meta: ExchangeMeta = { ...rest, body };
    if (response) {
      const rb = { offset: bodyBytes, length: response.body.byteLength };
      bodyBytes += rb.length;
      meta.response = { ...response, body: rb };
    }
    return meta;
  });
  const metaBytes = encoder.encode(JSON.stringify(metas));
  const buf = new ArrayBuffer(4 + metaBytes.byteLength + bodyBytes);
  const view = new Uint8Array(buf);
  new DataView(buf).setUint32(0, metaBytes.byteLength);
  view.set(metaBytes, 4);
  const base = 4 + metaBytes.byteLength;
  exchanges.forEach((ex, i) => {
    const meta = metas[i]!;
    view.set(ex.body, base + meta.body.offset);
    if (ex.response && meta.response) view.set(ex.response.body, base + meta.response.body.offset);
  });
  return buf;
}

/** Unpacks a batch; bodies are views into `buf` (no copy). */
export function decodeBatch(buf: ArrayBuffer): CapturedExchange[] {
  const metaLength = new DataView(buf).getUint32(0);
  const metas = JSON.parse(decoder.decode(new Uint8Array(buf, 4, metaLength))) as ExchangeMeta[];
  const base = 4 + metaLength;
  return metas.map((meta) => {
    const { body, response, ...rest } = meta;
    const ex: CapturedExchange = { ...rest, body: new Uint8Array(buf, base + body.offset, body.length) };
    if (response) {
      ex.response = { ...response, body: new Uint8Array(buf, base + response.body.offset, response.body.length) };
    }
    return ex;
  });
}
