import { ERR_SINK_FAILED } from '../../core/errors.js';
import type { HttpFormat } from './sink.js';

/**
 * Splunk HTTP Event Collector (`/services/collector/event`): concatenated event objects;
 * the batch id goes in `fields.batch_id` (an indexed field, searchable for de-duplication).
 * Auth is the `Authorization: Splunk <token>` header, set in the sink's headers.
 */
export const splunkHecFormat: HttpFormat = {
  contentType: 'application/json',
  encode(batch, ctx) {
    let out = '';
    for (const d of batch.detections) {
      const ms = typeof d['timeUnixMs'] === 'number' ? d['timeUnixMs'] : batch.createdUnixMs;
      out += JSON.stringify({
        time: ms / 1000,
        host: ctx.hostname,
        source: 'shadowtap',
        sourcetype: 'shadowtap:detection',
        ...(ctx.index ? { index: ctx.index } : {}),
        fields: { batch_id: batch.id },
        event: d,
      });
    }
    return out;
  },
  checkResponse(body, _batch) {
    // HEC answers {"text":"Success","code":0}; any other code means the events were not taken.
    let parsed: { code?: unknown; text?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return;
    }
    if (typeof parsed.code === 'number' && parsed.code !== 0) {
      throw ERR_SINK_FAILED('splunk-hec', `HEC code ${parsed.code}: ${String(parsed.text)}`);
    }
  },
};
