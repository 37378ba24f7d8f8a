import type { DetectionJson } from './sink.js';

/** RFC 5424 header fields that do not change per message. */
export interface SyslogHeader {
  /** 0..23 */
  facility: number;
  appName: string;
  hostname: string;
  procId: string;
}

/** Our SD-ID: name@<private enterprise number>; 32473 is the PEN reserved for documentation (RFC 5612). */
export const SD_ID = 'shadowtap@32473';

const SEVERITY: Record<string, number> = {
  SEVERITY_CRITICAL: 2,
  SEVERITY_HIGH: 3,
  SEVERITY_MEDIUM: 4,
  SEVERITY_LOW: 5,
  SEVERITY_INFO: 6,
};

/** SD values are for filtering; the whole detection is in MSG. Caps attacker-sized paths. */
const MAX_PARAM_CHARS = 256;

/** SD parameters carried for filtering without parsing MSG, in this order. */
const SD_PARAMS = [
  'id',
  'sequence',
  'ruleId',
  'attackType',
  'severity',
  'confidence',
  'requestId',
  'clientIp',
  'host',
  'method',
  'path',
  'location',
] as const;

/** PRINTUSASCII (33..126) only, cut to `max`, NILVALUE when empty. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^!-~]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

/**
 * PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]` take a backslash. Control
 * characters become `?` so a receiver that splits on newlines cannot be fooled by a value
 * an attacker chose.
 */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, '\\$&').replace(/[\u0000-\u001f\u007f]/g, '?');
}

/** RFC 3339 timestamp in UTC with milliseconds, as RFC 5424 §6.2.3 allows. */
function timestamp(ms: number): string {
  return new Date(Number.isFinite(ms) ? ms : Date.now()).toISOString();
}

/**
 * One detection as an RFC 5424 message:
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [shadowtap@32473 batchId=".." …] BOM{json}`.
 * PRI = facility × 8 + severity (critical 2, high 3, medium 4, low 5, info 6).
 */
export function formatSyslogMessage(d: DetectionJson, batchId: string, h: SyslogHeader): Buffer {
  const sev = SEVERITY[String(d['severity'])] ?? 6;
  const pri = h.facility * 8 + sev;
  const ms = typeof d['timeUnixMs'] === 'number' ? d['timeUnixMs'] : Date.now();
  const msgId = headerField(String(d['attackType'] ?? ''), 32);
  let sd = `[${SD_ID} batchId="${escapeParamValue(batchId)}"`;
  for (const key of SD_PARAMS) {
    const v = d[key];
    if (v === undefined || v === null || v === '') continue;
    sd += ` ${key}="${escapeParamValue(String(v).slice(0, MAX_PARAM_CHARS))}"`;
  }
  sd += ']';
  const head =
    `<${pri}>1 ${timestamp(ms)} ${headerField(h.hostname, 255)} ${headerField(h.appName, 48)} ` +
    `${headerField(h.procId, 128)} ${msgId} ${sd} `;
  // MSG is UTF-8, so it starts with a BOM (RFC 5424 §6.4).
  return Buffer.concat([
    Buffer.from(head, 'utf8'),
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(JSON.stringify({ ...d, batchId }), 'utf8'),
  ]);
}

/** RFC 6587 octet counting: `MSG-LEN SP SYSLOG-MSG` (also the framing of RFC 5425 over TLS). */
export function octetCounted(msg: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${msg.length} `, 'ascii'), msg]);
}
