import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCoreMetrics } from '../src/core/metrics.js';

describe('core metrics', () => {
  it('hot counters report every increment, per label, in the text exposition and in get()', async () => {
    const metrics = createCoreMetrics();
    metrics.received.inc({ source: 'mirror' });
    metrics.received.inc({ source: 'mirror' });
    metrics.received.inc({ source: 'ext_proc' }, 5);
    const text = await metrics.registry.getSingleMetricAsString('shadowtap_received_total');
    assert.match(text, /^# TYPE shadowtap_received_total counter$/m);
    assert.match(text, /^shadowtap_received_total\{source="mirror"\} 2$/m);
    assert.match(text, /^shadowtap_received_total\{source="ext_proc"\} 5$/m);
    // Increments after a scrape add to what was reported, they do not replace it.
    metrics.received.inc({ source: 'mirror' });
    const { values } = await metrics.received.get();
    assert.deepEqual(values.map((v) => [v.labels.source, v.value]).sort(), [
      ['ext_proc', 5],
      ['mirror', 3],
    ]);
    // A scrape with nothing new leaves the totals as they were.
    assert.match(await metrics.registry.metrics(), /^shadowtap_received_total\{source="mirror"\} 3$/m);
  });

  it('reads queue depth and pool utilisation from their sources at scrape time', async () => {
    const metrics = createCoreMetrics();
    let depth = 7;
    metrics.queueDepth.setSource(() => depth);
    metrics.poolUtilization.setSource(() => 0.5);
    assert.match(await metrics.registry.metrics(), /^shadowtap_admission_queue_depth 7$/m);
    depth = 0;
    const text = await metrics.registry.metrics();
    assert.match(text, /^shadowtap_admission_queue_depth 0$/m);
    assert.match(text, /^shadowtap_pool_utilization 0\.5$/m);
  });
});
