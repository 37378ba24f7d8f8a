import { ERR_SINK_FAILED } from '../../core/errors.js';
import type { HttpFormat } from './sink.js';

const DEFAULT_INDEX = 'shadowtap-detections';

interface BulkItem {
  status?: number;
  error?: unknown;
}

/**
 * Elasticsearch / OpenSearch `_bulk`: `create` actions whose `_id` is the detection id, so a
 * batch sent twice (at-least-once) is indexed once: the second copy answers 409, which
 * counts as delivered.
 */
export const elasticBulkFormat: HttpFormat = {
  contentType: 'application/x-ndjson',
  encode(batch, ctx) {
    const index = ctx.index ?? DEFAULT_INDEX;
    let out = '';
    for (const d of batch.detections) {
      const ms = typeof d['timeUnixMs'] === 'number' ? d['timeUnixMs'] : batch.createdUnixMs;
      const id = typeof d['id'] === 'string' && d['id'] !== '' ? d['id'] : undefined;
      out += JSON.stringify({ create: { _index: index, ...(id ? { _id: id } : {}) } }) + '\n';
      out += JSON.stringify({ '@timestamp': new Date(ms).toISOString(), ...d, batchId: batch.id }) + '\n';
    }
    return out;
  },
  checkResponse(body, batch) {
    let parsed: { errors?: unknown; items?: Array<Record<string, BulkItem>> };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      throw ERR_SINK_FAILED('elastic-bulk', 'unreadable _bulk answer');
    }
    if (parsed.errors !== true) return;
    let retryable = 0;
    let rejected = 0;
    for (const item of parsed.items ?? []) {
      const status = Object.values(item)[0]?.status ?? 0;
      if (status < 300 || status === 409) continue;
      if (status === 429 || status >= 500) retryable++;
      else rejected++;
    }
    // Retrying the whole batch is safe: items already indexed answer 409 next time.
    if (retryable > 0) throw ERR_SINK_FAILED('elastic-bulk', `${retryable} of ${batch.detections.length} items failed`);
    return { rejectedDetections: rejected };
  },
};
