import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { analysisSchema } from '../src/config/config.js';
import type { CapturedExchange, Finding } from '../src/core/model.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import { luhnValid } from '../src/detect/detect-response-pii.js';
import { capturedExchange } from './helpers/exchange.js';

const CORPUS = '/work/shared/corpus/crs-regression';
const config = analysisSchema.parse({
  limits: { budgetMs: 2000 },
  response: { nationalIds: ['us_ssn', 'es_dni', 'fr_nir'] },
});

function exchange(
  response: { status?: number; body: string | Buffer; contentType?: string; headers?: Array<[string, string]> },
  target = '/page',
): CapturedExchange {
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  return capturedExchange({
    source: 'ext_proc',
    clientIp: '203.0.113.1',
    host: 'app.example.com',
    target,
    response: {
      status: response.status ?? 200,
      headers: [['content-type', response.contentType ?? 'text/html; charset=utf-8'], ...(response.headers ?? [])],
      body,
      bodyTruncated: false,
    },
  });
}

const findings = (ex: CapturedExchange): Finding[] => analyzeExchange(ex, config).findings;
const ofType = (fs: Finding[], type: string): Finding[] => fs.filter((f) => f.attackType === type);

interface CrsCase {
  file: string;
  desc: string;
  body: string;
  expect: boolean;
}

/** The RESPONSE-95x regression cases whose response body is `{"body": …}` reflected by the test backend. */
function crsCases(dir: string, ruleIds: number[]): CrsCase[] {
  const out: CrsCase[] = [];
  for (const name of readdirSync(join(CORPUS, dir))) {
    const doc = parseYaml(readFileSync(join(CORPUS, dir, name), 'utf8')) as {
      rule_id: number;
      tests: Array<{
        desc?: string;
        stages: Array<{
          input: { data?: string };
          output: { log?: { expect_ids?: number[]; no_expect_ids?: number[] } };
        }>;
      }>;
    };
    if (!ruleIds.includes(doc.rule_id)) continue;
    for (const t of doc.tests) {
      const stage = t.stages[0]!;
      let body: string;
      try {
        body = (JSON.parse(stage.input.data ?? '') as { body?: string }).body ?? '';
      } catch {
        continue; // not a reflected-body case
      }
      const log = stage.output.log ?? {};
      const expect = (log.expect_ids ?? []).includes(doc.rule_id);
      if (!expect && !(log.no_expect_ids ?? []).includes(doc.rule_id)) continue;
      out.push({ file: `${dir}/${name}`, desc: t.desc ?? '', body, expect });
    }
  }
  return out;
}

describe('response detectors on the CRS RESPONSE-95x regression samples', () => {
  const suites: Array<[dir: string, rules: number[], type: string]> = [
    [
      'RESPONSE-951-DATA-LEAKAGES-SQL',
      [
        951110, 951120, 951130, 951140, 951150, 951160, 951170, 951180, 951190, 951200, 951210, 951220, 951230, 951240,
        951250, 951260,
      ],
      'leak_sql_error',
    ],
    ['RESPONSE-952-DATA-LEAKAGES-JAVA', [952110], 'leak_stack_trace'],
    ['RESPONSE-950-DATA-LEAKAGES', [950150], 'leak_stack_trace'],
    ['RESPONSE-956-DATA-LEAKAGES-RUBY', [956100], 'leak_stack_trace'],
    ['RESPONSE-955-WEB-SHELLS', [955100, 955110, 955120, 955260, 955400], 'web_shell'],
  ];
  for (const [dir, rules, type] of suites) {
    it(`${dir}: every positive sample found, no negative one`, () => {
      const cases = crsCases(dir, rules);
      assert.ok(cases.length >= 3, `${dir}: ${cases.length} cases`);
      const wrong = cases.filter((c) => ofType(findings(exchange({ body: c.body })), type).length > 0 !== c.expect);
      assert.deepEqual(
        wrong.map((c) => `${c.file} ${c.expect ? 'missed' : 'false positive'}: ${c.desc}`),
        [],
      );
    });
  }
});

describe('response detectors', () => {
  it('payment cards: Luhn-valid numbers on issuer prefixes only, masked, counted', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    const fs = ofType(
      findings(
        exchange({
          body: 'Visa 4111-1111-1111-1111, MC 5555 5555 5555 4444, order 4111111111111112, ts 1700000000000000',
        }),
      ),
      'leak_pii',
    );
    assert.equal(fs.length, 1);
    assert.equal(fs[0]!.fragment, '************1111 (+1 more)');
    assert.match(fs[0]!.reason, /^2 payment card numbers/);
    assert.equal(
      ofType(findings(exchange({ body: 'Order #4111111111111112 shipped; tracking 1234567890123' })), 'leak_pii')
        .length,
      0,
    );
  });

  it('national ids only as configured, with check digits where the format has them', () => {
    const fs = ofType(
      findings(exchange({ body: 'ssn 078-05-1120 dni 12345678Z bad-dni 12345678A nir 2 55 08 14 168 025 38' })),
      'leak_pii',
    );
    const rules = fs.map((f) => f.ruleId).sort();
    assert.deepEqual(rules, ['ST-RESP-PII-ES-DNI', 'ST-RESP-PII-FR-NIR', 'ST-RESP-PII-US-SSN']);
    for (const f of fs) assert.doesNotMatch(f.fragment, /078-05|12345678|2 55 08/);
    const none = analyzeExchange(exchange({ body: 'ssn 078-05-1120' }), analysisSchema.parse({})).findings;
    assert.equal(ofType(none, 'leak_pii').length, 0);
  });

  it('secrets and keys are reported without the secret itself', () => {
    const body = [
      'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
      'token: ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
      'DATABASE_URL=postgres://app:s3cr3tPassw0rd@db.internal:5432/shop',
    ].join('\n');
    const fs = ofType(findings(exchange({ body, contentType: 'text/plain' })), 'leak_secret');
    assert.deepEqual(fs.map((f) => f.ruleId).sort(), [
      'ST-RESP-SECRET-AWS',
      'ST-RESP-SECRET-DBURL',
      'ST-RESP-SECRET-GITHUB',
      'ST-RESP-SECRET-PRIVKEY',
    ]);
    for (const f of fs)
      assert.doesNotMatch(f.fragment, /IOSFODNN7EXAMPLE|abcdefghijklmnop|MIIEpAIBAAKCAQEA|s3cr3tPassw0rd/);
  });

  it('secrets in response headers are found; Set-Cookie is not a leak', () => {
    const fs = findings(
      exchange({
        body: 'ok',
        headers: [
          ['x-debug-key', 'AKIAIOSFODNN7EXAMPLE'],
          ['set-cookie', 'sid=xoxb-1234567890-abcdef'],
        ],
      }),
    );
    assert.deepEqual(
      ofType(fs, 'leak_secret').map((f) => f.location),
      ['response.header.x-debug-key'],
    );
  });

  it('directory listings, /etc/passwd, stack traces of Python, .NET, PHP, Node.js', () => {
    const cases: Array<[string, string, string]> = [
      [
        '<html><head><title>Index of /backup</title></head><body><h1>Index of /backup</h1>',
        'leak_directory_listing',
        'ST-RESP-DIRLIST',
      ],
      ['root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin', 'leak_file_content', 'ST-RESP-FILE-PASSWD'],
      [
        'Traceback (most recent call last):\n  File "/app/views.py", line 12, in search\n    cursor.execute(q)',
        'leak_stack_trace',
        'ST-RESP-TRACE-PYTHON',
      ],
      [
        '[SqlException]: boom\n   at Shop.Data.Repo.Find(String id) in C:\\src\\Repo.cs:line 42',
        'leak_stack_trace',
        'ST-RESP-TRACE-DOTNET',
      ],
      [
        '<b>Fatal error</b>:  Uncaught Error: Call to undefined function foo() in /var/www/html/index.php on line <b>7</b>',
        'leak_stack_trace',
        'ST-RESP-TRACE-PHP',
      ],
      [
        "TypeError: Cannot read properties of undefined (reading 'id')\n    at getUser (/srv/app/routes/users.js:17:23)\n    at Layer.handle (/srv/app/node_modules/express/lib/router/layer.js:95:5)",
        'leak_stack_trace',
        'ST-RESP-TRACE-NODE',
      ],
    ];
    for (const [body, type, ruleId] of cases) {
      const fs = ofType(findings(exchange({ body })), type);
      assert.ok(
        fs.some((f) => f.ruleId === ruleId),
        `${ruleId} not found in ${JSON.stringify(body.slice(0, 40))}: ${JSON.stringify(fs.map((f) => f.ruleId))}`,
      );
    }
  });

  it('ordinary pages produce no response finding', () => {
    const page = `<!doctype html><html><head><title>Shop</title></head><body>
      <h1>Running shoes</h1><p>Free delivery on orders over 50 EUR. Call +33 1 23 45 67 89.</p>
      <p>An error occurred? Contact support. Order 2024-000123, total 129.90, at com.example (store 12).</p>
      <script>window.__STATE__ = {"id": 1234567890123, "sku": "AB-1234"}</script></body></html>`;
    const fs = findings(exchange({ body: page }));
    assert.deepEqual(fs, []);
  });

  it('gzip-encoded responses are decompressed before inspection; binary types are skipped', () => {
    const gz = gzipSync(Buffer.from('You have an error in your SQL syntax; check the manual'));
    const fs = findings(exchange({ body: gz, headers: [['content-encoding', 'gzip']] }));
    assert.equal(ofType(fs, 'leak_sql_error').length, 1);
    const img = findings(exchange({ body: 'You have an error in your SQL syntax', contentType: 'image/png' }));
    assert.equal(img.length, 0);
  });
});

describe('request/response correlation', () => {
  const sqli = `/items?id=${encodeURIComponent("1' UNION SELECT username, password FROM users--")}`;
  const corr = (status: number, body: string, target = sqli) => {
    const fs = findings(exchange({ status, body }, target)).filter((f) => !f.location.startsWith('response.'));
    assert.ok(fs.length > 0, 'request finding expected');
    return fs[0]!.correlation!;
  };

  it('database error text after SQLi suggests success, even with a 200', () => {
    const c = corr(200, 'Warning: pg_query(): Query failed: ERROR:  syntax error at or near "UNION"');
    assert.equal(c.suggestsSuccess, true);
    assert.match(c.reason, /HTTP 200 with PostgreSQL error message/);
  });

  it('a 500 after an injection suggests success; 403/404 do not; a plain 200 is no evidence', () => {
    assert.equal(corr(500, 'Internal Server Error').suggestsSuccess, true);
    const forbidden = corr(403, 'Forbidden');
    assert.deepEqual(forbidden, { suggestsSuccess: false, reason: 'HTTP 403: refused' });
    assert.equal(corr(404, 'Not Found').suggestsSuccess, false);
    assert.match(corr(200, '<html>results</html>').reason, /no evidence/);
  });

  it('a leak after an attack is marked as such; a leak alone is not an attack success', () => {
    const withAttack = findings(exchange({ status: 500, body: 'ORA-00933: SQL command not properly ended' }, sqli));
    const leak = ofType(withAttack, 'leak_sql_error')[0]!;
    assert.equal(leak.correlation?.suggestsSuccess, true);
    const alone = ofType(
      findings(exchange({ status: 500, body: 'ORA-00933: SQL command not properly ended' })),
      'leak_sql_error',
    )[0]!;
    assert.equal(alone.correlation?.suggestsSuccess, false);
  });
});
