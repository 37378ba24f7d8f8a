import type { HeaderList } from '../core/model.js';
import { ANOMALY } from './anomaly-codes.js';
import { bytesToText, charsetOf } from './decode-charset.js';
import { addAnomaly, type DecodeContext, emitValue } from './decode-context.js';
import { emptyFacts, type GraphqlFacts, looksLikeGraphql, walkGraphql } from './decode-graphql.js';
import { walkJson, walkJsonLines } from './decode-json.js';
import { boundaryOf, sniffBoundary, walkMultipart } from './decode-multipart.js';
import { walkForm } from './decode-query.js';
import { type BodyKind, declaredKind, fitsDeclared, isStructured, sniffKind } from './decode-sniff.js';
import { decodeTransport } from './decode-transport.js';
import { walkXml } from './decode-xml.js';

/** What decoding the body found. */
export interface BodyResult {
  kind: BodyKind | 'empty';
  /** Set when the body carried GraphQL. */
  graphql: GraphqlFacts | undefined;
}

function header(headers: HeaderList, name: string): string {
  for (const [n, v] of headers) if (n === name) return v;
  return '';
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes a request body: transport decodings, then the format the Content-Type declares
 * when the body fits it, else the format the bytes look like (content_type_mismatch).
 */
export function decodeBody(ctx: DecodeContext, raw: Uint8Array, headers: HeaderList, path: string): BodyResult {
  if (raw.byteLength === 0) return { kind: 'empty', graphql: undefined };
  let body = asBuffer(raw);
  if (body.length > ctx.limits.maxBodyBytes) {
    addAnomaly(ctx, ANOMALY.bodyTruncated, 'body', `body of ${body.length} bytes cut at ${ctx.limits.maxBodyBytes}`);
    body = body.subarray(0, ctx.limits.maxBodyBytes);
  }
  const transport = decodeTransport(ctx, body, headers);
  const bytes = transport.bytes;
  const contentType = header(headers, 'content-type');
  const declared = declaredKind(contentType);

  if (declared === 'multipart') {
    const boundary = boundaryOf(contentType) ?? sniffBoundary(bytes);
    if (boundary !== undefined) {
      if (walkMultipart(ctx, bytes, boundary, 'body.multipart', [...transport.chain, 'multipart']) >= 0) {
        return { kind: 'multipart', graphql: undefined };
      }
    } else {
      addAnomaly(ctx, ANOMALY.multipartMalformed, 'body.multipart', 'multipart Content-Type without a boundary');
    }
  }

  const charset = charsetOf(contentType);
  // Binary bodies (images, archives) stop here: turning a megabyte of them into text would
  // only cost time and flag them as invalid UTF-8. UTF-16 is text full of NULs, so the
  // check only applies to byte-oriented charsets.
  if (!isStructured(declared) && !charset.startsWith('utf-16') && looksBinary(bytes)) {
    return { kind: 'binary', graphql: undefined };
  }
  const decoded = bytesToText(bytes, charset);
  if (decoded.invalidUtf8) addAnomaly(ctx, ANOMALY.invalidUtf8, 'body', 'body is not valid UTF-8 (kept as latin1)');
  if (decoded.unsupported) addAnomaly(ctx, ANOMALY.charsetUnsupported, 'body', `charset ${charset.slice(0, 32)}`);
  const text = decoded.text;
  const chain = decoded.step === undefined ? transport.chain : [...transport.chain, decoded.step];

  let kind: BodyKind;
  if (declared !== undefined && declared !== 'multipart' && fitsDeclared(declared, text)) {
    kind = declared;
  } else {
    kind = sniffKind(text, bytes, contentType === '' || isStructured(declared));
    const plain = contentType.toLowerCase().startsWith('text/plain');
    if ((isStructured(declared) && kind !== declared) || (plain && isStructured(kind) && kind !== 'form')) {
      addAnomaly(
        ctx,
        ANOMALY.contentTypeMismatch,
        'body',
        `declared ${contentType.slice(0, 64) || 'nothing'}, looks like ${kind}`,
      );
    }
  }
  return { kind, graphql: dispatch(ctx, kind, text, bytes, chain, path) };
}

/** Control bytes in the first KiB (more than 1 in 32, as isPlausibleText), BOMs excepted. */
function looksBinary(bytes: Buffer): boolean {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    return false;
  }
  const n = Math.min(bytes.length, 1024);
  let controls = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) controls++;
  }
  return controls * 32 > n;
}

function dispatch(
  ctx: DecodeContext,
  kind: BodyKind,
  text: string,
  bytes: Buffer,
  chain: string[],
  path: string,
): GraphqlFacts | undefined {
  switch (kind) {
    case 'json': {
      const r = walkJson(ctx, text, 'body.json', [...chain, 'json']);
      if (r.errorAt === 0 && r.values === 0) emitValue(ctx, 'body.raw', text, chain);
      return graphqlInJson(ctx, text, chain, path);
    }
    case 'jsonl':
      walkJsonLines(ctx, text, 'body.jsonl', [...chain, 'json']);
      return undefined;
    case 'form':
      walkForm(ctx, text, 'body.form', [...chain, 'form']);
      return undefined;
    case 'multipart': {
      const boundary = sniffBoundary(bytes);
      if (
        boundary === undefined ||
        walkMultipart(ctx, bytes, boundary, 'body.multipart', [...chain, 'multipart']) < 0
      ) {
        emitValue(ctx, 'body.raw', text, chain);
      }
      return undefined;
    }
    case 'xml':
      if (walkXml(ctx, text, 'body.xml', [...chain, 'xml']) === 0) emitValue(ctx, 'body.raw', text, chain);
      return undefined;
    case 'graphql': {
      const facts = emptyFacts();
      facts.batch = 1;
      if (!walkGraphql(ctx, text, 'body.graphql', chain, facts)) emitValue(ctx, 'body.raw', text, chain);
      return facts;
    }
    case 'text':
      emitValue(ctx, 'body.raw', text, chain);
      return undefined;
    case 'binary':
      // Bytes that are not text (images, archives) would only feed detectors noise.
      return undefined;
  }
}

/** `{query, variables}` or a batch `[{query}, …]` posted as JSON. */
function graphqlInJson(ctx: DecodeContext, text: string, chain: string[], path: string): GraphqlFacts | undefined {
  if (ctx.stopped) return undefined;
  const head = text.slice(0, 512);
  if (!path.toLowerCase().includes('graphql') && !head.includes('"query"')) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const entries = Array.isArray(doc) ? doc : [doc];
  const facts = emptyFacts();
  const gchain = [...chain, 'json'];
  entries.forEach((entry, i) => {
    const query = (entry as { query?: unknown } | null)?.query;
    if (typeof query !== 'string' || !looksLikeGraphql(query) || ctx.stopped) return;
    facts.batch++;
    walkGraphql(ctx, query, Array.isArray(doc) ? `body.graphql[${i}]` : 'body.graphql', gchain, facts);
  });
  return facts.batch > 0 ? facts : undefined;
}

/** GraphQL sent as GET `?query=` (the query value is already a point). */
export function graphqlInQuery(ctx: DecodeContext, query: string, chain: string[]): GraphqlFacts | undefined {
  if (!looksLikeGraphql(query)) return undefined;
  const facts = emptyFacts();
  facts.batch = 1;
  return walkGraphql(ctx, query, 'query.graphql', chain, facts) ? facts : undefined;
}
