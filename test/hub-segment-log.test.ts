import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveConfig } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { Detection, Severity } from '../src/gen/shadowtap/v1/detection.js';
import type { SubscribeResponse } from '../src/gen/shadowtap/v1/detection_service.js';
import { openHubSegmentLog, segmentLogFiles } from '../src/publish/hub-segment-log.js';
import { createStreamHub } from '../src/publish/stream-hub.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'shadowtap-hublog-'));
  dirs.push(d);
  return d;
};

const det = (i: number): Detection =>
  Detection.fromPartial({ id: `d${i}`, attackType: 'sqli', severity: Severity.SEVERITY_HIGH, path: `/p/${i}` });
const seqs = (events: SubscribeResponse[]): number[] =>
  events.flatMap((e) => (e.event?.$case === 'detection' ? [e.event.value.sequence] : []));
const gaps = (events: SubscribeResponse[]) => events.flatMap((e) => (e.event?.$case === 'gap' ? [e.event.value] : []));

function hubConfig(logDir: string, extra: Record<string, number> = {}) {
  return resolveConfig({ hub: { logDir, historySize: 100, ...extra } }).hub;
}

describe('hub segment log', () => {
  it('a restarted hub continues the sequence and a consumer resumes across the restart', () => {
    const dir = tempDir();
    const first = createStreamHub(hubConfig(dir));
    for (let i = 1; i <= 30; i++) first.publish(det(i));
    first.close();

    const second = createStreamHub(hubConfig(dir));
    assert.equal(second.lastSequence(), 30);
    assert.equal(second.oldestSequence(), 1);
    const sub = second.subscribe({ resumeAfterSequence: 25 });
    assert.deepEqual(seqs(sub.read(100)), [26, 27, 28, 29, 30]);
    assert.equal(second.publish(det(31)).sequence, 31);
    assert.deepEqual(seqs(sub.read(100)), [31]);
    assert.equal(second.list(29, 10)[0]!.id, 'd30');
    second.close();
  });

  it('skips a torn tail on restart and keeps appending after it', () => {
    const dir = tempDir();
    const hub = createStreamHub(hubConfig(dir));
    for (let i = 1; i <= 10; i++) hub.publish(det(i));
    hub.close();
    const [seg] = segmentLogFiles(dir);
    const path = join(dir, seg!.name);
    // Simulate a crash in the middle of writing record 10.
    truncateSync(path, seg!.bytes - 5);

    const log = openHubSegmentLog({
      dir,
      segmentBytes: 1 << 20,
      maxBytes: 1 << 30,
      retain: 100,
      logger: silentLogger(),
    });
    assert.equal(log.recovery.lastSequence, 9);
    assert.ok(log.recovery.skippedBytes > 0);
    log.close();

    const again = createStreamHub(hubConfig(dir));
    assert.equal(again.lastSequence(), 9);
    assert.equal(again.publish(det(10)).sequence, 10);
    again.close();
    const third = createStreamHub(hubConfig(dir));
    assert.deepEqual(
      third.list(0, 100).map((d) => d.sequence),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    third.close();
  });

  it('a record that fails its CRC ends the readable part; older records before a hole are evicted, not replayed', () => {
    const dir = tempDir();
    const hub = createStreamHub(hubConfig(dir, { logSegmentBytes: 200 }));
    for (let i = 1; i <= 20; i++) hub.publish(det(i));
    hub.close();
    const files = segmentLogFiles(dir);
    assert.ok(files.length > 2, `expected several segments, got ${files.length}`);
    // Flip a byte inside the last record of the second segment: a hole in the sequence.
    const victim = join(dir, files[1]!.name);
    const bytes = readFileSync(victim);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(victim, bytes);

    const again = createStreamHub(hubConfig(dir, { logSegmentBytes: 200 }));
    assert.equal(again.lastSequence(), 20);
    const events = again.subscribe({ resumeAfterSequence: 0 + 1 }).read(100);
    const g = gaps(events);
    assert.equal(g.length, 1);
    assert.equal(g[0]!.reason, 'evicted');
    assert.equal(g[0]!.fromSequence, 2);
    const delivered = seqs(events);
    assert.equal(delivered[0], g[0]!.toSequence + 1);
    assert.equal(delivered[delivered.length - 1], 20);
    again.close();
  });

  it('stays bounded: segments older than the history and past maxBytes are deleted', () => {
    const dir = tempDir();
    const hub = createStreamHub(hubConfig(dir, { historySize: 50, logSegmentBytes: 500 }));
    for (let i = 1; i <= 400; i++) hub.publish(det(i));
    hub.close();
    const files = segmentLogFiles(dir);
    const total = files.reduce((a, f) => a + f.bytes, 0);
    // 50 retained records of ~30 bytes, plus at most one partly-needed segment and the current one.
    assert.ok(total < 3000, `log holds ${total} bytes in ${files.length} segments`);
    const again = createStreamHub(hubConfig(dir, { historySize: 50, logSegmentBytes: 500 }));
    assert.equal(again.lastSequence(), 400);
    assert.equal(again.oldestSequence(), 351);
    again.close();

    const capped = tempDir();
    const small = createStreamHub(hubConfig(capped, { historySize: 10000, logSegmentBytes: 500, logMaxBytes: 2000 }));
    for (let i = 1; i <= 400; i++) small.publish(det(i));
    small.close();
    assert.ok(segmentLogFiles(capped).reduce((a, f) => a + f.bytes, 0) <= 2000 + 500);
    const reopened = createStreamHub(
      hubConfig(capped, { historySize: 10000, logSegmentBytes: 500, logMaxBytes: 2000 }),
    );
    assert.equal(reopened.lastSequence(), 400);
    assert.ok(reopened.oldestSequence() > 300);
    const events = reopened.subscribe({ resumeAfterSequence: 10 }).read(5);
    assert.equal(gaps(events)[0]?.reason, 'evicted');
    reopened.close();
  });

  it('ignores foreign files and garbage appended to a segment', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'README'), 'not a segment');
    const hub = createStreamHub(hubConfig(dir));
    for (let i = 1; i <= 3; i++) hub.publish(det(i));
    hub.close();
    appendFileSync(join(dir, segmentLogFiles(dir)[0]!.name), Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5]));
    const again = createStreamHub(hubConfig(dir));
    assert.equal(again.lastSequence(), 3);
    again.close();
  });
});

describe('hub segment log failures', () => {
  it('an unusable directory is a startup error; a segment that cannot be opened is counted, not fatal', async () => {
    const dir = tempDir();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    assert.throws(() => createStreamHub(hubConfig(file)), { code: 'ST_ERR_HUB_LOG' });

    const errors: Error[] = [];
    const log = openHubSegmentLog({
      dir: join(dir, 'gone'),
      segmentBytes: 1 << 20,
      maxBytes: 1 << 30,
      retain: 10,
      logger: silentLogger(),
      onError: (e) => errors.push(e),
    });
    rmSync(join(dir, 'gone'), { recursive: true });
    log.append({ ...det(1), sequence: 1 });
    log.flush();
    log.close();
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error & { code?: string }).code, 'ST_ERR_HUB_LOG');
  });
});
