import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { envKeys, loadConfig, resolveConfig } from '../src/config/config.js';

describe('config', () => {
  it('has working defaults and is frozen', () => {
    const c = resolveConfig();
    assert.equal(c.shadow.port, 8080);
    assert.equal(c.grpc.port, 50051);
    assert.equal(c.admin.port, 9090);
    assert.equal(c.grpc.host, '127.0.0.1');
    assert.ok(Object.isFrozen(c.analysis.limits));
    assert.throws(() => {
      (c.shadow as { port: number }).port = 1;
    }, TypeError);
  });

  it('names the key and the problem in validation errors', () => {
    assert.throws(
      () => resolveConfig({ shadow: { port: 70000 } }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ST_ERR_CONFIG_INVALID');
        assert.match(err.message, /shadow\.port/);
        return true;
      },
    );
    assert.throws(() => resolveConfig({ admission: { queueSiz: 3 } } as never), /admission.*queueSiz/s);
  });

  it('applies defaults < file < env < flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shadowtap-config-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(
      file,
      'shadow:\n  port: 1000\ngrpc:\n  port: 2000\nadmin:\n  port: 3000\nanalysis:\n  sensitivity: high\n',
    );
    const c = loadConfig({
      file,
      env: {
        SHADOWTAP_GRPC_PORT: '2001',
        SHADOWTAP_ADMIN_PORT: '3001',
        SHADOWTAP_ANALYSIS_LIMITS_MAX_BODY_BYTES: '4096',
      },
      overrides: { 'admin.port': '3002' },
    });
    assert.equal(c.shadow.port, 1000);
    assert.equal(c.grpc.port, 2001);
    assert.equal(c.admin.port, 3002);
    assert.equal(c.analysis.sensitivity, 'high');
    assert.equal(c.analysis.limits.maxBodyBytes, 4096);
  });

  it('reports unreadable or non-mapping files with the file name', () => {
    assert.throws(() => loadConfig({ file: '/nonexistent/shadowtap.yaml' }), /ST_ERR|\/nonexistent\/shadowtap\.yaml/);
    const dir = mkdtempSync(join(tmpdir(), 'shadowtap-config-'));
    const file = join(dir, 'list.yaml');
    writeFileSync(file, '- a\n- b\n');
    assert.throws(() => loadConfig({ file }), /top level must be a mapping/);
  });

  it('maps every leaf key to an env var name', () => {
    const names = envKeys().map((k) => k.env);
    assert.ok(names.includes('SHADOWTAP_SHADOW_PORT'));
    assert.ok(names.includes('SHADOWTAP_ANALYSIS_LIMITS_BUDGET_MS'));
    assert.ok(names.includes('SHADOWTAP_ADMISSION_QUEUE_SIZE'));
  });
});
