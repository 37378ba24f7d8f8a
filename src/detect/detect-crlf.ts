import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import {
  headerName,
  hitCollector,
  isHeader,
  isInfraHeader,
  isPath,
  percentDecodeDeep,
  type Rule,
} from './detect-kit.js';

/*
 * CR/LF injection: HTTP response splitting, header injection, mail (SMTP) header injection.
 *
 * A line break is ordinary inside a multi-line form field and abnormal in a URL, a header,
 * a cookie or a parameter name; what makes it an attack is what follows it — a header line
 * (`Set-Cookie:`, `Location:`), an empty line and a body, a status line, or a mail header
 * (`Bcc:`) in a field that feeds a mail. Unicode characters whose low byte is CR/LF (嘍嘊,
 * for servers that truncate to Latin-1) count as line breaks.
 */

const R = {
  header: { id: 'ST-CRLF-001', attackType: 'crlf', severity: 'high' },
  splitting: { id: 'ST-CRLF-002', attackType: 'crlf', severity: 'high' },
  mail: { id: 'ST-CRLF-003', attackType: 'crlf', severity: 'high' },
  bare: { id: 'ST-CRLF-004', attackType: 'crlf', severity: 'medium' },
  requestLine: { id: 'ST-CRLF-005', attackType: 'crlf', severity: 'medium' },
} satisfies Record<string, Rule>;

const NL = '[\\r\\n\\u560a\\u560d\\u010a\\u010d\\u2028\\u2029]';
/** Response headers an attacker sets through a split. */
const RESPONSE_HEADER = new RegExp(
  `${NL}+[ \\t]*(set-cookie|location|content-type|content-length|content-security-policy|refresh|x-xss-protection|access-control-allow-[a-z-]+|transfer-encoding|cache-control|x-forwarded-[a-z-]+|host|remote-addr|link|content-disposition|x-frame-options|strict-transport-security)[ \\t]*:([^\\r\\n]{0,200})`,
  'i',
);

/** Values that make a header line unmistakably HTTP (not `Location: Room 4` in meeting notes). */
const HEADER_VALUE: Readonly<Record<string, RegExp>> = {
  'set-cookie': /^\s*[\w.-]+=/,
  location: /^\s*(?:[a-z][a-z0-9+.-]*:)?\/\//i,
  'content-type': /^\s*[\w.+-]+\/[\w.+-]+/,
  'content-length': /^\s*\d+\s*$/,
  refresh: /^\s*\d+\s*(?:;|$)/,
  'transfer-encoding': /^\s*(?:chunked|identity|gzip)\b/i,
  'x-xss-protection': /^\s*[01]\b/,
};
const ANY_HEADER = new RegExp(`${NL}+[ \\t]*([A-Za-z][A-Za-z0-9-]{1,40})[ \\t]*${NL}*:`);
const MAIL_HEADER = new RegExp(
  `${NL}+[ \\t]*(bcc|cc|to|from|reply-to|subject|sender|return-path|content-type|mime-version|content-transfer-encoding|x-mailer)[ \\t]*:`,
  'i',
);
const SPLIT = new RegExp(
  `${NL}[ \\t]*${NL}?[ \\t]*${NL}[ \\t]*(?:<|HTTP\\/\\d)|${NL}HTTP\\/\\d(?:\\.\\d)?\\s+\\d{3}`,
  'i',
);
const HAS_NL = new RegExp(NL);
const PARAM_AFTER_NL = new RegExp(`${NL}+[\\w.-]{1,40}=`);
/** An HTTP request line inside a value (request splitting / smuggling through a parameter). */
const REQUEST_LINE =
  /(?:^|[\r\n\s])(?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|TRACE|CONNECT)\s+(?:\/|https?:\/\/)\S*\s+HTTP\/\d(?:\.\d)?/;

/** CRLF injection detector. */
export const crlfDetector: Detector = {
  id: 'crlf',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const raw = point.value;
    if (raw.length < 3) return [];
    const header = isHeader(point);
    const early = hitCollector(ctx);
    if (raw.length >= 14 && raw.includes('HTTP/')) {
      const m = REQUEST_LINE.exec(raw);
      if (m)
        early.add(
          R.requestLine,
          isInfraHeader(point) ? 0.4 : 0.7,
          m[0].trim(),
          'HTTP request line inside a value (CRS 921130)',
        );
    }
    // Headers arrive undecoded: a %0d%0a inside one is what a splitting probe looks like.
    // Cheap pre-filter: a line break in some spelling.
    if (!HAS_NL.test(raw) && !/%(?:25)*0[ad]|%e5%98%8[ad]/i.test(raw)) return early.hits;
    const s = percentDecodeDeep(raw.length > 16384 ? raw.slice(0, 16384) : raw).value;
    if (!HAS_NL.test(s)) return early.hits;
    const c = early;
    const loc = point.location;
    const urlish = loc.startsWith('query.') || loc.startsWith('cookie.') || isPath(point) || header;
    const body = loc.startsWith('body.');
    const encoded = s !== raw;
    const lines = s.split(/\r\n|\r|\n/).length;

    const split = SPLIT.exec(s);
    if (split)
      c.add(
        R.splitting,
        body && !encoded ? 0.6 : 0.9,
        s.slice(0, 160),
        'line breaks followed by a response body or status line',
      );
    const rh = RESPONSE_HEADER.exec(s);
    if (rh) {
      const name = rh[1]!.toLowerCase();
      const shaped = name.startsWith('access-control') || (HEADER_VALUE[name]?.test(rh[2] ?? '') ?? false);
      const strong = encoded || point.kind === 'key' || isPath(point);
      const conf = strong ? 0.9 : shaped ? (lines > 6 ? 0.6 : 0.85) : lines <= 2 ? 0.6 : 0.4;
      c.add(R.header, conf, s.slice(0, 160), `line break followed by header ${rh[1]}:`);
    }
    const mh = MAIL_HEADER.exec(s);
    if (mh) {
      const firstLine = s.split(/[\r\n]/, 1)[0] ?? '';
      // The classic shape: an address (or a one-line field that feeds a mail header) and
      // then a header line; a message body that happens to say "Subject:" is not one.
      const fieldLike =
        encoded ||
        (firstLine.includes('@') && !/\s/.test(firstLine.trim())) ||
        (lines <= 3 && /(?:mail|from|to|subject|name|reply|sender)$/i.test(loc.split('.').pop() ?? ''));
      c.add(R.mail, fieldLike ? 0.85 : 0.45, s.slice(0, 160), `mail header injection (${mh[1]}:)`);
    }
    if (point.kind === 'key' || (urlish && !header) || (encoded && !header)) {
      // Any `Name:` line counts only where a line break has no business at all.
      const ah = point.kind === 'key' || isPath(point) || encoded ? ANY_HEADER.exec(s) : null;
      if (ah)
        c.add(
          R.header,
          0.8,
          s.slice(0, 160),
          `line break followed by a header line (${ah[1]}:) in ${point.kind === 'key' ? 'a parameter name' : 'a URL'}`,
        );
      else if (point.kind === 'key') c.add(R.bare, 0.75, s.slice(0, 160), 'line break in a parameter name');
      else if (isPath(point)) c.add(R.bare, 0.8, s.slice(0, 160), 'line break in the request path');
      else if (PARAM_AFTER_NL.test(s))
        c.add(R.bare, 0.65, s.slice(0, 160), 'line break followed by name=value (parameter smuggling)');
      // A bare line break in a query value is a textarea in a GET form: not reported at all.
    }
    if (header && encoded && headerName(point) !== 'cookie') {
      const ah = ANY_HEADER.exec(s);
      if (ah)
        c.add(
          R.header,
          0.85,
          s.slice(0, 160),
          `encoded line break followed by ${ah[1]}: in header ${headerName(point)}`,
        );
      else if (PARAM_AFTER_NL.test(s))
        c.add(
          R.bare,
          0.65,
          s.slice(0, 160),
          `encoded line break followed by name=value in header ${headerName(point)}`,
        );
    }
    return c.hits;
  },
};
