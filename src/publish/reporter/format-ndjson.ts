import { withBatchId, type HttpFormat } from './sink.js';

/** One detection per line (`application/x-ndjson`), each carrying `batchId`. */
export const ndjsonFormat: HttpFormat = {
  contentType: 'application/x-ndjson',
  encode(batch) {
    let out = '';
    for (const d of batch.detections) out += JSON.stringify(withBatchId(d, batch.id)) + '\n';
    return out;
  },
};
