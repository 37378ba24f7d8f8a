import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { hitCollector, percentDecodeDeep, type Rule } from './detect-kit.js';
import { decodeHtmlEntities } from '../decode/decode-escapes.js';

/*
 * Server-side includes (Apache/IIS/nginx SSI `<!--#exec cmd=…-->`) and Edge Side Includes
 * (`<esi:include src=…/>`), which a cache or web server evaluates when the value is echoed
 * into a page it processes.
 */

const R = {
  exec: { id: 'ST-SSI-001', attackType: 'ssi', severity: 'critical' },
  directive: { id: 'ST-SSI-002', attackType: 'ssi', severity: 'high' },
  esi: { id: 'ST-SSI-003', attackType: 'ssi', severity: 'high' },
} satisfies Record<string, Rule>;

const SSI =
  /<!--\s*#\s*(exec|include|echo|config|set|printenv|fsize|flastmod|if|elif|else|endif)\b([^>]{0,300})(?:-->)?/i;
const ESI = /<esi:(include|inline|vars|debug|choose|when|try|attempt|eval|assign|function)\b[^>]{0,300}>?/i;

/** SSI / ESI injection detector. */
export const ssiDetector: Detector = {
  id: 'ssi',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const raw = point.value;
    // Cheap pre-filter: both syntaxes start with '<' (possibly encoded).
    if (raw.length < 8 || !/<|%3c|&lt;|&#/i.test(raw)) return [];
    let s = raw.length > 32768 ? raw.slice(0, 32768) : raw;
    if (s.includes('%')) s = percentDecodeDeep(s, 2).value;
    if (s.includes('&')) s = decodeHtmlEntities(s);
    const c = hitCollector(ctx);
    const m = SSI.exec(s);
    if (m) {
      const d = m[1]!.toLowerCase();
      const args = m[2] ?? '';
      const hasArg = /\b(?:cmd|cgi|file|virtual|var|expr|timefmt|errmsg|sizefmt|value)\s*=/i.test(args);
      if (d === 'exec') c.add(R.exec, 0.95, m[0], 'SSI exec directive');
      else if (d === 'printenv') c.add(R.directive, 0.85, m[0], 'SSI printenv directive');
      else c.add(R.directive, hasArg ? 0.85 : 0.5, m[0], `SSI ${d} directive`);
    }
    const e = ESI.exec(s);
    if (e) {
      const strong = /include|inline|vars|debug|eval/i.test(e[1]!);
      c.add(R.esi, strong ? 0.85 : 0.6, e[0], `ESI ${e[1]!.toLowerCase()} tag`);
    }
    return c.hits;
  },
};
