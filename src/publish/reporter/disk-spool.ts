import { mkdir, open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import type { Logger } from '../../core/logger.js';
import type { ReportBatch } from './sink.js';

/*
 * A bounded, append-only, crash-safe FIFO of batches on disk: one directory per sink,
 * segment files `seg-<seq>.log` of framed records, and a small `cursor` file that remembers
 * how far replay got. A record is
 *
 *   magic u32 'STR1' | payload length u32 | detection count u32 | crc32(count ‖ payload) u32 | payload (JSON batch)
 *
 * all big-endian. A write torn by a crash leaves a record whose length or CRC does not match;
 * the scan at open stops there and truncates the file, so a restart never replays garbage.
 */

const MAGIC = 0x53545231;
const HEADER_BYTES = 16;
const SEGMENT_RE = /^seg-(\d{12})\.log$/;
const CURSOR_FILE = 'cursor';
const LOCK_FILE = 'lock';

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface DiskSpoolOptions {
  dir: string;
  /** Bytes the segment files may take on disk, all together. */
  maxBytes: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  whenFull: 'drop-oldest' | 'drop-newest';
  logger: Logger;
}

/** Where a spooled record lives; handed back to `ack`. */
export interface SpoolRef {
  readonly seq: number;
  readonly offset: number;
}

export interface AppendResult {
  /** The batch is on disk (and synced, with fsync 'always'). */
  spooled: boolean;
  /** Why the batch itself was not spooled. */
  dropReason?: 'spool_full' | 'too_large' | 'io_error';
  /** Detections of older records evicted to make room (drop-oldest). */
  evictedDetections: number;
  /** Where the batch was written, when spooled. */
  ref?: SpoolRef;
}

export interface DiskSpool {
  /** Appends a batch at the tail, applying the when-full policy. Never rejects. */
  append(batch: ReportBatch): Promise<AppendResult>;
  /** The oldest record not yet acknowledged, or undefined when the spool is empty. */
  head(): Promise<{ ref: SpoolRef; batch: ReportBatch } | undefined>;
  /** Marks the head record delivered; a ref that is no longer the head (evicted) is ignored. */
  ack(ref: SpoolRef): Promise<void>;
  /** Records waiting for replay. */
  readonly records: number;
  /** Framed bytes of the records waiting for replay. */
  readonly bytes: number;
  /** Detections in the records waiting for replay. */
  readonly detections: number;
  /** Bytes discarded at open because a record was torn or corrupt. */
  readonly recoveredTornBytes: number;
  /** Syncs (unless fsync 'never') and closes the files. */
  close(): Promise<void>;
}

interface RecordInfo {
  offset: number;
  length: number;
  count: number;
}

interface Segment {
  seq: number;
  path: string;
  size: number;
  records: RecordInfo[];
}

type Crc32 = (data: Uint8Array, value?: number) => number;

let crcTable: Uint32Array | undefined;
/** Table CRC-32 (IEEE) for Node versions before zlib.crc32 (20.15). */
function tableCrc32(data: Uint8Array, value = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = ~value >>> 0;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

export const crc32: Crc32 = (zlib as { crc32?: Crc32 }).crc32 ?? tableCrc32;

function recordCrc(count: number, payload: Uint8Array): number {
  const c = Buffer.allocUnsafe(4);
  c.writeUInt32BE(count);
  return crc32(payload, crc32(c));
}

/** Frames one batch as a spool record. */
export function encodeRecord(batch: ReportBatch): Buffer {
  const payload = Buffer.from(JSON.stringify(batch), 'utf8');
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(payload.length, 4);
  header.writeUInt32BE(batch.detections.length, 8);
  header.writeUInt32BE(recordCrc(batch.detections.length, payload), 12);
  return Buffer.concat([header, payload]);
}

/** Walks the records of one segment's bytes; stops at the first torn or corrupt one. */
export function scanRecords(buf: Buffer): { records: RecordInfo[]; validBytes: number } {
  const records: RecordInfo[] = [];
  let off = 0;
  while (off + HEADER_BYTES <= buf.length) {
    if (buf.readUInt32BE(off) !== MAGIC) break;
    const len = buf.readUInt32BE(off + 4);
    const count = buf.readUInt32BE(off + 8);
    const crc = buf.readUInt32BE(off + 12);
    const end = off + HEADER_BYTES + len;
    if (len === 0 || end > buf.length) break;
    if (recordCrc(count, buf.subarray(off + HEADER_BYTES, end)) !== crc) break;
    records.push({ offset: off, length: HEADER_BYTES + len, count });
    off = end;
  }
  return { records, validBytes: off };
}

const segmentName = (seq: number): string => `seg-${String(seq).padStart(12, '0')}.log`;

function encodeCursor(seq: number, offset: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeDoubleBE(seq, 0);
  b.writeUInt32BE(offset, 8);
  b.writeUInt32BE(crc32(b.subarray(0, 12)), 12);
  return b;
}

function decodeCursor(b: Buffer): { seq: number; offset: number } | undefined {
  if (b.length !== 16 || crc32(b.subarray(0, 12)) !== b.readUInt32BE(12)) return undefined;
  return { seq: b.readDoubleBE(0), offset: b.readUInt32BE(8) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<dir>/lock` (our pid): two writers on one spool would interleave records. A lock
 * left by a process that no longer runs (a crash) is taken over.
 */
async function lockDir(dir: string): Promise<string> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new Error(`spool ${dir} is in use by process ${owner}`);
    }
    await rm(path, { force: true });
  }
  throw new Error(`spool ${dir}: cannot take the lock`);
}

/**
 * Opens (creating if needed) the spool in `opts.dir`, recovering from a crash: torn tails are
 * truncated, segments the cursor says were replayed are removed.
 */
export async function openDiskSpool(opts: DiskSpoolOptions): Promise<DiskSpool> {
  const { dir } = opts;
  // At least two segments must fit, or drop-oldest could never free room for a new record.
  const segmentBytes = Math.max(1, Math.min(opts.segmentBytes, Math.floor(opts.maxBytes / 2)));
  // Detections are sensitive: the spool is readable by this user only.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lockPath = await lockDir(dir);
  try {
    return await openLocked(opts, segmentBytes, lockPath);
  } catch (err) {
    await rm(lockPath, { force: true });
    throw err;
  }
}

async function openLocked(opts: DiskSpoolOptions, segmentBytes: number, lockPath: string): Promise<DiskSpool> {
  const { dir, logger } = opts;

  let cursor: { seq: number; offset: number } | undefined;
  try {
    cursor = decodeCursor(await readFile(join(dir, CURSOR_FILE)));
    if (!cursor) logger.warn({ dir }, 'spool cursor unreadable; replaying from the oldest segment');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }

  const names = (await readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort();
  const segments: Segment[] = [];
  let tornBytes = 0;
  let readIndex = 0;
  for (const name of names) {
    const seq = Number(SEGMENT_RE.exec(name)![1]);
    const path = join(dir, name);
    if (cursor && seq < cursor.seq) {
      await rm(path, { force: true });
      continue;
    }
    const buf = await readFile(path);
    const { records, validBytes } = scanRecords(buf);
    if (validBytes < buf.length) {
      tornBytes += buf.length - validBytes;
      logger.warn({ segment: name, discardedBytes: buf.length - validBytes }, 'spool: torn or corrupt tail discarded');
      await truncate(path, validBytes);
    }
    if (records.length === 0) {
      await rm(path, { force: true });
      continue;
    }
    if (segments.length === 0 && cursor && seq === cursor.seq) {
      const from = cursor.offset;
      readIndex = records.findIndex((r) => r.offset >= from);
      if (readIndex < 0) readIndex = records.length;
    }
    segments.push({ seq, path, size: validBytes, records });
  }

  let nextSeq = names.length > 0 ? Number(SEGMENT_RE.exec(names[names.length - 1]!)![1]) + 1 : 1;
  if (cursor && cursor.seq >= nextSeq) nextSeq = cursor.seq + 1;
  let writer: { seg: Segment; fh: FileHandle } | undefined;
  let cursorFh: FileHandle | undefined;
  let dirty = false;
  let closed = false;

  let records = 0;
  let bytes = 0;
  let detections = 0;
  segments.forEach((s, i) => {
    for (const r of s.records.slice(i === 0 ? readIndex : 0)) {
      records++;
      bytes += r.length;
      detections += r.count;
    }
  });
  const diskBytes = (): number => segments.reduce((sum, s) => sum + s.size, 0);

  // Every file operation runs on this chain, one at a time, so appends, reads and deletes
  // never interleave.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => undefined);
    return p;
  };

  const syncDir = async (): Promise<void> => {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  };

  const closeWriter = async (): Promise<void> => {
    if (!writer) return;
    const { fh } = writer;
    writer = undefined;
    if (dirty && opts.fsync !== 'never') await fh.datasync();
    dirty = false;
    await fh.close();
  };

  const removeSegment = async (seg: Segment): Promise<void> => {
    if (writer?.seg === seg) await closeWriter();
    segments.splice(segments.indexOf(seg), 1);
    await rm(seg.path, { force: true });
  };

  const writeCursor = async (): Promise<void> => {
    const head = segments[0];
    const buf = head ? encodeCursor(head.seq, head.records[readIndex]?.offset ?? head.size) : encodeCursor(nextSeq, 0);
    cursorFh ??= await open(join(dir, CURSOR_FILE), 'w', 0o600);
    await cursorFh.write(buf, 0, buf.length, 0);
  };

  /** Drops the oldest segment whole (its unreplayed records are counted as evicted). */
  const evictOldest = async (): Promise<number> => {
    const seg = segments[0]!;
    let evicted = 0;
    for (const r of seg.records.slice(readIndex)) {
      records--;
      bytes -= r.length;
      detections -= r.count;
      evicted += r.count;
    }
    readIndex = 0;
    await removeSegment(seg);
    await writeCursor();
    return evicted;
  };

  const doAppend = async (batch: ReportBatch): Promise<AppendResult> => {
    if (closed) return { spooled: false, dropReason: 'io_error', evictedDetections: 0 };
    const frame = encodeRecord(batch);
    if (frame.length > opts.maxBytes) return { spooled: false, dropReason: 'too_large', evictedDetections: 0 };
    let evictedDetections = 0;
    while (diskBytes() + frame.length > opts.maxBytes && segments.length > 0) {
      if (opts.whenFull === 'drop-newest') return { spooled: false, dropReason: 'spool_full', evictedDetections };
      evictedDetections += await evictOldest();
    }
    if (writer && writer.seg.size > 0 && writer.seg.size + frame.length > segmentBytes) await closeWriter();
    if (!writer) {
      const seg: Segment = { seq: nextSeq++, path: '', size: 0, records: [] };
      seg.path = join(dir, segmentName(seg.seq));
      const fh = await open(seg.path, 'wx', 0o600);
      writer = { seg, fh };
      segments.push(seg);
      // The new file's directory entry must survive a power cut too.
      if (opts.fsync === 'always') await syncDir();
    }
    const seg = writer.seg;
    await writer.fh.write(frame, 0, frame.length, seg.size);
    seg.records.push({ offset: seg.size, length: frame.length, count: batch.detections.length });
    seg.size += frame.length;
    records++;
    bytes += frame.length;
    detections += batch.detections.length;
    if (opts.fsync === 'always') await writer.fh.datasync();
    else dirty = true;
    return { spooled: true, evictedDetections, ref: { seq: seg.seq, offset: seg.size - frame.length } };
  };

  const doHead = async (): Promise<{ ref: SpoolRef; batch: ReportBatch } | undefined> => {
    for (;;) {
      if (closed) return undefined;
      const seg = segments[0];
      if (!seg) return undefined;
      const rec = seg.records[readIndex];
      if (!rec) {
        // Fully replayed segment left behind (e.g. the writer rolled since): delete it.
        if (seg === writer?.seg) return undefined;
        readIndex = 0;
        await removeSegment(seg);
        await writeCursor();
        continue;
      }
      const fh = await open(seg.path, 'r');
      let payload: Buffer;
      try {
        payload = Buffer.allocUnsafe(rec.length - HEADER_BYTES);
        await fh.read(payload, 0, payload.length, rec.offset + HEADER_BYTES);
      } finally {
        await fh.close();
      }
      const ref = { seq: seg.seq, offset: rec.offset };
      try {
        return { ref, batch: JSON.parse(payload.toString('utf8')) as ReportBatch };
      } catch (err) {
        // The CRC matched, so this is a bug or a disk that lies; skip the record, loudly.
        logger.error(
          { err, segment: seg.path, offset: rec.offset, detections: rec.count },
          'spool record unreadable; skipped',
        );
        await doAck(ref);
      }
    }
  };

  const doAck = async (ref: SpoolRef): Promise<void> => {
    const seg = segments[0];
    const rec = seg?.records[readIndex];
    if (closed || !seg || !rec || seg.seq !== ref.seq || rec.offset !== ref.offset) return;
    readIndex++;
    records--;
    bytes -= rec.length;
    detections -= rec.count;
    if (readIndex >= seg.records.length) {
      readIndex = 0;
      await removeSegment(seg);
    }
    await writeCursor();
  };

  const timer =
    opts.fsync === 'interval'
      ? setInterval(() => {
          if (dirty && writer) {
            const fh = writer.fh;
            dirty = false;
            serial(() => fh.datasync()).catch((err: unknown) => logger.warn({ err }, 'spool fsync failed'));
          }
        }, opts.fsyncIntervalMs)
      : undefined;
  timer?.unref();

  return {
    append: (batch) =>
      serial(() => doAppend(batch)).catch((err: unknown) => {
        logger.error({ err, dir }, 'spool append failed');
        return { spooled: false, dropReason: 'io_error' as const, evictedDetections: 0 };
      }),
    head: () => serial(doHead),
    ack: (ref) => serial(() => doAck(ref)),
    get records() {
      return records;
    },
    get bytes() {
      return bytes;
    },
    get detections() {
      return detections;
    },
    recoveredTornBytes: tornBytes,
    close: () =>
      serial(async () => {
        if (closed) return;
        closed = true;
        if (timer) clearInterval(timer);
        await closeWriter();
        await cursorFh?.close();
        cursorFh = undefined;
        await rm(lockPath, { force: true });
      }),
  };
}
