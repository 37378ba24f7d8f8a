import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/config.js';
import { isShadowtapError } from '../core/errors.js';
import type { CapturedExchange } from '../core/model.js';
import { analyzeExchange } from '../detect/analyze-exchange.js';
import { warmUp } from '../detect/warm-up.js';
import { Detection } from '../gen/shadowtap/v1/detection.js';
import { parseHar, parseJsonlRecord } from '../ingest/replay-input.js';
import { buildDetection } from '../publish/build-detection.js';
import { createRedactor } from '../publish/redact.js';
import type { CliIo } from './cli-io.js';
import { setOverrides } from './cli-flags.js';

export const ANALYZE_HELP = `Usage: shadowtap analyze [options] FILE...

Replays captured traffic offline through the same decode and detect code as 'serve'.
FILE is a HAR 1.2 file (*.har, or any JSON document with log.entries) or JSON lines, one
request per line:
  {"id"?, "method", "target" (path?query) | "url", "headers": {..} | [[name, value], ...],
   "body"? (utf-8) | "body_b64"?}
Use '-' to read JSON lines from stdin.

Output: one JSON line per request: {"id", "detections": [...]}, detections in the same
shape as the gRPC Detection message. Exit 0 even when attacks are found; 1 when an input
cannot be read (the message names the file and line).

Options:
  -c, --config FILE     config file (analysis.* and redaction.* keys apply)
      --set KEY=VALUE   set a config key, e.g. --set analysis.sensitivity=high
  -h, --help            show this help
`;

async function* readExchanges(file: string): AsyncGenerator<CapturedExchange> {
  const isHar =
    file !== '-' && (file.endsWith('.har') || /^\s*\{\s*"log"/.test(readFileSync(file, 'utf8').slice(0, 64)));
  if (isHar) {
    yield* parseHar(readFileSync(file, 'utf8'), file);
    return;
  }
  const input = file === '-' ? process.stdin : createReadStream(file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    yield parseJsonlRecord(line, file === '-' ? '<stdin>' : file, lineNo);
  }
}

/** Analyses the given files, writing one JSON line per request. Exported for tests and eval. */
export async function analyzeFiles(files: string[], config: Config, io: CliIo): Promise<number> {
  const redactor = createRedactor(config.redaction);
  warmUp(config.analysis);
  let sequence = 0;
  for (const file of files) {
    try {
      for await (const exchange of readExchanges(file)) {
        const result = analyzeExchange(exchange, config.analysis);
        const detections = result.findings.map((f) =>
          Detection.toJSON({ ...buildDetection(exchange, f, redactor), sequence: ++sequence }),
        );
        const line: Record<string, unknown> = { id: exchange.id, detections };
        if (result.anomalies.length > 0) line.anomalies = result.anomalies;
        io.stdout(`${JSON.stringify(line)}\n`);
      }
    } catch (err) {
      if (
        isShadowtapError(err) ||
        (err as NodeJS.ErrnoException).code === 'ENOENT' ||
        (err as NodeJS.ErrnoException).code === 'EISDIR'
      ) {
        io.stderr(`shadowtap analyze: ${(err as Error).message}\n`);
        return 1;
      }
      throw err;
    }
  }
  return 0;
}

export async function runAnalyze(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      set: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help || positionals.length === 0) {
    io.stdout(ANALYZE_HELP);
    return values.help ? 0 : 2;
  }
  const config = loadConfig({ file: values.config, env: process.env, overrides: setOverrides(values.set) });
  return analyzeFiles(positionals, config, io);
}
