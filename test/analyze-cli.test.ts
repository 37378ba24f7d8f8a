import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../src/cli/main.js';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

interface Line {
  id: string;
  detections: Array<Record<string, unknown>>;
}

const parse = (out: string): Map<string, Line> =>
  new Map(
    out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line)
      .map((l) => [l.id, l]),
  );

describe('shadowtap analyze', () => {
  it('finds the attacks of a JSON-lines capture and nothing in its benign requests', async () => {
    const { code, out } = await run(['analyze', fixture('sample.jsonl')]);
    assert.equal(code, 0);
    const lines = parse(out);
    assert.equal(lines.size, 5);
    const q = lines.get('sqli-query')!.detections;
    assert.ok(q.some((d) => d.attackType === 'sqli' && d.location === 'query.id'));
    assert.equal(q[0]!.clientIp, '203.0.113.5');
    assert.equal(q[0]!.host, 'shop.example.com');
    assert.equal(q[0]!.source, 'SOURCE_REPLAY');
    const j = lines.get('sqli-json')!.detections;
    assert.ok(j.some((d) => d.attackType === 'sqli' && d.location === 'body.json.user'));
    assert.equal(j[0]!.requestId, 'abc-123');
    assert.equal(j[0]!.host, 'api.example.com');
    assert.ok(
      lines.get('sqli-form-b64')!.detections.some((d) => d.attackType === 'sqli' && d.location === 'body.form.q'),
    );
    assert.deepEqual(lines.get('benign-get')!.detections, []);
    assert.deepEqual(lines.get('benign-json')!.detections, []);
  });

  it('reads HAR 1.2 files', async () => {
    const { code, out } = await run(['analyze', fixture('sample.har')]);
    assert.equal(code, 0);
    const lines = parse(out);
    assert.ok(lines.get('1')!.detections.some((d) => d.attackType === 'sqli' && d.location === 'query.id'));
    assert.equal(lines.get('1')!.detections[0]!.host, 'shop.example.com');
    assert.deepEqual(lines.get('2')!.detections, []);
  });

  it('fails with the file and line of unreadable input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shadowtap-analyze-'));
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"method":"GET","target":"/"}\n{not json}\n');
    const r1 = await run(['analyze', bad]);
    assert.equal(r1.code, 1);
    assert.match(r1.err, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: not valid JSON`));
    const missing = join(dir, 'nope.jsonl');
    const r2 = await run(['analyze', missing]);
    assert.equal(r2.code, 1);
    assert.match(r2.err, /nope\.jsonl/);
    writeFileSync(bad, '{"target":"/"}\n');
    assert.match((await run(['analyze', bad])).err, /:1: "method" must be a non-empty string/);
  });

  it('prints help for every command', async () => {
    for (const cmd of ['serve', 'tail', 'analyze']) {
      const r = await run([cmd, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`Usage: shadowtap ${cmd}`));
    }
    const r = await run(['--help']);
    assert.match(r.out, /serve[\s\S]*tail[\s\S]*analyze[\s\S]*gen-envoy[\s\S]*validate-envoy/);
    assert.equal((await run(['bogus'])).code, 2);
  });
});
