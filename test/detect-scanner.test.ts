import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scannerDetector as d } from '../src/detect/detect-scanner.js';
import type { HeaderList, Sensitivity } from '../src/core/model.js';
import { detectCtx } from './helpers/detect-point.js';

function rules(headers: HeaderList, sensitivity: Sensitivity = 'default'): string[] {
  const ctx = detectCtx(sensitivity, { headers });
  return d.inspectRequest!(ctx.request, ctx).map((f) => f.ruleId);
}

describe('scanner detector', () => {
  const agents = [
    'sqlmap/1.7.2#stable (https://sqlmap.org)',
    'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)',
    'nuclei',
    'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)',
    'Fuzz Faster U Fool v2.1.0',
    'gobuster/3.6',
    'WPScan v3.8.24 (https://wpscan.com/wordpress-security-scanner)',
    'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; SV1; .NET CLR 2.0.50727) Havij',
    'Arachni/0.2.1',
    'nessus',
    'Mozilla/5.0 zgrab/0.x',
  ];
  for (const ua of agents) it(`flags ${ua}`, () => assert.deepEqual(rules([['user-agent', ua]]), ['ST-SCAN-001']));
  it('flags scanner headers and OOB callback domains', () => {
    assert.deepEqual(rules([['acunetix-product', 'WVS/10.0']]), ['ST-SCAN-002']);
    assert.deepEqual(rules([['x-forwarded-host', 'abc.oastify.com']]), ['ST-SCAN-003']);
  });
  const browsers = [
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'urlgrabber/3.10 yum/3.4.3',
    'mozilla/5.0 ecairn-grabber/1.0 (+http://ecairn.com/grabber)',
    'Googlebot/2.1 (+http://www.google.com/bot.html)',
    'curl/8.5.0',
  ];
  for (const ua of browsers) it(`leaves ${ua} alone`, () => assert.deepEqual(rules([['user-agent', ua]]), []));
  it('never reports generic HTTP libraries, even at high sensitivity', () => {
    assert.deepEqual(rules([['user-agent', 'python-requests/2.31.0']], 'high'), []);
    assert.deepEqual(rules([['user-agent', 'Go-http-client/1.1']], 'high'), []);
  });
});
