import type { HttpFormat } from './sink.js';

/**
 * Grafana Loki push API (`/loki/api/v1/push`, JSON): one stream per attack type (labels stay
 * low-cardinality), each line the detection JSON with its `batchId`.
 */
export const lokiFormat: HttpFormat = {
  contentType: 'application/json',
  encode(batch) {
    const streams = new Map<string, Array<[string, string]>>();
    for (const d of batch.detections) {
      const attackType = typeof d['attackType'] === 'string' && d['attackType'] !== '' ? d['attackType'] : 'unknown';
      const ms = typeof d['timeUnixMs'] === 'number' ? d['timeUnixMs'] : batch.createdUnixMs;
      // Nanoseconds as a decimal string: ms × 10^6 overflows a double's exact range.
      const ns = `${BigInt(Math.trunc(ms)) * 1_000_000n}`;
      let values = streams.get(attackType);
      if (!values) streams.set(attackType, (values = []));
      values.push([ns, JSON.stringify({ ...d, batchId: batch.id })]);
    }
    return JSON.stringify({
      streams: [...streams].map(([attackType, values]) => ({
        stream: { job: 'shadowtap', attack_type: attackType },
        values,
      })),
    });
  },
};
