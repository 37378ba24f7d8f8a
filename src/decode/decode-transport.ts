import * as zlib from 'node:zlib';
import { ANOMALY } from './anomaly-codes.js';
import { addAnomaly, type DecodeContext } from './decode-context.js';

/** Body bytes after transfer and content decodings. */
export interface TransportResult {
  bytes: Buffer;
  /** Decodings applied, outermost first ('chunked', 'gzip' …). */
  chain: string[];
}

type SyncCodec = (buf: Buffer, options: zlib.ZlibOptions & zlib.BrotliOptions) => Buffer;

interface Codec {
  name: string;
  decode: SyncCodec;
  /** Flush that lets a truncated stream give what it has instead of failing. */
  partialFlush: zlib.ZlibOptions & zlib.BrotliOptions;
  /** Upper bound of output per input byte, used to pick an input prefix that cannot overflow. */
  maxRatio: number;
}

const ZLIB_PARTIAL = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const gzip: Codec = { name: 'gzip', decode: zlib.gunzipSync, partialFlush: ZLIB_PARTIAL, maxRatio: 1032 };
const deflate: Codec = { name: 'deflate', decode: zlib.inflateSync, partialFlush: ZLIB_PARTIAL, maxRatio: 1032 };
const deflateRaw: Codec = { name: 'deflate', decode: zlib.inflateRawSync, partialFlush: ZLIB_PARTIAL, maxRatio: 1032 };
const brotli: Codec = {
  name: 'br',
  decode: zlib.brotliDecompressSync,
  partialFlush: { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH },
  // Brotli has no small theoretical bound; the prefix search below shrinks until it fits.
  maxRatio: 4096,
};
// zstd arrived in Node 22.15 / 23.8; feature-detect instead of pinning a version.
const zstdDecompress = (zlib as unknown as { zstdDecompressSync?: SyncCodec }).zstdDecompressSync;
const zstdCodec: Codec | undefined =
  zstdDecompress === undefined ? undefined : { name: 'zstd', decode: zstdDecompress, partialFlush: {}, maxRatio: 4096 };

/** True when this Node can decode `zstd` bodies. */
export const ZSTD_SUPPORTED = zstdCodec !== undefined;

function codecFor(name: string): Codec | undefined | null {
  switch (name) {
    case 'gzip':
    case 'x-gzip':
      return gzip;
    case 'deflate':
      return deflate;
    case 'br':
      return brotli;
    case 'zstd':
      return zstdCodec ?? null;
    case 'identity':
    case '':
      return undefined;
    default:
      return null;
  }
}

function isTooLarge(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
}

/**
 * Decompresses with a hard output cap so that a bomb never allocates past the limit. The cap
 * is limits.maxDecompressedBytes, tightened to maxDecompressionRatio × input once the output
 * would exceed limits.maxBodyBytes (small bodies may compress well legitimately). When the cap
 * is hit, the head of the stream (up to maxBodyBytes) is still decoded and analysed: a payload
 * in front of a bomb must not go unseen.
 */
export function decompressBounded(ctx: DecodeContext, codec: Codec, input: Buffer): Buffer | undefined {
  const { maxDecompressedBytes, maxDecompressionRatio, maxBodyBytes } = ctx.limits;
  const byRatio = Math.max(maxDecompressionRatio * input.length, maxBodyBytes);
  const allowed = Math.min(maxDecompressedBytes, byRatio);
  const code = allowed === maxDecompressedBytes ? ANOMALY.decompressionLimit : ANOMALY.decompressionRatio;
  const limitHit = (): Buffer | undefined => {
    addAnomaly(
      ctx,
      code,
      'body',
      code === ANOMALY.decompressionLimit
        ? `${codec.name} body expands past ${maxDecompressedBytes} bytes`
        : `${codec.name} body of ${input.length} bytes expands more than ${maxDecompressionRatio}×`,
    );
    return decodeHead(codec, input, Math.min(allowed, maxBodyBytes));
  };
  if (input.length > PROBE_BYTES && probeExceedsRatio(codec, input, ctx.limits)) {
    addAnomaly(
      ctx,
      ANOMALY.decompressionRatio,
      'body',
      `${codec.name} body: its first ${PROBE_BYTES} bytes expand more than ${maxDecompressionRatio}×`,
    );
    return decodeHead(codec, input, Math.min(allowed, maxBodyBytes));
  }
  try {
    return codec.decode(input, { maxOutputLength: allowed });
  } catch (err) {
    if (isTooLarge(err)) return limitHit();
  }
  // Truncated (a reset mirror, the ingest cap) or corrupt: keep what decodes.
  try {
    const out = codec.decode(input, { ...codec.partialFlush, maxOutputLength: allowed });
    addAnomaly(ctx, ANOMALY.decompressionTruncated, 'body', `${codec.name} stream ends early`);
    return out;
  } catch (err) {
    if (isTooLarge(err)) return limitHit();
    return undefined;
  }
}

/** Compressed bytes decoded first to catch a bomb before inflating megabytes of it. */
const PROBE_BYTES = 8 * 1024;

/**
 * True when the first PROBE_BYTES of input alone expand past the ratio limit (floored at
 * maxBodyBytes like the whole-body cap). A 1 GiB bomb is caught after about 1 MiB of output
 * instead of maxDecompressedBytes; an inconclusive probe (an error) defers to the full decode.
 */
function probeExceedsRatio(codec: Codec, input: Buffer, limits: DecodeContext['limits']): boolean {
  const cap = Math.max(limits.maxDecompressionRatio * PROBE_BYTES, limits.maxBodyBytes);
  try {
    codec.decode(input.subarray(0, PROBE_BYTES), { ...codec.partialFlush, maxOutputLength: cap });
    return false;
  } catch (err) {
    return isTooLarge(err);
  }
}

/** Decodes an input prefix small enough that its output fits `cap` (bounded retries). */
function decodeHead(codec: Codec, input: Buffer, cap: number): Buffer | undefined {
  let len = Math.max(1, Math.floor(cap / codec.maxRatio));
  for (let attempt = 0; attempt < 4 && len > 0; attempt++) {
    try {
      return codec.decode(input.subarray(0, Math.min(len, input.length)), {
        ...codec.partialFlush,
        maxOutputLength: cap,
      });
    } catch (err) {
      if (!isTooLarge(err)) return undefined;
      len = Math.floor(len / 16);
    }
  }
  return undefined;
}

/**
 * Undoes chunked framing when the body still carries it (replayed captures; ingests that
 * pass raw bytes). 'none' when the body does not start like a chunk.
 */
export function dechunk(body: Buffer): Buffer | 'none' | 'malformed' {
  const out: Buffer[] = [];
  let pos = 0;
  for (let chunks = 0; ; chunks++) {
    const lineEnd = body.indexOf('\r\n', pos);
    if (lineEnd === -1 || lineEnd - pos > 64) return chunks === 0 ? 'none' : 'malformed';
    let sizeText = body.toString('latin1', pos, lineEnd);
    const semi = sizeText.indexOf(';');
    if (semi !== -1) sizeText = sizeText.slice(0, semi);
    sizeText = sizeText.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return chunks === 0 ? 'none' : 'malformed';
    const size = parseInt(sizeText, 16);
    const start = lineEnd + 2;
    if (size === 0) return Buffer.concat(out);
    if (start + size + 2 > body.length) {
      // A first line that merely looks like a size ("cafe\r\n…") is not framing; after one
      // whole chunk it is a truncated mirror: keep what arrived.
      if (chunks === 0) return 'none';
      out.push(body.subarray(start, Math.min(body.length, start + size)));
      return Buffer.concat(out);
    }
    if (body[start + size] !== 13 || body[start + size + 1] !== 10) return 'malformed';
    out.push(body.subarray(start, start + size));
    pos = start + size + 2;
  }
}

function headerValue(headers: ReadonlyArray<readonly [string, string]>, name: string): string {
  let v = '';
  for (const [n, value] of headers) if (n === name) v = v === '' ? value : `${v}, ${value}`;
  return v;
}

/**
 * Undoes Transfer-Encoding: chunked (when still present) and each Content-Encoding, last
 * applied first. Unknown or undecodable encodings leave the bytes as they are, flagged.
 */
export function decodeTransport(
  ctx: DecodeContext,
  body: Buffer,
  headers: ReadonlyArray<readonly [string, string]>,
): TransportResult {
  let bytes = body;
  const chain: string[] = [];
  if (/\bchunked\b/i.test(headerValue(headers, 'transfer-encoding'))) {
    const r = dechunk(bytes);
    if (r === 'malformed') addAnomaly(ctx, ANOMALY.chunkedMalformed, 'body', 'chunked framing does not parse');
    else if (r !== 'none') {
      bytes = r;
      chain.push('chunked');
    }
  }
  const encodings = headerValue(headers, 'content-encoding')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '' && e !== 'identity');
  if (encodings.length === 0) {
    if (bytes.length > 18 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 8) {
      const out = decompressBounded(ctx, gzip, bytes);
      if (out !== undefined) {
        addAnomaly(ctx, ANOMALY.encodingSniffed, 'body', 'gzip body without Content-Encoding');
        return { bytes: out, chain: [...chain, 'gzip'] };
      }
    }
    return { bytes, chain };
  }
  if (encodings.length > 4) {
    addAnomaly(ctx, ANOMALY.encodingUnsupported, 'body', `${encodings.length} stacked content encodings`);
    return { bytes, chain };
  }
  for (const name of encodings.reverse()) {
    const codec = codecFor(name);
    if (codec === undefined) continue;
    if (codec === null) {
      addAnomaly(ctx, ANOMALY.encodingUnsupported, 'body', `content-encoding ${name.slice(0, 32)} not decodable here`);
      break;
    }
    let out = decompressBounded(ctx, codec, bytes);
    // Many clients send raw deflate under "deflate".
    if (out === undefined && codec === deflate) out = decompressBounded(ctx, deflateRaw, bytes);
    if (out === undefined) {
      addAnomaly(ctx, ANOMALY.decompressionFailed, 'body', `body does not decode as ${name}`);
      break;
    }
    bytes = out;
    chain.push(codec.name);
  }
  return { bytes, chain };
}
