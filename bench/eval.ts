/**
 * `npm run eval [-- --sensitivity low|default|high] [--class sqli,xss] [--misses N]`
 *
 * Runs exactly what `shadowtap analyze` runs (analyzeExchange with the resolved analysis
 * config) over labelled corpora and prints, per attack class, the detection rate, and over the
 * benign corpus the false-positive rate with the rules responsible. Writes
 * bench/results/eval.json and bench/results/eval.md.
 *
 * Corpora (adding a class or a benign set is adding files, no code):
 * - ../shared/corpus/crs-regression: OWASP CRS go-ftw tests of REQUEST-930…944 whose output
 *   expects the rule to fire (positives; the folder names the class, see CRS_CLASSES).
 * - corpus/attacks/<class>.txt: one payload per line (`#` comments), each injected into a query
 *   parameter, a JSON field, a form field and a header; <class>.jsonl: whole requests.
 * - corpus/benign/*.txt: one realistic value per line, sent as a query parameter and as a JSON
 *   field (one sample; a false positive if either is flagged); *.jsonl: whole requests.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { resolveConfig } from '../src/config/config.js';
import type { CapturedExchange, Finding, Sensitivity } from '../src/core/model.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';

const here = new URL('.', import.meta.url);
const repo = new URL('../', here);
const sharedCorpus = new URL('../../shared/corpus/', here);

/** CRS test folders that hold attack positives, and the class each one labels. */
const CRS_CLASSES: Readonly<Record<string, string>> = {
  '930': 'path_traversal',
  '931': 'rfi',
  '932': 'rce',
  '933': 'php',
  '934': 'generic',
  '941': 'xss',
  '942': 'sqli',
  '943': 'session_fixation',
  '944': 'java',
};

/**
 * The attack types that count as "detected as the class". A class absent here accepts only
 * its own name. Classes whose payloads legitimately span detectors list them all.
 */
const CLASS_ATTACK_TYPES: Readonly<Record<string, readonly string[]>> = {
  php: ['code_injection', 'php', 'rce'],
  java: ['java', 'code_injection', 'log4shell', 'deserialization', 'rce', 'expression_injection'],
  generic: ['code_injection', 'ssrf', 'ssti', 'prototype_pollution', 'rce', 'nosqli', 'generic'],
  rfi: ['rfi', 'ssrf', 'path_traversal'],
  code_injection: ['code_injection', 'rce'],
};

/** Classes the issue's acceptance bar applies to (≥ 97% detection). */
const GATED = new Set(['sqli', 'xss', 'rce']);

const { values: args } = parseArgs({
  options: {
    sensitivity: { type: 'string', default: 'default' },
    class: { type: 'string' },
    misses: { type: 'string', default: '40' },
    quiet: { type: 'boolean', default: false },
  },
});
const sensitivity = args.sensitivity as Sensitivity;
if (!['low', 'default', 'high'].includes(sensitivity)) throw new Error(`--sensitivity must be low, default or high`);
const onlyClasses = args.class ? new Set(args.class.split(',')) : undefined;
const maxListed = Number(args.misses);
const analysis = resolveConfig({ analysis: { sensitivity } }).analysis;

interface Sample {
  /** Where the sample came from, e.g. `crs:942100#3` or `attacks/sqli.txt:12@query`. */
  id: string;
  /** A CRS keyword/character probe (corpus/crs-probes.txt): reported, not gated. */
  probe?: boolean;
  label: string;
  exchanges: CapturedExchange[];
  /** The payload or the request line, for reports. */
  text: string;
}

let seq = 0;
function exchange(
  method: string,
  target: string,
  headers: Array<[string, string]>,
  body: Uint8Array | string = '',
): CapturedExchange {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const host = headers.find(([n]) => n === 'host')?.[1] ?? 'localhost';
  const id = `eval-${++seq}`;
  return {
    id,
    requestId: id,
    source: 'replay',
    receivedAt: 0,
    clientIp: '127.0.0.1',
    host,
    method,
    target: target.startsWith('/') || target === '*' ? target : `/${target}`,
    httpVersion: '1.1',
    headers,
    body: bytes,
    bodyTruncated: false,
    bodyBytesSeen: bytes.byteLength,
  };
}

const BASE_HEADERS: Array<[string, string]> = [
  ['host', 'shop.example.com'],
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'],
  ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['accept-language', 'en-US,en;q=0.9'],
];

/** The four placements of a payload used for attack lists. */
function placements(payload: string): Array<[string, CapturedExchange]> {
  const enc = encodeURIComponent(payload);
  return [
    ['query', exchange('GET', `/search?q=${enc}&page=1`, BASE_HEADERS)],
    [
      'json',
      exchange(
        'POST',
        '/api/v1/items',
        [...BASE_HEADERS, ['content-type', 'application/json']],
        JSON.stringify({ id: 7, name: payload }),
      ),
    ],
    [
      'form',
      exchange(
        'POST',
        '/account/update',
        [...BASE_HEADERS, ['content-type', 'application/x-www-form-urlencoded']],
        `user=alice&comment=${enc}`,
      ),
    ],
    [
      'header',
      exchange('GET', '/', [
        ...BASE_HEADERS.filter(([n]) => n !== 'user-agent'),
        ['user-agent', payload.replace(/[\r\n]/g, ' ')],
      ]),
    ],
  ];
}

// --- CRS go-ftw tests -----------------------------------------------------------------

interface FtwInput {
  method?: string;
  uri?: string;
  headers?: Record<string, string | number>;
  data?: string;
  encoded_request?: string;
  version?: string;
}
interface FtwTest {
  test_id?: number;
  desc?: string;
  stages?: Array<{ input?: FtwInput; output?: { log?: { expect_ids?: number[]; match_regex?: string } } }>;
}

/** Parses a raw HTTP/1.x request (go-ftw `encoded_request`). */
function parseRawRequest(raw: Buffer): CapturedExchange | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, headEnd < 0 ? raw.length : headEnd).toString('latin1');
  const body = headEnd < 0 ? new Uint8Array() : new Uint8Array(raw.subarray(headEnd + 4));
  const [line, ...lines] = head.split(/\r?\n/);
  const m = /^(\S+)\s+(\S+)/.exec(line ?? '');
  if (!m) return undefined;
  const headers: Array<[string, string]> = [];
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers.push([l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()]);
  }
  return exchange(m[1]!, m[2]!, headers, body);
}

function ftwExchange(input: FtwInput): CapturedExchange | undefined {
  if (input.encoded_request) return parseRawRequest(Buffer.from(input.encoded_request, 'base64'));
  const headers: Array<[string, string]> = Object.entries(input.headers ?? {}).map(([k, v]) => [
    k.toLowerCase(),
    String(v),
  ]);
  const data = input.data ?? '';
  // go-ftw sends `data` verbatim; CRS's tests assume it is parsed as a form when no type is given.
  if (data && !headers.some(([n]) => n === 'content-type'))
    headers.push(['content-type', 'application/x-www-form-urlencoded']);
  return exchange(input.method ?? 'GET', input.uri ?? '/', headers, data);
}

/** CRS rule ids whose tests are probes rather than injections (corpus/crs-probes.txt). */
function loadProbeRules(): Set<string> {
  const file = new URL('corpus/crs-probes.txt', repo);
  if (!existsSync(file)) return new Set();
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^\d{6}\s/.test(l))
      .map((l) => l.slice(0, 6)),
  );
}

function loadCrs(): Sample[] {
  const probeRules = loadProbeRules();
  const root = new URL('crs-regression/', sharedCorpus);
  if (!existsSync(root)) {
    console.error(`eval: ${root.pathname} not found; CRS positives skipped`);
    return [];
  }
  const samples: Sample[] = [];
  for (const dir of readdirSync(root).sort()) {
    const m = /^REQUEST-(\d{3})-/.exec(dir);
    const label = m ? CRS_CLASSES[m[1]!] : undefined;
    if (!label || (onlyClasses && !onlyClasses.has(label))) continue;
    for (const file of readdirSync(new URL(`${dir}/`, root)).sort()) {
      if (!file.endsWith('.yaml')) continue;
      const doc = parseYaml(readFileSync(new URL(`${dir}/${file}`, root), 'utf8')) as {
        rule_id?: number;
        tests?: FtwTest[];
      };
      for (const test of doc.tests ?? []) {
        // CRS documents some of its own false positives as tests that expect the rule to fire.
        if (/false positive/i.test(test.desc ?? '')) continue;
        const stages = (test.stages ?? []).filter(
          (s) => (s.output?.log?.expect_ids?.length ?? 0) > 0 || s.output?.log?.match_regex,
        );
        const exchanges = stages
          .map((s) => (s.input ? ftwExchange(s.input) : undefined))
          .filter((x): x is CapturedExchange => !!x);
        if (exchanges.length === 0) continue;
        const first = stages[0]!.input!;
        const text = first.encoded_request
          ? '(encoded request)'
          : `${first.method ?? 'GET'} ${first.uri ?? '/'}${first.data ? ` ${first.data}` : ''}`;
        samples.push({
          id: `crs:${doc.rule_id ?? file}#${test.test_id ?? '?'}`,
          label,
          exchanges,
          text: text.slice(0, 300),
          probe: probeRules.has(String(doc.rule_id)),
        });
      }
    }
  }
  return samples;
}

// --- project corpora --------------------------------------------------------------------

interface JsonlRequest {
  method?: string;
  uri?: string;
  target?: string;
  headers?: Record<string, string> | Array<[string, string]>;
  body?: string;
  bodyBase64?: string;
}

function jsonlExchange(r: JsonlRequest): CapturedExchange {
  const headers: Array<[string, string]> = Array.isArray(r.headers)
    ? r.headers.map(([k, v]) => [k.toLowerCase(), v])
    : Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
  const body = r.bodyBase64 !== undefined ? new Uint8Array(Buffer.from(r.bodyBase64, 'base64')) : (r.body ?? '');
  return exchange(r.method ?? 'GET', r.target ?? r.uri ?? '/', headers, body);
}

function lines(file: URL): Array<[number, string]> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l, i) => [i + 1, l] as [number, string])
    .filter(([, l]) => l.trim() !== '' && !l.startsWith('# '));
}

function loadProjectCorpus(kind: 'attacks' | 'benign'): Sample[] {
  const dir = new URL(`corpus/${kind}/`, repo);
  if (!existsSync(dir)) return [];
  const samples: Sample[] = [];
  for (const file of readdirSync(dir).sort()) {
    const label = kind === 'benign' ? 'benign' : file.replace(/\.(txt|jsonl)$/, '');
    if (kind === 'attacks' && onlyClasses && !onlyClasses.has(label)) continue;
    const url = new URL(file, dir);
    if (file.endsWith('.txt')) {
      for (const [n, line] of lines(url)) {
        const value = line.replace(/\\n/g, '\n');
        if (kind === 'attacks') {
          for (const [where, ex] of placements(value))
            samples.push({ id: `${kind}/${file}:${n}@${where}`, label, exchanges: [ex], text: value });
        } else {
          const enc = encodeURIComponent(value);
          const exs = [
            exchange('GET', `/search?q=${enc}&page=2`, BASE_HEADERS),
            exchange(
              'POST',
              '/api/v1/notes',
              [...BASE_HEADERS, ['content-type', 'application/json']],
              JSON.stringify({ note: value, pinned: false }),
            ),
          ];
          samples.push({ id: `${kind}/${file}:${n}`, label, exchanges: exs, text: value });
        }
      }
    } else if (file.endsWith('.jsonl')) {
      for (const [n, line] of lines(url)) {
        const r = JSON.parse(line) as JsonlRequest;
        samples.push({
          id: `${kind}/${file}:${n}`,
          label,
          exchanges: [jsonlExchange(r)],
          text: `${r.method ?? 'GET'} ${r.target ?? r.uri ?? '/'}`,
        });
      }
    }
  }
  return samples;
}

// --- run ----------------------------------------------------------------------------------

interface Outcome {
  sample: Sample;
  findings: Finding[];
}

let budgetExceeded = 0;
function run(samples: Sample[]): Outcome[] {
  return samples.map((sample) => ({
    sample,
    findings: sample.exchanges.flatMap((ex) => {
      const r = analyzeExchange(ex, analysis);
      if (r.budgetExceeded) budgetExceeded++;
      return r.findings;
    }),
  }));
}

const accepts = (label: string, attackType: string): boolean =>
  (CLASS_ATTACK_TYPES[label] ?? [label]).includes(attackType);
const pct = (a: number, b: number): number => (b === 0 ? 0 : Math.round((a / b) * 10000) / 100);

const t0 = performance.now();
const positives = [...loadCrs(), ...loadProjectCorpus('attacks')];
const benign = onlyClasses && !onlyClasses.has('benign') ? [] : loadProjectCorpus('benign');
// Warm-up: the first calls pay for JIT compilation and would hit the per-request budget.
for (const s of [...positives.slice(0, 300), ...benign.slice(0, 300)])
  for (const ex of s.exchanges) analyzeExchange(ex, analysis);
const posOut = run(positives);
const benOut = run(benign);

const classes = [...new Set(positives.map((s) => s.label))].sort();
const perClass = classes.map((label) => {
  const all = posOut.filter((o) => o.sample.label === label);
  const probes = all.filter((o) => o.sample.probe);
  const outs = all.filter((o) => !o.sample.probe);
  const detected = outs.filter((o) => o.findings.length > 0);
  const asClass = outs.filter((o) => o.findings.some((f) => accepts(label, f.attackType)));
  const bySource = (prefix: string): { positives: number; detected: number } => {
    const s = outs.filter((o) => o.sample.id.startsWith(prefix));
    return { positives: s.length, detected: s.filter((o) => o.findings.length > 0).length };
  };
  return {
    class: label,
    gated: GATED.has(label),
    positives: outs.length,
    detected: detected.length,
    detectedAsClass: asClass.length,
    rate: pct(detected.length, outs.length),
    classRate: pct(asClass.length, outs.length),
    crs: bySource('crs:'),
    lists: bySource('attacks/'),
    crsProbes: { positives: probes.length, detected: probes.filter((o) => o.findings.length > 0).length },
    crsAll: {
      positives: all.filter((o) => o.sample.id.startsWith('crs:')).length,
      detected: all.filter((o) => o.sample.id.startsWith('crs:') && o.findings.length > 0).length,
    },
    misses: outs
      .filter((o) => o.findings.length === 0)
      .slice(0, maxListed)
      .map((o) => ({ id: o.sample.id, text: o.sample.text })),
  };
});

const fps = benOut.filter((o) => o.findings.length > 0);
const ruleCounts = new Map<string, number>();
for (const o of fps)
  for (const r of new Set(o.findings.map((f) => f.ruleId))) ruleCounts.set(r, (ruleCounts.get(r) ?? 0) + 1);
const benignReport = {
  total: benOut.length,
  falsePositives: fps.length,
  fpRate: pct(fps.length, benOut.length),
  topRules: [...ruleCounts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([ruleId, count]) => ({ ruleId, count })),
  examples: fps.slice(0, maxListed).map((o) => ({
    id: o.sample.id,
    text: o.sample.text.slice(0, 200),
    findings: o.findings.map((f) => `${f.ruleId}@${f.location}: ${f.fragment.slice(0, 80)}`),
  })),
};

const gatedRows = perClass.filter((c) => c.gated);
const gatedPositives = gatedRows.reduce((a, c) => a + c.positives, 0);
const gatedDetected = gatedRows.reduce((a, c) => a + c.detected, 0);
const report = {
  date: new Date().toISOString(),
  sensitivity,
  seconds: Math.round((performance.now() - t0) / 100) / 10,
  classes: perClass,
  gated: { positives: gatedPositives, detected: gatedDetected, rate: pct(gatedDetected, gatedPositives) },
  benign: benignReport,
  budgetExceeded,
  pass:
    gatedRows.every((c) => c.positives === 0 || c.rate >= 97) &&
    (benignReport.total === 0 || benignReport.fpRate <= 0.5),
};

const md: string[] = [
  `# shadowtap detection evaluation`,
  '',
  `Sensitivity \`${sensitivity}\`, ${report.date}, ${report.seconds} s. Command: \`npm run eval\`.`,
  '',
  '| class | positives | detected | rate % | as class | class rate % | CRS det/pos | lists det/pos | CRS probes det/pos | all CRS % |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...perClass.map(
    (c) =>
      `| ${c.class}${c.gated ? ' *' : ''} | ${c.positives} | ${c.detected} | ${c.rate} | ${c.detectedAsClass} | ${c.classRate} | ${c.crs.detected}/${c.crs.positives} | ${c.lists.detected}/${c.lists.positives} | ${c.crsProbes.detected}/${c.crsProbes.positives} | ${c.crsAll.positives ? pct(c.crsAll.detected, c.crsAll.positives) : '-'} |`,
  ),
  '',
  `\\* gated classes (SQLi, XSS, RCE): ${gatedDetected}/${gatedPositives} = ${report.gated.rate} %. Positives = CRS tests + corpus/attacks payloads; CRS keyword/character probes (corpus/crs-probes.txt) have their own column and are not gated; "all CRS %" counts every CRS test of the class.`,
  '',
  `Benign: ${benignReport.falsePositives} false positives in ${benignReport.total} samples = **${benignReport.fpRate} %**.`,
  '',
  ...(benignReport.topRules.length
    ? [
        '| rule | benign samples flagged |',
        '| --- | ---: |',
        ...benignReport.topRules.map((r) => `| ${r.ruleId} | ${r.count} |`),
      ]
    : []),
  '',
  `Exchanges cut by the per-request budget (${analysis.limits.budgetMs} ms): ${budgetExceeded}.`,
  '',
  `Result: **${report.pass ? 'PASS' : 'FAIL'}** (≥ 97 % on sqli, xss, rce; ≤ 0.5 % benign FP).`,
];
mkdirSync(new URL('results/', here), { recursive: true });
writeFileSync(new URL('results/eval.json', here), JSON.stringify(report, null, 2) + '\n');
writeFileSync(new URL('results/eval.md', here), md.join('\n') + '\n');
console.log(md.join('\n'));
if (!args.quiet) {
  for (const c of perClass.filter((x) => x.misses.length > 0 && (!onlyClasses || onlyClasses.has(x.class)))) {
    if (!onlyClasses && !c.gated) continue;
    console.log(`\nmisses ${c.class} (first ${c.misses.length}):`);
    for (const m of c.misses) console.log(`  ${m.id}  ${m.text.replace(/\s+/g, ' ').slice(0, 160)}`);
  }
  if (benignReport.examples.length) console.log('\nfalse positives:');
  for (const e of benignReport.examples)
    console.log(`  ${e.id}  ${e.findings.join(' | ').slice(0, 200)}  <<${e.text.replace(/\s+/g, ' ').slice(0, 100)}>>`);
}
