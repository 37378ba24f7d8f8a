import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../src/config/config.js';
import { createRedactor } from '../src/publish/redact.js';

describe('redaction', () => {
  const r = createRedactor(
    resolveConfig({ redaction: { params: ['ssn_last4'], headers: ['x-secret-thing'] } }).redaction,
  );

  it('hides values found in credential-bearing locations entirely', () => {
    assert.equal(r.fragment('header.authorization', "Bearer ' OR 1=1"), '[REDACTED:15 chars]');
    assert.equal(r.fragment('cookie.session', "' or 1=1--"), '[REDACTED:10 chars]');
    assert.equal(r.fragment('body.json.user.password', "admin'--"), '[REDACTED:8 chars]');
    assert.equal(r.fragment('body.form.ssn_last4', '1234'), '[REDACTED:4 chars]');
    assert.equal(r.fragment('header.x-secret-thing', 'abc'), '[REDACTED:3 chars]');
  });

  it('redacts token shapes wherever they appear and keeps the attack visible', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const out = r.fragment('query.q', `' UNION SELECT '${jwt}' -- AKIAABCDEFGHIJKLMNOP`);
    assert.ok(out.includes("' UNION SELECT '"));
    assert.ok(out.includes('[REDACTED:jwt]'));
    assert.ok(out.includes('[REDACTED:aws-key]'));
    assert.ok(!out.includes('eyJ'));
    assert.ok(!out.includes('AKIAABCDEFGHIJKLMNOP'));
  });

  it('leaves ordinary locations and fragments as they are, truncated to the configured size', () => {
    assert.equal(r.fragment('query.id', "1' OR 1=1--"), "1' OR 1=1--");
    const long = 'a'.repeat(300);
    assert.equal(r.fragment('query.q', long), `${'a'.repeat(256)}…[44 more]`);
  });

  it('reveals secrets only when the operator opts in', () => {
    const open = createRedactor(resolveConfig({ redaction: { revealSecrets: true } }).redaction);
    assert.equal(open.fragment('cookie.session', "' or 1=1--"), "' or 1=1--");
  });
});
