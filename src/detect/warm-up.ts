import type { AnalysisConfig } from '../config/config.js';
import type { CapturedExchange, HeaderList } from '../core/model.js';
import { analyzeExchange } from './analyze-exchange.js';

/*
 * The first analysis in a fresh thread costs 100–200 ms on this 2-core machine (lazy tables,
 * regex compilation, JIT), far past the per-request budget: without a warm-up the first real
 * requests of every worker would be cut short and their detections lost. Each worker (and
 * `analyze`) therefore runs these synthetic exchanges once, without a budget, before taking work.
 */

function exchange(method: string, target: string, headers: HeaderList, body = ''): CapturedExchange {
  const bytes = Buffer.from(body);
  return {
    id: 'warm-up',
    requestId: 'warm-up',
    source: 'replay',
    receivedAt: 0,
    clientIp: '192.0.2.1',
    host: 'warm-up.invalid',
    method,
    target,
    httpVersion: '1.1',
    headers: [['host', 'warm-up.invalid'], ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64)'], ...headers],
    body: bytes,
    bodyTruncated: false,
    bodyBytesSeen: bytes.length,
  };
}

const SAMPLES: readonly CapturedExchange[] = [
  exchange(
    'GET',
    `/a/../b?id=${encodeURIComponent("1' OR 1=1--")}&q=${encodeURIComponent('<svg onload=alert(1)>')}&c=;id`,
    [['cookie', 'session=abc; theme=dark']],
  ),
  exchange('GET', '/search?q=running+shoes&page=2&url=http%3A%2F%2F169.254.169.254%2F', []),
  exchange(
    'POST',
    '/api',
    [['content-type', 'application/json']],
    JSON.stringify({
      name: "O'Brien",
      tpl: '{{7*7}}',
      x: '${jndi:ldap://a/b}',
      q: { $ne: 1 },
      b: 'cmVhZCB0aGUgZG9jcw==',
    }),
  ),
  exchange(
    'POST',
    '/form',
    [['content-type', 'application/x-www-form-urlencoded']],
    'a=1&b=%3Cscript%3E&c=..%2F..%2Fetc%2Fpasswd',
  ),
  exchange(
    'POST',
    '/upload',
    [['content-type', 'multipart/form-data; boundary=XyZ']],
    '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n',
  ),
  exchange(
    'POST',
    '/soap',
    [['content-type', 'application/xml']],
    '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a b="1">&x;</a>',
  ),
  exchange(
    'POST',
    '/graphql',
    [['content-type', 'application/json']],
    JSON.stringify({ query: '{ user(id: 1) { name } }' }),
  ),
];

/** Runs every detector and decoder once so that later requests are analysed at full speed. */
export function warmUp(config: AnalysisConfig): void {
  const unbounded: AnalysisConfig = { ...config, limits: { ...config.limits, budgetMs: 60_000 } };
  for (let round = 0; round < 3; round++) for (const ex of SAMPLES) analyzeExchange(ex, unbounded);
}
