import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { backoffDelay, runTail } from '../src/cli/cmd-tail.js';
import type { CliIo } from '../src/cli/cli-io.js';
import { Detection, Severity, Source } from '../src/gen/shadowtap/v1/detection.js';
import type { Shadowtap } from '../src/server.js';
import { startTestServer } from './helpers/start-server.js';

const TOKEN = 'tail-token-0123456789abcdef';
const cert = (name: string): string => new URL(`./fixtures/certs/${name}`, import.meta.url).pathname;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs `tail` in-process, collecting its output; stop() aborts it like Ctrl-C. */
function startTail(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (s) => out.push(s), stderr: (s) => err.push(s) };
  const controller = new AbortController();
  const exit = runTail(args, io, { signal: controller.signal, env });
  const sequences = (): number[] => out.map((l) => Number((JSON.parse(l) as { sequence: string | number }).sequence));
  return {
    out,
    err,
    exit,
    sequences,
    async until(predicate: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
      const start = Date.now();
      while (!predicate()) {
        if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; stderr: ${err.join('')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stop: async (): Promise<number> => {
      controller.abort();
      return exit;
    },
  };
}

const det = (i: number, over: Partial<Detection> = {}): Detection =>
  Detection.fromPartial({
    id: `t${i}`,
    attackType: 'sqli',
    severity: Severity.SEVERITY_HIGH,
    host: 'a.example',
    path: '/x',
    source: Source.SOURCE_MIRROR,
    ...over,
  });

describe('shadowtap tail', () => {
  it('backoff grows exponentially, is jittered and bounded', () => {
    assert.equal(
      backoffDelay(1, 30000, () => 0),
      125,
    );
    assert.equal(
      backoffDelay(1, 30000, () => 1),
      250,
    );
    assert.equal(
      backoffDelay(4, 30000, () => 1),
      2000,
    );
    for (let a = 1; a < 100; a++) assert.ok(backoffDelay(a, 30000) <= 30000);
    assert.equal(
      backoffDelay(60, 30000, () => 0),
      15000,
    );
  });

  it('--resume replays, and after a restart it reconnects and resumes with no loss and no duplicates', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'shadowtap-tail-'));
    dirs.push(logDir);
    let app: Shadowtap = await startTestServer({ hub: { logDir } });
    const port = app.ports.grpc;
    for (let i = 1; i <= 5; i++) app.hub.publish(det(i));
    const tail = startTail(['--addr', `127.0.0.1:${port}`, '--json', '--resume', '2', '--max-backoff-ms', '300']);
    try {
      await tail.until(() => tail.out.length === 3, 'the replay');
      assert.deepEqual(tail.sequences(), [3, 4, 5]);
      await app.close();
      await tail.until(() => tail.err.some((l) => l.includes('reconnecting')), 'a reconnect notice');
      assert.match(tail.err.join(''), /resuming after #5/);
      app = await startTestServer({ hub: { logDir }, grpc: { port } });
      // Published while the tail may still be waiting to reconnect: it must get them on resume.
      app.hub.publish(det(6));
      app.hub.publish(det(7));
      await tail.until(() => tail.out.length === 5, 'detections after the restart');
      assert.deepEqual(tail.sequences(), [3, 4, 5, 6, 7]);
      assert.equal(await tail.stop(), 0);
    } finally {
      await tail.stop();
      await app.close();
    }
  });

  it('without --resume starts live, and applies every filter flag', async () => {
    const app = await startTestServer();
    try {
      app.hub.publish(det(1));
      const tail = startTail([
        '--addr',
        `127.0.0.1:${app.ports.grpc}`,
        '--json',
        '--type',
        'sqli',
        '--filter-type',
        'xss',
        '--host',
        'a.example',
        '--path-prefix',
        '/api/',
        '--source',
        'ext_proc',
        '--min-severity',
        'high',
      ]);
      const want = { host: 'a.example:443', path: '/api/v1', source: Source.SOURCE_EXT_PROC };
      await tail.until(() => app.hub.subscriberCount() === 1, 'the subscription');
      app.hub.publish(det(2, want));
      app.hub.publish(det(3, { ...want, attackType: 'rce' }));
      app.hub.publish(det(4, { ...want, host: 'b.example' }));
      app.hub.publish(det(5, { ...want, path: '/static/x' }));
      app.hub.publish(det(6, { ...want, source: Source.SOURCE_MIRROR }));
      app.hub.publish(det(7, { ...want, severity: Severity.SEVERITY_MEDIUM }));
      app.hub.publish(det(8, { ...want, attackType: 'xss' }));
      await tail.until(() => tail.out.length === 2, 'the matching detections');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(tail.sequences(), [2, 8]);
      assert.equal(await tail.stop(), 0);
    } finally {
      await app.close();
    }
  });

  it('prints gap markers to stderr', async () => {
    const app = await startTestServer({ hub: { historySize: 10 } });
    try {
      for (let i = 1; i <= 30; i++) app.hub.publish(det(i));
      const tail = startTail(['--addr', `127.0.0.1:${app.ports.grpc}`, '--resume', '1']);
      await tail.until(() => tail.out.length === 10, 'the retained detections');
      assert.match(tail.err.join(''), /missed detections 2\.\.20 \(evicted\)/);
      assert.match(tail.out[0]!, / #21 HIGH sqli /);
      await tail.stop();
    } finally {
      await app.close();
    }
  });

  it('sends the token from --token or SHADOWTAP_TOKEN, and exits 1 on UNAUTHENTICATED', async () => {
    const app = await startTestServer({ grpc: { authToken: TOKEN } });
    try {
      const addr = `127.0.0.1:${app.ports.grpc}`;
      const denied = startTail(['--addr', addr, '--token', 'wrong-token-0123456789']);
      assert.equal(await denied.exit, 1);
      assert.match(denied.err.join(''), /unauthenticated/);
      const viaEnv = startTail(['--addr', addr, '--json', '--resume', '0'], { SHADOWTAP_TOKEN: TOKEN });
      await viaEnv.until(() => app.hub.subscriberCount() === 1, 'the subscription');
      app.hub.publish(det(1));
      await viaEnv.until(() => viaEnv.out.length === 1, 'a detection');
      assert.equal(await viaEnv.stop(), 0);
    } finally {
      await app.close();
    }
  });

  it('connects with --ca (TLS) and with --cert/--key (mTLS)', async () => {
    const app = await startTestServer({
      grpc: {
        tls: {
          certFile: cert('server.crt'),
          keyFile: cert('server.key'),
          caFile: cert('ca.crt'),
          requireClientCert: true,
        },
      },
    });
    try {
      const addr = `localhost:${app.ports.grpc}`;
      const refused = startTail([
        '--addr',
        addr,
        '--ca',
        cert('ca.crt'),
        '--resume',
        '0',
        '--max-retries',
        '1',
        '--max-backoff-ms',
        '250',
      ]);
      assert.equal(await refused.exit, 1);
      const ok = startTail([
        '--addr',
        addr,
        '--json',
        '--resume',
        '0',
        '--ca',
        cert('ca.crt'),
        '--cert',
        cert('client.crt'),
        '--key',
        cert('client.key'),
      ]);
      await ok.until(() => app.hub.subscriberCount() === 1, 'the mTLS subscription');
      app.hub.publish(det(1));
      await ok.until(() => ok.out.length === 1, 'the detection over mTLS');
      assert.equal(await ok.stop(), 0);
    } finally {
      await app.close();
    }
  });

  it('rejects bad flags with exit code 2', async () => {
    for (const args of [
      ['--min-severity', 'loud'],
      ['--source', 'carrier-pigeon'],
      ['--resume=-3'],
      ['--resume', 'abc'],
      ['--cert', 'x.crt'],
    ]) {
      const t = startTail(args);
      assert.equal(await t.exit, 2, args.join(' '));
    }
  });
});
