import { elasticBulkFormat } from './format-elastic-bulk.js';
import { jsonArrayFormat } from './format-json.js';
import { lokiFormat } from './format-loki.js';
import { ndjsonFormat } from './format-ndjson.js';
import { splunkHecFormat } from './format-splunk-hec.js';
import type { HttpFormat } from './sink.js';

/** The HTTP body formats, by their config name (`reporter.sinks[].format`). */
export const HTTP_FORMATS: Readonly<Record<'ndjson' | 'json' | 'splunk-hec' | 'elastic-bulk' | 'loki', HttpFormat>> = {
  ndjson: ndjsonFormat,
  json: jsonArrayFormat,
  'splunk-hec': splunkHecFormat,
  'elastic-bulk': elasticBulkFormat,
  loki: lokiFormat,
};
