import { credentials } from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { Detection, Severity } from '../gen/shadowtap/v1/detection.js';
import { DetectionServiceClient, type SubscribeResponse } from '../gen/shadowtap/v1/detection_service.js';
import type { CliIo } from './cli-io.js';

export const TAIL_HELP = `Usage: shadowtap tail [options]

Subscribes to a running shadowtap's DetectionService and prints detections, one per line.

Options:
      --addr HOST:PORT       gRPC address (default 127.0.0.1:50051)
      --json                 print JSON lines (the Detection message in proto3 JSON)
      --min-severity S       info | low | medium | high | critical
      --type T               attack type to keep (repeatable), e.g. sqli
  -h, --help                 show this help
`;

const SEVERITY_BY_NAME: Readonly<Record<string, Severity>> = {
  info: Severity.SEVERITY_INFO,
  low: Severity.SEVERITY_LOW,
  medium: Severity.SEVERITY_MEDIUM,
  high: Severity.SEVERITY_HIGH,
  critical: Severity.SEVERITY_CRITICAL,
};

const SEVERITY_NAME = Object.fromEntries(Object.entries(SEVERITY_BY_NAME).map(([k, v]) => [v, k]));

/** One human-readable line per detection. */
export function formatDetection(d: Detection): string {
  const time = new Date(d.timeUnixMs).toISOString();
  const chain = d.chain.length > 0 ? ` via ${d.chain.join('→')}` : '';
  return `${time} #${d.sequence} ${(SEVERITY_NAME[d.severity] ?? '?').toUpperCase()} ${d.attackType} ${d.ruleId} ${d.clientIp} ${d.method} ${d.host}${d.path} at ${d.location}${chain}: ${JSON.stringify(d.fragment)} (${d.reason})`;
}

export async function runTail(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      addr: { type: 'string', default: '127.0.0.1:50051' },
      json: { type: 'boolean', default: false },
      'min-severity': { type: 'string' },
      type: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(TAIL_HELP);
    return 0;
  }
  const minSeverityName = values['min-severity'];
  const minSeverity =
    minSeverityName === undefined ? Severity.SEVERITY_UNSPECIFIED : SEVERITY_BY_NAME[minSeverityName.toLowerCase()];
  if (minSeverity === undefined) {
    io.stderr(`shadowtap tail: --min-severity must be one of ${Object.keys(SEVERITY_BY_NAME).join(', ')}\n`);
    return 2;
  }
  const client = new DetectionServiceClient(values.addr, credentials.createInsecure());
  const call = client.subscribe({
    filter: { minSeverity, attackTypes: values.type ?? [], hosts: [], pathPrefixes: [], sources: [] },
    resumeAfterSequence: 0,
  });
  const stop = (): void => call.cancel();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<number>((resolve) => {
    call.on('data', (msg: SubscribeResponse) => {
      if (msg.event?.$case === 'detection') {
        const d = msg.event.value;
        io.stdout(values.json ? `${JSON.stringify(Detection.toJSON(d))}\n` : `${formatDetection(d)}\n`);
      } else if (msg.event?.$case === 'gap') {
        const g = msg.event.value;
        io.stderr(`shadowtap tail: missed detections ${g.fromSequence}..${g.toSequence} (${g.reason})\n`);
      }
    });
    call.on('error', (err: Error & { code?: number }) => {
      client.close();
      if (err.code === 1 /* CANCELLED */) return resolve(0);
      io.stderr(`shadowtap tail: ${err.message}\n`);
      resolve(1);
    });
    call.on('end', () => {
      client.close();
      resolve(0);
    });
  });
}
