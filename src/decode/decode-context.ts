import { performance } from 'node:perf_hooks';
import type { Limits } from '../config/config.js';
import type { Anomaly, Point } from '../core/model.js';
import { ANOMALY, type AnomalyCode } from './anomaly-codes.js';

/**
 * Runs the nested decodings of one value (url, base64, json-in-string …) and emits each
 * variant. Injected by decode-request so that format decoders and the nested decoder can
 * call each other without an import cycle.
 */
export type NestedDecoder = (ctx: DecodeContext, location: string, value: string, chain: readonly string[]) => void;

/**
 * The mutable state of decoding one request: the ordered, bounded output and the budget.
 * Every decoder writes through emitValue / emitKey / addAnomaly so that limits are
 * enforced in one place.
 */
export interface DecodeContext {
  readonly limits: Limits;
  /** performance.now() value after which decoding stops. */
  readonly deadline: number;
  readonly points: Point[];
  readonly anomalies: Anomaly[];
  /** Set once a hard stop (deadline, max points) is reached: every emit is then a no-op. */
  stopped: boolean;
  /** Depth of nested decodings currently applied (url → base64 → …). */
  nestDepth: number;
  nested: NestedDecoder | undefined;
  /** Anomaly dedupe: code + location. */
  readonly seenAnomalies: Set<string>;
  /**
   * Points produced by nested decoding (location + kind + value): two decoding orders often
   * reach the same text (html → json and json → html); it is emitted once.
   */
  readonly seenNested: Set<string>;
}

/** Keys longer than this are cut inside locations (the full key is still a point value). */
const MAX_LOCATION_KEY = 256;
/** How many emits between two clock reads (performance.now() costs ~40 ns). */
const CLOCK_EVERY = 32;

export function createContext(limits: Limits, deadline: number, nested?: NestedDecoder): DecodeContext {
  return {
    limits,
    deadline,
    points: [],
    anomalies: [],
    stopped: false,
    nestDepth: 0,
    nested,
    seenAnomalies: new Set(),
    seenNested: new Set(),
  };
}

/** Records an anomaly once per (code, location), bounded by limits.maxAnomalies. */
export function addAnomaly(ctx: DecodeContext, code: AnomalyCode, location: string, detail: string): void {
  const key = `${code}\u0000${location}`;
  if (ctx.seenAnomalies.has(key)) return;
  const max = ctx.limits.maxAnomalies;
  if (ctx.anomalies.length >= max) {
    if (!ctx.seenAnomalies.has(ANOMALY.anomaliesCapped)) {
      ctx.seenAnomalies.add(ANOMALY.anomaliesCapped);
      ctx.anomalies.push({ code: ANOMALY.anomaliesCapped, location: 'request', detail: `more than ${max} anomalies` });
    }
    return;
  }
  ctx.seenAnomalies.add(key);
  ctx.anomalies.push({ code, location, detail });
}

/** True (and stops decoding, with an anomaly) once the deadline has passed. */
export function timeUp(ctx: DecodeContext): boolean {
  if (ctx.stopped) return true;
  if (performance.now() <= ctx.deadline) return false;
  ctx.stopped = true;
  addAnomaly(
    ctx,
    ANOMALY.decodeDeadline,
    'request',
    `decoding stopped at the deadline after ${ctx.points.length} points`,
  );
  return true;
}

/** Appends a point within the limits; returns the stored (possibly cut) value, or undefined. */
function push(
  ctx: DecodeContext,
  location: string,
  value: string,
  chain: readonly string[],
  kind: Point['kind'],
): string | undefined {
  if (ctx.stopped) return undefined;
  const { points, limits } = ctx;
  if (points.length >= limits.maxPoints) {
    ctx.stopped = true;
    addAnomaly(ctx, ANOMALY.maxPoints, location, `more than ${limits.maxPoints} points`);
    return undefined;
  }
  if (points.length % CLOCK_EVERY === CLOCK_EVERY - 1 && timeUp(ctx)) return undefined;
  let v = value;
  if (ctx.nestDepth > 0) {
    // Long values are keyed by length and both ends, keeping the set small.
    const sig = value.length <= 256 ? value : `${value.length}:${value.slice(0, 128)}${value.slice(-128)}`;
    const key = `${location}\u0000${kind}\u0000${sig}`;
    if (ctx.seenNested.has(key)) return undefined;
    ctx.seenNested.add(key);
  }
  if (v.length > limits.maxValueBytes) {
    v = v.slice(0, limits.maxValueBytes);
    addAnomaly(ctx, ANOMALY.valueTruncated, location, `value of ${value.length} chars cut at ${limits.maxValueBytes}`);
  }
  if (v.indexOf('\u0000') !== -1) addAnomaly(ctx, ANOMALY.nulByte, location, 'value contains a NUL character');
  points.push({ location, value: v, chain: chain as string[], kind });
  return v;
}

/**
 * Emits a value point and, when `nested` is true, its nested decodings right after it
 * (so a value and its variants stay adjacent in the output).
 */
export function emitValue(
  ctx: DecodeContext,
  location: string,
  value: string,
  chain: readonly string[],
  nested = true,
): void {
  const stored = push(ctx, location, value, chain, 'value');
  // Nested decoders see the value as stored (cut to maxValueBytes), bounding their cost.
  if (stored !== undefined && nested && ctx.nested !== undefined && stored.length > 0) {
    ctx.nested(ctx, location, stored, chain);
  }
}

/** Emits a key point (parameter name, JSON key, attribute name). */
export function emitKey(ctx: DecodeContext, location: string, key: string, chain: readonly string[]): void {
  push(ctx, location, key, chain, 'key');
}

/** `prefix.key`, with the key cut to a sane length for a location. */
export function childLocation(prefix: string, key: string): string {
  return `${prefix}.${key.length > MAX_LOCATION_KEY ? key.slice(0, MAX_LOCATION_KEY) : key}`;
}
