import { withBatchId, type HttpFormat } from './sink.js';

/** A JSON array of detections (generic webhook), each carrying `batchId`. */
export const jsonArrayFormat: HttpFormat = {
  contentType: 'application/json',
  encode(batch) {
    return JSON.stringify(batch.detections.map((d) => withBatchId(d, batch.id)));
  },
};
