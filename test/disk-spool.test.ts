import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../src/core/logger.js';
import {
  crc32,
  encodeRecord,
  openDiskSpool,
  scanRecords,
  type DiskSpoolOptions,
} from '../src/publish/reporter/disk-spool.js';
import type { ReportBatch } from '../src/publish/reporter/sink.js';

const root = mkdtempSync(join(tmpdir(), 'shadowtap-spool-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function options(over: Partial<DiskSpoolOptions> = {}): DiskSpoolOptions {
  return {
    dir: join(root, `s${++n}`),
    maxBytes: 1024 * 1024,
    segmentBytes: 64 * 1024,
    fsync: 'never',
    fsyncIntervalMs: 1000,
    whenFull: 'drop-oldest',
    logger: silentLogger(),
    ...over,
  };
}

function batch(id: number, size = 2): ReportBatch {
  return {
    id: `t-${id}`,
    createdUnixMs: 1,
    detections: Array.from({ length: size }, (_, i) => ({ sequence: id * 100 + i, fragment: 'x'.repeat(20) })),
  };
}

async function drain(opts: DiskSpoolOptions, limit = Infinity): Promise<string[]> {
  const spool = await openDiskSpool(opts);
  const ids: string[] = [];
  while (ids.length < limit) {
    const h = await spool.head();
    if (!h) break;
    ids.push(h.batch.id);
    await spool.ack(h.ref);
  }
  await spool.close();
  return ids;
}

const segments = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.startsWith('seg-'))
    .sort();

describe('disk spool', () => {
  it('crc32 matches the IEEE check value', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  });

  it('replays records in append order and forgets them once acknowledged', async () => {
    const opts = options({ segmentBytes: 300 });
    const spool = await openDiskSpool(opts);
    for (let i = 1; i <= 10; i++) assert.equal((await spool.append(batch(i))).spooled, true);
    assert.equal(spool.records, 10);
    assert.equal(spool.detections, 20);
    assert.ok(segments(opts.dir).length > 1, 'small segments roll');
    const ids: string[] = [];
    for (let h = await spool.head(); h; h = await spool.head()) {
      ids.push(h.batch.id);
      await spool.ack(h.ref);
    }
    assert.deepEqual(
      ids,
      Array.from({ length: 10 }, (_, i) => `t-${i + 1}`),
    );
    assert.equal(spool.records, 0);
    assert.equal(spool.bytes, 0);
    assert.deepEqual(segments(opts.dir), [], 'replayed segments are deleted');
    await spool.close();
  });

  it('remembers how far replay got across a restart', async () => {
    const opts = options();
    const spool = await openDiskSpool(opts);
    for (let i = 1; i <= 5; i++) await spool.append(batch(i));
    for (let i = 0; i < 2; i++) {
      const h = await spool.head();
      await spool.ack(h!.ref);
    }
    await spool.close();
    assert.deepEqual(await drain(opts), ['t-3', 't-4', 't-5']);
  });

  it('detects a torn tail write at open, truncates it and keeps the whole records', async () => {
    const opts = options();
    const spool = await openDiskSpool(opts);
    for (let i = 1; i <= 3; i++) await spool.append(batch(i));
    await spool.close();
    const file = join(opts.dir, segments(opts.dir)[0]!);
    const size = statSync(file).size;
    truncateSync(file, size - 7); // the third record lost its last bytes
    const reopened = await openDiskSpool(opts);
    assert.equal(reopened.records, 2);
    assert.ok(reopened.recoveredTornBytes > 0);
    await reopened.close();
    assert.equal(statSync(file).size, encodeRecord(batch(1)).length * 2, 'file cut back to the last whole record');
    assert.deepEqual(await drain(opts), ['t-1', 't-2']);
  });

  it('skips a record whose CRC does not match, and garbage after the last record', async () => {
    const opts = options();
    const spool = await openDiskSpool(opts);
    for (let i = 1; i <= 3; i++) await spool.append(batch(i));
    await spool.close();
    const file = join(opts.dir, segments(opts.dir)[0]!);
    const buf = readFileSync(file);
    const recLen = encodeRecord(batch(1)).length;
    buf[recLen * 2 + 30] = buf[recLen * 2 + 30]! ^ 0xff; // flip a payload byte of record 3
    writeFileSync(file, buf);
    assert.deepEqual(await drain(opts), ['t-1', 't-2']);

    const opts2 = options();
    const s2 = await openDiskSpool(opts2);
    await s2.append(batch(7));
    await s2.close();
    appendFileSync(join(opts2.dir, segments(opts2.dir)[0]!), Buffer.alloc(40)); // zeros, like a preallocated tail
    assert.deepEqual(await drain(opts2), ['t-7']);
  });

  it('scanRecords stops at a zero-length record', () => {
    const good = encodeRecord(batch(1));
    const zero = Buffer.alloc(16);
    zero.writeUInt32BE(0x53545231, 0);
    const { records, validBytes } = scanRecords(Buffer.concat([good, zero]));
    assert.equal(records.length, 1);
    assert.equal(validBytes, good.length);
  });

  it('drop-oldest evicts whole old segments, counts their detections, and stays under maxBytes', async () => {
    const rec = encodeRecord(batch(1)).length;
    const opts = options({ maxBytes: rec * 6, segmentBytes: rec * 2, whenFull: 'drop-oldest' });
    const spool = await openDiskSpool(opts);
    let evicted = 0;
    for (let i = 1; i <= 20; i++) {
      const r = await spool.append(batch(i));
      assert.equal(r.spooled, true);
      evicted += r.evictedDetections;
      const disk = segments(opts.dir).reduce((s, f) => s + statSync(join(opts.dir, f)).size, 0);
      assert.ok(disk <= opts.maxBytes, `disk ${disk} <= ${opts.maxBytes}`);
    }
    assert.equal(evicted + spool.detections, 40, 'every detection is either spooled or counted as evicted');
    await spool.close();
    const ids = await drain(opts);
    assert.equal(ids.at(-1), 't-20', 'the newest survive');
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2))),
    );
  });

  it('drop-newest refuses new records once full and keeps the oldest', async () => {
    const rec = encodeRecord(batch(1)).length;
    const opts = options({ maxBytes: rec * 4, segmentBytes: rec * 2, whenFull: 'drop-newest' });
    const spool = await openDiskSpool(opts);
    const results = [];
    for (let i = 1; i <= 6; i++) results.push(await spool.append(batch(i)));
    assert.deepEqual(
      results.map((r) => r.dropReason ?? 'ok'),
      ['ok', 'ok', 'ok', 'ok', 'spool_full', 'spool_full'],
    );
    await spool.close();
    assert.deepEqual(await drain(opts), ['t-1', 't-2', 't-3', 't-4']);
  });

  it('refuses a record larger than the whole spool', async () => {
    const spool = await openDiskSpool(options({ maxBytes: 200, segmentBytes: 100 }));
    const r = await spool.append(batch(1, 20));
    assert.equal(r.spooled, false);
    assert.equal(r.dropReason, 'too_large');
    await spool.close();
  });

  it('one writer per directory: a live owner blocks, a dead owner (crash) is taken over', async () => {
    const opts = options();
    const spool = await openDiskSpool(opts);
    await assert.rejects(openDiskSpool(opts), /in use by process/);
    await spool.close();
    const again = await openDiskSpool(opts);
    await again.close();
    writeFileSync(join(opts.dir, 'lock'), '2147483646'); // no such process
    const taken = await openDiskSpool(opts);
    assert.equal(readFileSync(join(opts.dir, 'lock'), 'utf8'), String(process.pid));
    await taken.close();
  });

  it('fsync always: every append is on disk when it resolves', async () => {
    const opts = options({ fsync: 'always' });
    const spool = await openDiskSpool(opts);
    await spool.append(batch(1));
    const { records } = scanRecords(readFileSync(join(opts.dir, segments(opts.dir)[0]!)));
    assert.equal(records.length, 1);
    await spool.close();
  });
});
