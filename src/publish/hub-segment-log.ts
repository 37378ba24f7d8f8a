import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ERR_HUB_LOG } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { Detection } from '../gen/shadowtap/v1/detection.js';
import { crc32 } from './reporter/disk-spool.js';

/*
 * The hub's optional on-disk segment log: what makes `resume_after_sequence` work across a
 * restart. Append-only segment files named after the first sequence they hold
 * (`00000000000000000042.seg`), each a run of framed records:
 *
 *   payload length u32 LE | crc32(payload) u32 LE | payload (Detection, protobuf)
 *
 * A crash can leave a torn record at the end of the last segment; on open every segment is
 * read up to its first frame that is short, oversized or fails its CRC, and the rest of
 * that file is skipped (and counted). Appending always starts a new segment after an open,
 * so a torn tail is never followed by good records in the same file.
 */

const HEADER_BYTES = 8;
/** A Detection is a few hundred bytes; anything past this is a corrupt length, not a record. */
const MAX_RECORD_BYTES = 1024 * 1024;
const SEGMENT_RE = /^(\d{20})\.seg$/;

/** Options of {@link openHubSegmentLog}; the bounds come from the `hub` config. */
export interface HubSegmentLogOptions {
  dir: string;
  /** Start a new segment once the current one reaches this size. */
  segmentBytes: number;
  /** Delete the oldest segments while the log is larger than this (the current one is kept). */
  maxBytes: number;
  /** Detections the hub retains (historySize): segments wholly older than that are deleted. */
  retain: number;
  logger: Logger;
  /** Called for each I/O failure after open (the log keeps going; the hub never stops for it). */
  onError?: (err: Error) => void;
}

/** What open found on disk. */
export interface HubSegmentLogRecovery {
  /** The contiguous run of detections ending at lastSequence, oldest first, at most `retain`. */
  readonly detections: readonly Detection[];
  /** Highest sequence persisted (0 for an empty log): the hub continues after it. */
  readonly lastSequence: number;
  /** Bytes skipped because a frame was torn or corrupt. */
  readonly skippedBytes: number;
  readonly segments: number;
}

export interface HubSegmentLog {
  readonly recovery: HubSegmentLogRecovery;
  /** Queues one sequenced detection; written once the current synchronous burst ends. */
  append(detection: Detection): void;
  /** Writes what is queued now. */
  flush(): void;
  /** Bytes currently on disk (all segments, including queued appends). */
  sizeBytes(): number;
  /** Flushes, fsyncs and closes; later appends are ignored. */
  close(): void;
}

interface Segment {
  first: number;
  path: string;
  bytes: number;
}

const segmentName = (first: number): string => `${String(first).padStart(20, '0')}.seg`;

/** Parses one segment's bytes into records; stops at the first bad frame. */
function readSegment(buf: Buffer): { records: Detection[]; validBytes: number } {
  const records: Detection[] = [];
  let off = 0;
  while (off + HEADER_BYTES <= buf.length) {
    const len = buf.readUInt32LE(off);
    const crc = buf.readUInt32LE(off + 4);
    if (len === 0 || len > MAX_RECORD_BYTES || off + HEADER_BYTES + len > buf.length) break;
    const payload = buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
    if (crc32(payload) !== crc) break;
    let d: Detection;
    try {
      d = Detection.decode(payload);
    } catch {
      break;
    }
    records.push(d);
    off += HEADER_BYTES + len;
  }
  return { records, validBytes: off };
}

/** Frames a detection as one record. */
export function frameRecord(detection: Detection): Buffer {
  const payload = Buffer.from(Detection.encode(detection).finish());
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/**
 * Opens (creating it if needed) the segment log in `dir` and recovers what it holds.
 * Throws ST_ERR_HUB_LOG when the directory cannot be created or read: a configured log that
 * cannot work is a startup error, not something to discover after a restart.
 */
export function openHubSegmentLog(opts: HubSegmentLogOptions): HubSegmentLog {
  const { dir, logger } = opts;
  let names: string[];
  try {
    mkdirSync(dir, { recursive: true });
    names = readdirSync(dir)
      .filter((n) => SEGMENT_RE.test(n))
      .sort();
  } catch (err) {
    throw ERR_HUB_LOG(dir, (err as Error).message);
  }

  const segments: Segment[] = [];
  // Keep only the newest `retain` records while reading: memory stays bounded by history.
  let tail: Detection[] = [];
  let lastSequence = 0;
  let skippedBytes = 0;
  for (const name of names) {
    const path = join(dir, name);
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (err) {
      throw ERR_HUB_LOG(dir, (err as Error).message);
    }
    const { records, validBytes } = readSegment(buf);
    if (validBytes < buf.length) {
      skippedBytes += buf.length - validBytes;
      logger.warn(
        { segment: name, skippedBytes: buf.length - validBytes },
        'segment log: torn or corrupt record skipped',
      );
    }
    for (const d of records) {
      // Sequences only grow; a record that does not is corruption that passed the CRC.
      if (d.sequence <= lastSequence) continue;
      lastSequence = d.sequence;
      tail.push(d);
    }
    if (tail.length > 2 * opts.retain) tail = tail.slice(-opts.retain);
    segments.push({ first: Number(SEGMENT_RE.exec(name)![1]), path, bytes: buf.length });
  }
  tail = tail.slice(-opts.retain);
  // Only a gap-free run ending at lastSequence can be served; anything older than a hole
  // is reported to subscribers as evicted rather than replayed around the hole.
  let start = tail.length - 1;
  while (start > 0 && tail[start - 1]!.sequence === tail[start]!.sequence - 1) start--;
  const detections = start < 0 ? [] : tail.slice(start);
  const recovery: HubSegmentLogRecovery = { detections, lastSequence, skippedBytes, segments: segments.length };

  let fd: number | undefined;
  let current: Segment | undefined;
  let pending: Buffer[] = [];
  let scheduled = false;
  let closed = false;
  let total = segments.reduce((a, s) => a + s.bytes, 0);

  const fail = (err: unknown): void => {
    const e = ERR_HUB_LOG(dir, (err as Error).message);
    logger.error({ err: e }, 'segment log write failed');
    opts.onError?.(e);
  };

  const removeSegment = (s: Segment): void => {
    try {
      unlinkSync(s.path);
    } catch (err) {
      fail(err);
    }
    total -= s.bytes;
  };

  const prune = (): void => {
    // Segment i holds sequences [first_i, first_{i+1}); it is useless once all are out of retention.
    const oldestKept = lastSequence - opts.retain + 1;
    while (segments.length > 1 && segments[1]!.first <= oldestKept) removeSegment(segments.shift()!);
    while (segments.length > 1 && total > opts.maxBytes) removeSegment(segments.shift()!);
  };

  const writePending = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    if (fd === undefined) {
      // The segment could not be opened (already counted): drop rather than grow without bound.
      pending = [];
      return;
    }
    const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    try {
      writeSync(fd, buf);
    } catch (err) {
      fail(err);
    }
  };

  const closeCurrent = (): void => {
    writePending();
    if (fd === undefined) return;
    try {
      fsyncSync(fd);
      closeSync(fd);
    } catch (err) {
      fail(err);
    }
    fd = undefined;
  };

  const roll = (first: number): void => {
    closeCurrent();
    current = { first, path: join(dir, segmentName(first)), bytes: 0 };
    // A previous run may have left a wholly torn segment under this name: start it afresh.
    const stale = segments.findIndex((s) => s.path === current!.path);
    if (stale >= 0) total -= segments.splice(stale, 1)[0]!.bytes;
    segments.push(current);
    try {
      fd = openSync(current.path, 'w');
    } catch (err) {
      fail(err);
    }
    prune();
  };

  return {
    recovery,
    append(detection) {
      if (closed) return;
      const frame = frameRecord(detection);
      if (current === undefined || (current.bytes > 0 && current.bytes + frame.length > opts.segmentBytes)) {
        roll(detection.sequence);
      }
      lastSequence = detection.sequence;
      pending.push(frame);
      current!.bytes += frame.length;
      total += frame.length;
      if (!scheduled) {
        scheduled = true;
        // One write per synchronous burst, and a microtask so that it runs before the woken
        // subscriber pumps (queued after it): nothing reaches a consumer before the OS has it,
        // so a process crash can never make the next run reissue a sequence someone has seen.
        queueMicrotask(writePending);
      }
    },
    flush: writePending,
    sizeBytes: () => total,
    close() {
      if (closed) return;
      closed = true;
      closeCurrent();
    },
  };
}

/** Bytes of the segment files in `dir` (for tests and diagnostics). */
export function segmentLogFiles(dir: string): Array<{ name: string; bytes: number }> {
  return readdirSync(dir)
    .filter((n) => SEGMENT_RE.test(n))
    .sort()
    .map((name) => ({ name, bytes: statSync(join(dir, name)).size }));
}
