import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { resolveConfig } from '../src/config/config.js';
import { Detection, Severity, Source } from '../src/gen/shadowtap/v1/detection.js';
import type { SubscribeResponse } from '../src/gen/shadowtap/v1/detection_service.js';
import { createStreamHub } from '../src/publish/stream-hub.js';

type HubOptions = Parameters<typeof resolveConfig>[0] extends infer O
  ? O extends { hub?: infer H }
    ? H
    : never
  : never;

function hubConfig(hub: HubOptions = {}) {
  return resolveConfig({ hub }).hub;
}

function det(i: number, over: Partial<Detection> = {}): Detection {
  return Detection.fromPartial({
    id: `d${i}`,
    attackType: i % 2 === 0 ? 'sqli' : 'xss',
    severity: Severity.SEVERITY_HIGH,
    source: Source.SOURCE_MIRROR,
    host: 'a.example',
    path: `/p/${i}`,
    ...over,
  });
}

const seqs = (events: SubscribeResponse[]): number[] =>
  events.flatMap((e) => (e.event?.$case === 'detection' ? [e.event.value.sequence] : []));
const gaps = (events: SubscribeResponse[]) => events.flatMap((e) => (e.event?.$case === 'gap' ? [e.event.value] : []));

describe('stream hub', () => {
  it('assigns increasing sequences and delivers in order, filtered', () => {
    const hub = createStreamHub(hubConfig());
    const all = hub.subscribe();
    const sqli = hub.subscribe({
      filter: { minSeverity: 0, attackTypes: ['sqli'], hosts: [], pathPrefixes: [], sources: [] },
    });
    for (let i = 1; i <= 10; i++) hub.publish(det(i));
    assert.deepEqual(seqs(all.read(100)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(seqs(sqli.read(100)), [2, 4, 6, 8, 10]);
    assert.deepEqual(all.read(100), []);
    hub.close();
  });

  it('resume replays everything after the sequence, without duplicates', () => {
    const hub = createStreamHub(hubConfig());
    for (let i = 1; i <= 20; i++) hub.publish(det(i));
    const sub = hub.subscribe({ resumeAfterSequence: 12 });
    assert.deepEqual(seqs(sub.read(100)), [13, 14, 15, 16, 17, 18, 19, 20]);
    hub.close();
  });

  it('resuming before the retained history starts with an evicted gap marker', () => {
    const hub = createStreamHub(hubConfig({ historySize: 10 }));
    for (let i = 1; i <= 25; i++) hub.publish(det(i));
    const sub = hub.subscribe({ resumeAfterSequence: 3 });
    const events = sub.read(100);
    assert.deepEqual(gaps(events), [{ fromSequence: 4, toSequence: 15, reason: 'evicted' }]);
    assert.deepEqual(seqs(events), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    hub.close();
  });

  it('a resume point the hub never issued is reported as a reset, then history is replayed', () => {
    const hub = createStreamHub(hubConfig());
    for (let i = 1; i <= 3; i++) hub.publish(det(i));
    const events = hub.subscribe({ resumeAfterSequence: 500 }).read(100);
    assert.deepEqual(gaps(events), [{ fromSequence: 1, toSequence: 0, reason: 'reset' }]);
    assert.deepEqual(seqs(events), [1, 2, 3]);
    hub.close();
  });

  it('drop-oldest: a slow subscriber skips ahead with a slow_consumer gap, others are unaffected', async () => {
    const registry = new Registry();
    const hub = createStreamHub(hubConfig({ historySize: 1000, subscriberQueue: 10 }), { registry });
    const slow = hub.subscribe();
    const fast = hub.subscribe();
    const got: number[] = [];
    for (let i = 1; i <= 50; i++) {
      hub.publish(det(i));
      got.push(...seqs(fast.read(100)));
    }
    assert.deepEqual(
      got,
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    const events = slow.read(100);
    assert.deepEqual(gaps(events), [{ fromSequence: 1, toSequence: 40, reason: 'slow_consumer' }]);
    assert.deepEqual(seqs(events), [41, 42, 43, 44, 45, 46, 47, 48, 49, 50]);
    assert.equal(slow.closed, false);
    const metric = await registry.getSingleMetric('shadowtap_stream_gaps_total')!.get();
    assert.equal(metric.values.find((v) => v.labels.reason === 'slow_consumer')?.value, 1);
    hub.close();
  });

  it('disconnect: a subscriber past its queue is closed with ST_ERR_SLOW_CONSUMER at publish time', async () => {
    const registry = new Registry();
    const hub = createStreamHub(hubConfig({ subscriberQueue: 5, slowConsumer: 'disconnect' }), { registry });
    const slow = hub.subscribe();
    const fast = hub.subscribe();
    for (let i = 1; i <= 5; i++) hub.publish(det(i));
    assert.equal(slow.closed, false);
    fast.read(100);
    hub.publish(det(6));
    assert.equal(slow.closed, true);
    assert.equal(slow.error?.code, 'ST_ERR_SLOW_CONSUMER');
    assert.equal(fast.closed, false);
    let ended = 0;
    slow.onEnd(() => ended++);
    assert.equal(ended, 1, 'onEnd after the end runs at once');
    assert.equal(hub.subscriberCount(), 1);
    const metric = await registry.getSingleMetric('shadowtap_stream_slow_consumer_disconnects_total')!.get();
    assert.equal(metric.values[0]?.value, 1);
    hub.close();
  });

  it('a resume replaying more than subscriberQueue retained detections is not a slow consumer', () => {
    for (const slowConsumer of ['drop-oldest', 'disconnect'] as const) {
      const hub = createStreamHub(hubConfig({ historySize: 100, subscriberQueue: 10, slowConsumer }));
      for (let i = 1; i <= 50; i++) hub.publish(det(i));
      const sub = hub.subscribe({ resumeAfterSequence: 5 });
      hub.publish(det(51));
      const events = sub.read(100);
      assert.deepEqual(gaps(events), [], slowConsumer);
      assert.deepEqual(
        seqs(events),
        Array.from({ length: 46 }, (_, i) => i + 6),
        slowConsumer,
      );
      hub.close();
    }
    // Falling behind on live detections while replaying still counts.
    const hub = createStreamHub(hubConfig({ historySize: 100, subscriberQueue: 10 }));
    for (let i = 1; i <= 50; i++) hub.publish(det(i));
    const sub = hub.subscribe({ resumeAfterSequence: 5 });
    for (let i = 51; i <= 61; i++) hub.publish(det(i));
    const events = sub.read(100);
    assert.deepEqual(gaps(events), [{ fromSequence: 6, toSequence: 51, reason: 'slow_consumer' }]);
    assert.deepEqual(seqs(events), [52, 53, 54, 55, 56, 57, 58, 59, 60, 61]);
    hub.close();
  });

  it('wait() resolves on publish and on close; onEnd listeners run once, unless removed', async () => {
    const hub = createStreamHub(hubConfig());
    const sub = hub.subscribe();
    const waiting = sub.wait();
    hub.publish(det(1));
    await waiting;
    assert.deepEqual(seqs(sub.read(10)), [1]);
    const again = sub.wait();
    const ends: string[] = [];
    sub.onEnd(() => ends.push('kept'));
    const off = sub.onEnd(() => ends.push('removed'));
    off();
    hub.close();
    await again;
    assert.equal(sub.closed, true);
    assert.deepEqual(ends, ['kept']);
  });

  it('list pages through retained history with a filter', () => {
    const hub = createStreamHub(hubConfig({ historySize: 8 }));
    for (let i = 1; i <= 12; i++) hub.publish(det(i));
    assert.deepEqual(
      hub.list(0, 100).map((d) => d.sequence),
      [5, 6, 7, 8, 9, 10, 11, 12],
    );
    assert.deepEqual(
      hub
        .list(6, 2, { minSeverity: 0, attackTypes: ['sqli'], hosts: [], pathPrefixes: [], sources: [] })
        .map((d) => d.sequence),
      [8, 10],
    );
    assert.equal(hub.oldestSequence(), 5);
    hub.close();
  });
});
