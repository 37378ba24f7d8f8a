import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { resolveConfig, type Options } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { Detection, Severity } from '../src/gen/shadowtap/v1/detection.js';
import { escapeParamValue, formatSyslogMessage, SD_ID } from '../src/publish/reporter/format-syslog.js';
import { createReporter } from '../src/publish/reporter/reporter.js';
import type { DetectionJson, ReportBatch, SinkConfig } from '../src/publish/reporter/sink.js';
import { createSyslogSink } from '../src/publish/reporter/sink-syslog.js';

const root = mkdtempSync(join(tmpdir(), 'shadowtap-syslog-'));
after(() => rmSync(root, { recursive: true, force: true }));

const NASTY_PATH = '/a"b]c\\d e=f';

function detectionJson(seq: number, severity = Severity.SEVERITY_HIGH): DetectionJson {
  return Detection.toJSON(
    Detection.fromPartial({
      sequence: seq,
      id: `det-${seq}`,
      timeUnixMs: 1_764_000_000_123 + seq,
      host: 'shop.example',
      method: 'POST',
      path: NASTY_PATH,
      attackType: 'sqli',
      ruleId: 'ST-SQLI-001',
      severity,
      confidence: 0.75,
      location: 'body.json.q',
      fragment: "' or 1=1 -- ünïcode",
    }),
  ) as DetectionJson;
}

function batch(count: number): ReportBatch {
  return { id: 'b1-7', createdUnixMs: 0, detections: Array.from({ length: count }, (_, i) => detectionJson(i + 1)) };
}

function sinkConfig(url: string, over: Partial<SinkConfig> = {}): SinkConfig {
  const cfg = resolveConfig({ reporter: { sinks: [{ name: 'sys', type: 'syslog', url }] } } as Options);
  return { ...cfg.reporter.sinks[0]!, ...over };
}

interface Parsed {
  pri: number;
  version: string;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: Array<{ id: string; params: Record<string, string> }>;
  msg: Buffer;
}

/** A strict RFC 5424 parser (header, SD with escapes, BOM-prefixed MSG); throws on any deviation. */
function parse5424(raw: Buffer): Parsed {
  const text = raw.toString('latin1');
  const head = /^<(\d{1,3})>(1) (\S+) ([!-~]{1,255}) ([!-~]{1,48}) ([!-~]{1,128}) ([!-~]{1,32}) /.exec(text);
  assert.ok(head, `RFC 5424 header: ${text.slice(0, 120)}`);
  const [all, pri, version, timestamp, hostname, appName, procId, msgId] = head;
  assert.match(
    timestamp!,
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/,
    'RFC 3339 timestamp',
  );
  assert.ok(Number(pri) <= 191, 'PRIVAL in range');
  // Structured data is UTF-8: parse it from the decoded string after the header.
  const rest = raw.subarray(Buffer.byteLength(all, 'latin1'));
  const s = rest.toString('utf8');
  const sd: Parsed['sd'] = [];
  let i = 0;
  if (s[0] === '-') i = 1;
  else {
    while (s[i] === '[') {
      i++;
      const idEnd = s.slice(i).search(/[ \]]/);
      const id = s.slice(i, i + idEnd);
      assert.match(id, /^[!-~]{1,32}$/);
      assert.doesNotMatch(id, /[= \]"]/);
      i += idEnd;
      const params: Record<string, string> = {};
      while (s[i] === ' ') {
        i++;
        const eq = s.indexOf('=', i);
        const name = s.slice(i, eq);
        assert.match(name, /^[!-~]{1,32}$/);
        assert.doesNotMatch(name, /[= \]"]/);
        assert.equal(s[eq + 1], '"');
        i = eq + 2;
        let value = '';
        for (;;) {
          const c = s[i];
          assert.ok(c !== undefined, 'unterminated PARAM-VALUE');
          if (c === '\\' && ['"', '\\', ']'].includes(s[i + 1]!)) {
            value += s[i + 1];
            i += 2;
          } else if (c === '"') {
            i++;
            break;
          } else {
            assert.notEqual(c, ']', 'unescaped ] inside PARAM-VALUE');
            value += c;
            i++;
          }
        }
        params[name] = value;
      }
      assert.equal(s[i], ']', 'SD-ELEMENT closed');
      i++;
      sd.push({ id, params });
    }
  }
  const after = Buffer.from(s.slice(i), 'utf8');
  assert.equal(after[0], 0x20, 'SP before MSG');
  return {
    pri: Number(pri),
    version: version!,
    timestamp: timestamp!,
    hostname: hostname!,
    appName: appName!,
    procId: procId!,
    msgId: msgId!,
    sd,
    msg: after.subarray(1),
  };
}

function checkMessage(raw: Buffer, seq: number): void {
  const p = parse5424(raw);
  assert.equal(p.version, '1');
  assert.equal(p.pri, 16 * 8 + 3, 'local0 (16) × 8 + err (3) for a high severity');
  assert.equal(p.timestamp, new Date(1_764_000_000_123 + seq).toISOString());
  assert.equal(p.appName, 'shadowtap');
  assert.equal(p.procId, String(process.pid));
  assert.equal(p.msgId, 'sqli');
  assert.equal(p.sd.length, 1);
  assert.equal(p.sd[0]!.id, SD_ID);
  assert.equal(p.sd[0]!.params['batchId'], 'b1-7');
  assert.equal(p.sd[0]!.params['path'], NASTY_PATH, 'escaped value round-trips');
  assert.equal(p.sd[0]!.params['sequence'], String(seq));
  assert.deepEqual([...p.msg.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'MSG starts with a UTF-8 BOM');
  const body = JSON.parse(p.msg.subarray(3).toString('utf8')) as {
    sequence: number;
    batchId: string;
    fragment: string;
  };
  assert.equal(body.sequence, seq);
  assert.equal(body.batchId, 'b1-7');
  assert.equal(body.fragment, "' or 1=1 -- ünïcode");
}

/** Reads RFC 6587 octet-counted frames; throws if the stream holds anything else. */
function octetFrames(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    const len = buf.subarray(off, sp).toString('ascii');
    assert.match(len, /^[1-9]\d*$/, 'MSG-LEN');
    const start = sp + 1;
    out.push(buf.subarray(start, start + Number(len)));
    off = start + Number(len);
  }
  assert.equal(off, buf.length, 'frames end exactly at the last byte');
  return out;
}

async function streamListener(secure?: { key: Buffer; cert: Buffer }) {
  const chunks: Buffer[] = [];
  const onSocket = (s: net.Socket): void => {
    s.on('data', (c: Buffer) => chunks.push(c));
  };
  const server = secure ? tls.createServer(secure, onSocket) : net.createServer(onSocket);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => Buffer.concat(chunks),
    close: () => new Promise<void>((r) => server.close(() => r())),
    server,
  };
}

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('syslog sink', () => {
  it('formats RFC 5424: PRI, version, timestamp, escaped structured data, BOM + JSON MSG', () => {
    const raw = formatSyslogMessage(detectionJson(3), 'b1-7', {
      facility: 16,
      appName: 'shadowtap',
      hostname: 'host with spaces',
      procId: String(process.pid),
    });
    checkMessage(raw, 3);
    assert.equal(parse5424(raw).hostname, 'hostwithspaces', 'HOSTNAME is PRINTUSASCII');
    const crit = parse5424(
      formatSyslogMessage(detectionJson(1, Severity.SEVERITY_CRITICAL), 'b', {
        facility: 4,
        appName: 'a',
        hostname: 'h',
        procId: '1',
      }),
    );
    assert.equal(crit.pri, 4 * 8 + 2);
  });

  it('caps SD values; the whole detection stays in MSG', () => {
    const d = { ...detectionJson(1), path: '/' + 'a'.repeat(5000) };
    const p = parse5424(formatSyslogMessage(d, 'b', { facility: 16, appName: 'a', hostname: 'h', procId: '1' }));
    assert.equal(p.sd[0]!.params['path']!.length, 256);
    assert.equal((JSON.parse(p.msg.subarray(3).toString('utf8')) as { path: string }).path.length, 5001);
  });

  it('UDP: a message past the datagram limit is cut, not retried forever', async () => {
    const server = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    server.on('message', (m) => got.push(m));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    const sink = createSyslogSink(sinkConfig(`udp://127.0.0.1:${server.address().port}`));
    const huge = { ...detectionJson(1), reason: 'r'.repeat(70_000) };
    await sink.send({ id: 'b', createdUnixMs: 0, detections: [huge] });
    await waitFor('1 datagram', () => got.length === 1);
    assert.equal(got[0]!.length, 65000);
    await sink.close();
    server.close();
  });

  it('escapes ", \\ and ] in PARAM-VALUE and neutralises control characters', () => {
    assert.equal(escapeParamValue('a"b\\c]d'), 'a\\"b\\\\c\\]d');
    assert.equal(escapeParamValue('x\ny\r\u0000'), 'x?y??');
  });

  it('TCP: octet-counted frames, one message per detection', async () => {
    const l = await streamListener();
    const sink = createSyslogSink(sinkConfig(`tcp://127.0.0.1:${l.port}`));
    await sink.send(batch(5));
    await sink.send({ ...batch(2) });
    await waitFor('7 frames', () => {
      try {
        return octetFrames(l.bytes()).length === 7;
      } catch {
        return false;
      }
    });
    const frames = octetFrames(l.bytes());
    frames.slice(0, 5).forEach((f, i) => checkMessage(f, i + 1));
    await sink.close();
    await l.close();
  });

  it('TCP: a receiver that is down fails the send (so the breaker and spool take over)', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const sink = createSyslogSink(sinkConfig(`tcp://127.0.0.1:${port}`));
    await assert.rejects(sink.send(batch(1)), { code: 'ST_ERR_SINK_FAILED' });
    await sink.close();
  });

  it('UDP: one RFC 5424 message per datagram', async () => {
    const server = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    server.on('message', (m) => got.push(m));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    const sink = createSyslogSink(sinkConfig(`udp://127.0.0.1:${server.address().port}`));
    await sink.send(batch(4));
    await waitFor('4 datagrams', () => got.length === 4);
    got.forEach((m, i) => checkMessage(m, i + 1));
    await sink.close();
    server.close();
  });

  it('TLS: octet-counted messages over TLS to a receiver with a self-signed certificate', async (t) => {
    if (!haveOpenssl()) {
      t.skip('openssl CLI not installed: cannot make a self-signed certificate');
      return;
    }
    const key = join(root, 'key.pem');
    const cert = join(root, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ].concat(['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']),
      { stdio: 'ignore' },
    );
    const l = await streamListener({ key: readFileSync(key), cert: readFileSync(cert) });
    const untrusted = createSyslogSink(sinkConfig(`tls://127.0.0.1:${l.port}`));
    await assert.rejects(untrusted.send(batch(1)), { code: 'ST_ERR_SINK_FAILED' }, 'unknown CA is refused');
    await untrusted.close();
    const sink = createSyslogSink(sinkConfig(`tls://127.0.0.1:${l.port}`, { caFile: cert }));
    await sink.send(batch(3));
    await waitFor('3 frames', () => {
      try {
        return octetFrames(l.bytes()).length === 3;
      } catch {
        return false;
      }
    });
    octetFrames(l.bytes()).forEach((f, i) => checkMessage(f, i + 1));
    await sink.close();
    await l.close();
  });

  it('through the reporter: a syslog receiver that comes up late gets every detection once', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const config = resolveConfig({
      reporter: {
        batchSize: 5,
        flushIntervalMs: 10,
        spool: { dir: join(root, 'spool'), replayBatchesPerSecond: 200 },
        sinks: [
          {
            name: 'sys',
            type: 'syslog',
            url: `tcp://127.0.0.1:${port}`,
            resetTimeoutMs: 100,
            volumeThreshold: 1,
            retryDelayMs: 20,
          },
        ],
      },
    } as Options).reporter;
    const registry = new Registry();
    const reporter = await createReporter({ config, logger: silentLogger(), registry });
    for (let i = 1; i <= 20; i++) reporter.enqueue(Detection.fromJSON(detectionJson(i)));
    await reporter.flush();
    const receiver = net.createServer();
    const chunks: Buffer[] = [];
    receiver.on('connection', (s) => s.on('data', (c: Buffer) => chunks.push(c)));
    await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r));
    const seqs = (): number[] => {
      try {
        return octetFrames(Buffer.concat(chunks)).map((f) => Number(parse5424(f).sd[0]!.params['sequence']));
      } catch {
        return [];
      }
    };
    await waitFor('20 messages', () => seqs().length >= 20);
    assert.deepEqual(
      seqs(),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    await reporter.close(1000);
    await new Promise<void>((r) => receiver.close(() => r()));
  });
});
