import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { hitCollector, type Rule } from './detect-kit.js';
import { REMOTE_SCHEMA_RULE, remoteSchemaLocations } from './xxe-remote-schema.js';

/*
 * XXE and XML injection. The decode stage reports DOCTYPE declarations and each ENTITY
 * declaration as their own points (`body.xml.!doctype`, `body.xml.!entity.<name>`; `%name`
 * for parameter entities) and never expands them; this detector judges them, and also reads
 * XML that arrives inside a parameter, a JSON string or an unparsed body. An HTML or SVG
 * DOCTYPE naming the W3C's public DTD is what editors paste and is not reported.
 */

const R = {
  external: { id: 'ST-XXE-001', attackType: 'xxe', severity: 'critical' },
  parameter: { id: 'ST-XXE-002', attackType: 'xxe', severity: 'critical' },
  externalDtd: { id: 'ST-XXE-003', attackType: 'xxe', severity: 'high' },
  expansion: { id: 'ST-XXE-004', attackType: 'xxe', severity: 'high' },
  xinclude: { id: 'ST-XXE-005', attackType: 'xxe', severity: 'critical' },
  xslt: { id: 'ST-XXE-006', attackType: 'xxe', severity: 'high' },
  internal: { id: 'ST-XXE-007', attackType: 'xxe', severity: 'medium' },
} satisfies Record<string, Rule>;

const ENTITY =
  /<!ENTITY\s+(%\s*)?([^\s>]+)\s+(?:(SYSTEM|PUBLIC)\s*(?:"([^"]*)"|'([^']*)')(?:\s*(?:"([^"]*)"|'([^']*)'))?|(?:"([^"]*)"|'([^']*)'))/gi;
const DOCTYPE =
  /<!DOCTYPE\s+([^\s[>]+)(?:\s+(SYSTEM|PUBLIC)\s*(?:"([^"]*)"|'([^']*)')(?:\s*(?:"([^"]*)"|'([^']*)'))?)?/i;

/** The W3C's own DTDs (XHTML, SVG, MathML, HTML 4): pasted HTML, not an attack. */
const W3C_DTD = /^(?:https?:\/\/www\.w3\.org\/|-\/\/W3C\/\/DTD )/i;

const DANGEROUS_URI =
  /^(?:file|php|expect|jar|netdoc|gopher|ftp|data|dict|ldap|zip|phar):|\/etc\/|\\windows\\|^\/|^[a-z]:\\/i;

type Add = ReturnType<typeof hitCollector>['add'];

function judgeEntity(
  param: boolean,
  name: string,
  kind: string | undefined,
  uri: string | undefined,
  literal: string | undefined,
  add: Add,
): void {
  if (kind) {
    const target = uri ?? '';
    const danger = DANGEROUS_URI.test(target) ? ' (local/dangerous scheme)' : '';
    if (param)
      add(
        R.parameter,
        0.95,
        `<!ENTITY % ${name} ${kind} "${target}">`,
        `external parameter entity %${name} → ${target}${danger}`,
      );
    else add(R.external, 0.95, `<!ENTITY ${name} ${kind} "${target}">`, `external entity ${name} → ${target}${danger}`);
    return;
  }
  if (param)
    add(R.parameter, 0.85, `<!ENTITY % ${name} "${(literal ?? '').slice(0, 100)}">`, `parameter entity %${name}`);
  else if (literal !== undefined && /<!ENTITY|%[\w.-]+;|SYSTEM/i.test(literal))
    add(R.parameter, 0.9, literal, `entity ${name} builds declarations`);
}

/** Judges a full XML text (a DOCTYPE point or XML found inside a value). */
function judgeXml(text: string, fromDecoderDoctype: boolean, add: Add): void {
  const d = DOCTYPE.exec(text);
  if (d) {
    const kind = d[2];
    const ids = [d[3] ?? d[4], d[5] ?? d[6]].filter((x): x is string => x !== undefined);
    const url = kind === 'SYSTEM' || kind === 'system' ? ids[0] : ids[1];
    if (kind && url !== undefined && !ids.some((x) => W3C_DTD.test(x))) {
      add(R.externalDtd, 0.85, d[0], `DOCTYPE loads external DTD ${url}`);
    }
  }
  let entities = 0;
  const refs = new Map<string, number>();
  ENTITY.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ENTITY.exec(text)) !== null && entities < 1000) {
    entities++;
    const literal = m[8] ?? m[9];
    // Entities declared in a DOCTYPE point are also reported as their own !entity points.
    if (!fromDecoderDoctype) judgeEntity(m[1] !== undefined, m[2]!, m[3], m[4] ?? m[5] ?? m[6] ?? m[7], literal, add);
    if (literal) refs.set(m[2]!, (literal.match(/&[\w.-]+;/g) ?? []).length);
  }
  const fanOut = [...refs.values()].filter((n) => n >= 2).length;
  if (fanOut >= 2 || refs.size >= 10)
    add(R.expansion, 0.9, text.slice(0, 200), `entity expansion chain (${refs.size} entities)`);
  else if (entities > 0 && !fromDecoderDoctype && refs.size > 0)
    add(R.internal, 0.55, text.slice(0, 200), 'internal entity declared in a request');
}

function judgeOther(text: string, add: Add): void {
  const xi =
    /<(?:[\w-]+:)?include\b[^>]*(?:xmlns(?::[\w-]+)?\s*=\s*["']http:\/\/www\.w3\.org\/2001\/XInclude["'][^>]*)?\bhref\s*=\s*["']([^"']*)["']/i.exec(
      text,
    );
  if (xi && /xi:include|XInclude/i.test(text)) add(R.xinclude, 0.9, xi[0], `XInclude of ${xi[1]}`);
  if (/<xsl:(?:stylesheet|transform|value-of|copy-of)\b/i.test(text)) {
    const f =
      /\b(?:document|system-property|unparsed-text|php:function|xalan:|rt:exec|java:|msxsl:script)\s*[(:]?/i.exec(text);
    if (f) add(R.xslt, 0.85, f[0], `XSLT calling ${f[0].trim()}`);
  }
  if (/<!\[CDATA\[[\s\S]*\]\]>\s*<[\w:]+/.test(text) && /<script|javascript:/i.test(text))
    add(R.xslt, 0.5, text.slice(0, 120), 'CDATA breakout');
}

/** XXE / XML injection detector. */
export const xxeDetector: Detector = {
  id: 'xxe',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const v = point.value;
    const c = hitCollector(ctx);
    const loc = point.location;
    const entityAt = loc.lastIndexOf('.!entity.');
    if (entityAt >= 0) {
      const name = loc.slice(entityAt + 9);
      const param = name.startsWith('%');
      const m = /^(SYSTEM|PUBLIC)\s*(?:"([^"]*)"|'([^']*)')(?:\s*(?:"([^"]*)"|'([^']*)'))?/i.exec(v.trim());
      const lit = /^(?:"([^"]*)"|'([^']*)')/.exec(v.trim());
      const uri = m ? (m[1]!.toUpperCase() === 'PUBLIC' ? (m[4] ?? m[5] ?? m[2] ?? m[3]) : (m[2] ?? m[3])) : undefined;
      judgeEntity(param, param ? name.slice(1) : name, m?.[1], uri, lit ? (lit[1] ?? lit[2]) : undefined, c.add);
      return c.hits;
    }
    const xi = /\/(?:([\w-]+):)?include\/@href$/.exec(loc);
    if (xi && point.kind === 'value') {
      c.add(R.xinclude, xi[1] === 'xi' ? 0.9 : 0.55, `${loc}=${v.slice(0, 120)}`, `XInclude of ${v.slice(0, 120)}`);
      return c.hits;
    }
    if (loc.endsWith('.!doctype')) {
      judgeXml(v, true, c.add);
      return c.hits;
    }
    for (const f of remoteSchemaLocations(v)) c.add(REMOTE_SCHEMA_RULE, f.confidence, f.fragment, f.reason);
    // Cheap pre-filter: XML syntax needs '<!' or an XInclude / XSLT element.
    if (v.length < 10 || !/<!|<xi:|include|<xsl:/i.test(v)) return c.hits;
    const s = v.length > 65536 ? v.slice(0, 65536) : v;
    if (/<!(?:DOCTYPE|ENTITY)/i.test(s)) judgeXml(s, false, c.add);
    judgeOther(s, c.add);
    return c.hits;
  },
};
