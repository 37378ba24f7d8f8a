import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isPlainCookieHeader } from '../src/detect/detect-sqli.js';
import { analyzeSql, cannotBeSql } from '../src/detect/sql-fingerprint.js';

/**
 * Pieces that lex into every token shape the plain character set allows, and some that do not.
 * `.schemata` after the number `1.e` is MySQL's filler before a qualified name (`1.e.schemata`).
 */
const NAMES = [
  'shoes',
  'blue',
  'alice',
  'id',
  'page',
  'x',
  'e',
  'abc_def',
  'v2',
  'a1b2',
  'DR',
  'OP',
  'tables',
  '.schemata',
];
const WORDS = [
  ...['union', 'select', 'or', 'and', 'xor', 'div', 'like', 'order', 'by', 'is', 'null', 'true', 'in', 'not'],
  ...['from', 'where', 'limit', 'sleep', 'benchmark', 'waitfor', 'delay', 'drop', 'table', 'exec', 'all'],
  ...['xp_cmdshell', 'master', 'msdasql', 'information_schema', 'sysobjects', 'pg_shadow', 'dual', 'version'],
  ...['int', 'text', 'date', 'utl_http', 'request', 'dbms_ldap', 'init', 'sp_password', 'datadir', 'hostname'],
];
const NUMBERS = [
  '0',
  '1',
  '42',
  '2024',
  '0x41',
  '0x41select',
  '1e1',
  '1e1union',
  '1.e',
  '.5',
  '3.14',
  '1union',
  '0b01',
];
const PUNCTUATION = [' ', '.', ',', ':', '::', '@', '@@', '/', '-', '--', '_'];
const OTHER = ["'", '"', '=', '(', ')', ';', '*', '#', '+', '%27', '|', '\t', '`'];

const piece = fc.oneof(
  { arbitrary: fc.constantFrom(...NAMES), weight: 3 },
  { arbitrary: fc.constantFrom(...WORDS), weight: 2 },
  { arbitrary: fc.constantFrom(...NUMBERS), weight: 3 },
  { arbitrary: fc.constantFrom(...PUNCTUATION), weight: 4 },
  { arbitrary: fc.constantFrom(...OTHER), weight: 1 },
);
const plainish = fc.array(piece, { minLength: 1, maxLength: 6 }).map((a) => a.join(''));

describe('SQLi pre-filter (cannotBeSql)', () => {
  it('never skips a value the grammar would score, at any sensitivity', () => {
    let skipped = 0;
    fc.assert(
      fc.property(plainish, (v) => {
        if (!cannotBeSql(v)) return true;
        skipped++;
        return analyzeSql(v).hits.length === 0;
      }),
      { numRuns: 20_000, seed: 42 },
    );
    // The property must actually exercise the fast path.
    assert.ok(skipped > 2_000, `only ${skipped} values skipped`);
  });

  it('skips ordinary plain values', () => {
    for (const v of [
      'shoes',
      'blue running shoes',
      'alice@example.com',
      '/account/orders',
      'en-GB',
      '3fa85f64-5717-4562-b3fc-2c963f66afa6',
      '12345',
      'name,email,created_at',
      'Paris, France',
    ]) {
      assert.equal(cannotBeSql(v), true, v);
    }
  });

  it('keeps values that can carry SQL on the slow path', () => {
    for (const v of [
      "1' or '1'='1",
      '1 or 1',
      '2 union all',
      'xp_cmdshell',
      'master..xp_cmdshell',
      'dbms_ldap.init',
      'information_schema.tables',
      '@@version',
      '@@datadir',
      'password::int',
      '1-1',
      '10/10',
      '0x41select',
      '1e1union',
      '1.e.schemata',
      'information_schema 1.E.columns',
      'sleep(5)',
      'a;drop table x',
      'x$y',
      'caf\u00e9 or',
      'tab\there',
    ]) {
      assert.equal(cannotBeSql(v), false, v);
    }
  });
});

describe('SQLi skip of plain Cookie headers (isPlainCookieHeader)', () => {
  // Cookie names and values built from the same SQL-heavy pieces as above, glued without spaces.
  const glued = (min: number) =>
    fc
      .array(fc.constantFrom(...NAMES, ...WORDS, ...NUMBERS, '-', '--', '.', '_', '~'), {
        minLength: min,
        maxLength: 3,
      })
      .map((a) => a.join(''));
  const pair = fc.tuple(glued(1), glued(0), fc.constantFrom('', '', '=', '==')).map(([n, v, pad]) => `${n}=${v}${pad}`);
  const header = fc
    .tuple(fc.array(pair, { minLength: 1, maxLength: 4 }), fc.constantFrom('; ', ';'), fc.constantFrom('', ';'))
    .map(([pairs, sep, end]) => pairs.join(sep) + end);

  it('skips only headers whose every SQLi finding a single cookie name or value also gets', () => {
    let skipped = 0;
    fc.assert(
      fc.property(header, (h) => {
        if (!isPlainCookieHeader(h)) return true;
        skipped++;
        const best = new Map<string, number>();
        for (const part of h.split(/; ?/).flatMap((p) => p.split(/=(.*)/s).slice(0, 2))) {
          if (part.length < 2) continue;
          for (const hit of analyzeSql(part).hits)
            best.set(hit.ruleId, Math.max(best.get(hit.ruleId) ?? 0, hit.confidence));
        }
        return analyzeSql(h).hits.every((hit) => (best.get(hit.ruleId) ?? -1) >= hit.confidence);
      }),
      { numRuns: 20_000, seed: 7 },
    );
    assert.ok(skipped > 2_000, `only ${skipped} headers skipped`);
  });

  it('skips ordinary cookie headers and keeps the ones carrying SQL', () => {
    for (const h of ['session=5khl182zl2in; theme=dark; consent=1', '_ga=GA1.2.3-4;sid=YWJj==', 'a=']) {
      assert.equal(isPlainCookieHeader(h), true, h);
    }
    for (const h of [
      "session=1' or '1'='1",
      'id=1 union select 1',
      'id=select.5',
      'where=1',
      'x=1;drop=1',
      'id=(1)',
      'id=1/**/or/**/1',
      'id=%27',
    ]) {
      assert.equal(isPlainCookieHeader(h), false, h);
    }
  });
});
