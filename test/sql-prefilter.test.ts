import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
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
