import type { Detector, Hit } from '../core/model.js';
import { discountMarkdownCode, selectHits } from './detect-util.js';
import { tokenizeHtml, type HtmlAttribute, type HtmlTag, type HtmlToken } from './html-tokenizer.js';
import { CALL_SINKS, findSinks, jsInjection, lexJs, mayReachSink } from './js-context.js';
import { jsfuckAtom } from './xss-jsfuck-atom.js';
import { taggedTemplateCall } from './xss-tagged-call.js';
import { decodeHtmlEntities } from '../decode/decode-escapes.js';
import { foldFullWidth, percentDecode, stripBlockComments, unicodeEscapeDecode } from './normalize.js';
import type { GrammarRule as Rule, RuleCandidate as Candidate } from './detect-util.js';

/**
 * Cross-site scripting: each value is tokenized as HTML (the value may land in page text or
 * break out of an attribute) and as JavaScript (the value may land in a script, inside a
 * string it must close first). Rules fire on what a browser would execute: script elements,
 * event-handler attributes, script URLs in URL-bearing attributes, embedding elements, CSS
 * script vectors, client-side template expressions, and JS string breakouts reaching a sink.
 *
 * Rule ids: ST-XSS-001 script element · 002 event handler · 003 script URL · 004 embedding
 * element · 005 JS string breakout · 006 CSS script vector · 007 client-side template
 * injection · 008 attribute breakout · 009 bare sink call.
 */

const RULES = {
  script: { id: 'ST-XSS-001', severity: 'high', reason: 'script element injected' },
  handler: { id: 'ST-XSS-002', severity: 'high', reason: 'event-handler attribute injected' },
  url: { id: 'ST-XSS-003', severity: 'high', reason: 'script URL (javascript:, vbscript:, data:text/html)' },
  embed: {
    id: 'ST-XSS-004',
    severity: 'high',
    reason: 'embedding element (iframe, object, embed, base, meta refresh …)',
  },
  jsBreak: { id: 'ST-XSS-005', severity: 'high', reason: 'breaks out of a JavaScript string into a sink' },
  css: {
    id: 'ST-XSS-006',
    severity: 'medium',
    reason: 'CSS script vector (expression(), -moz-binding, behavior, url(javascript:))',
  },
  template: { id: 'ST-XSS-007', severity: 'high', reason: 'client-side template expression reaching code execution' },
  attrBreak: { id: 'ST-XSS-008', severity: 'high', reason: 'breaks out of an attribute value into a new attribute' },
  sink: { id: 'ST-XSS-009', severity: 'medium', reason: 'JavaScript sink call in a value' },
} as const satisfies Record<string, Rule>;

/** Attributes whose value the browser treats as a URL that can run script. */
const URL_ATTRS = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'data',
  'xlink:href',
  'background',
  'poster',
  'lowsrc',
  'dynsrc',
  'code',
  'codebase',
  'archive',
  'ping',
  'cite',
  'manifest',
  'icon',
  'values',
  'to',
  'from',
  'by',
  'content',
  'xml:base',
  'folder',
  'profile',
  'longdesc',
  'usemap',
  'srcset',
]);
const EMBED_TAGS = new Set([
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'base',
  'isindex',
  'import',
  'xml',
  'vmlframe',
  'v:vmlframe',
  'portal',
  'xss',
]);
const SCRIPT_SCHEME =
  /^(?:java|vb|live|mocha)script:|^data:\s*(?:text\/html|image\/svg\+xml|application\/(?:x-)?(?:javascript|ecmascript|xhtml)|text\/(?:javascript|xml))/;
const CSS_VECTOR = /expression\s*\(|-moz-binding\s*:|behavior\s*:|url\s*\(\s*['"]?\s*(?:java|vb)script\b|@import/i;
const TEMPLATE =
  /\{\{[\s\S]{0,300}?(?:constructor|\$eval|\$on\b|\$emit|alert\s*\(|prompt\s*\(|\$parent|\$root|toString\(\)\.constructor|\[\s*['"]constructor)[\s\S]{0,300}?\}\}/;
/** Real event handler names (so `online=yes` is not one) — or any on* name with JS in the value. */
const EVENT_NAME =
  /^on(?:load|error|click|dblclick|mouse\w+|focus\w*|blur|key\w+|submit|change|input|begin|end|repeat|toggle|animation\w+|transition\w+|pointer\w+|touch\w+|drag\w*|drop|copy|cut|paste|scroll\w*|wheel|resize|unload|beforeunload|hashchange|message|pageshow|pagehide|popstate|show|select\w*|play\w*|pause|ended|canplay\w*|loadstart|loadeddata|loadedmetadata|progress|seek\w*|volumechange|waiting|abort|afterprint|beforeprint|beforecopy|beforecut|beforepaste|contextmenu|invalid|reset|search|storage|online|offline|readystatechange|start|finish|bounce|activate|beforeactivate|deactivate|filterchange|propertychange|auxclick|securitypolicyviolation|webkit\w+|fullscreenchange|formdata|beforeinput|beforetoggle|cuechange|durationchange|emptied|ratechange|stalled|suspend|timeupdate|zoom|help|move\w*|lose\w*|layoutcomplete|rowenter|rowexit|datasetchanged|cellchange)$/;

/** Normalises a URL attribute value the way a browser reads its scheme. */
function schemeOf(raw: string): string {
  // Entities decoded, then every control char and whitespace dropped (`jav&#x09;ascript:`).
  return decodeHtmlEntities(raw.slice(0, 512))
    .replace(/[\u0000-\u0020\u007f-\u00a0\u200b\u2028\u2029\ufeff]/g, '')
    .replace(/\\/g, '')
    .toLowerCase()
    .slice(0, 64);
}

/** Does text look like JavaScript (a call, a sink, an assignment)? */
function jsLike(code: string, deadline: number): number {
  const toks = lexJs(code, deadline, 512);
  const sinks = findSinks(toks);
  if (sinks.length > 0) return Math.max(...sinks.map((s) => s.confidence));
  if (toks.some((t, k) => t.type === 'id' && toks[k + 1]?.text === '(')) return 0.6;
  if (toks.some((t) => t.type === 'punc' && (t.text === '=' || t.text === ';' || t.text === '`'))) return 0.5;
  return toks.length > 0 ? 0.3 : 0;
}

function inspectTags(tokens: HtmlToken[], value: string, deadline: number, depth: number, out: Candidate[]): void {
  for (const tok of tokens) {
    if (tok.type === 'comment' && /^<\?import\b/i.test(tok.text)) {
      // `<?import implementation="…">`: IE HTML component import.
      out.push({ rule: RULES.embed, confidence: 0.75, from: tok.pos, to: tok.end });
    }
    if (tok.type !== 'start' && tok.type !== 'end') continue;
    const name = tok.name;
    const baseName = name.includes(':') ? name.slice(name.lastIndexOf(':') + 1) : name;
    if (tok.type === 'end') {
      if (baseName === 'script') out.push({ rule: RULES.script, confidence: 0.75, from: tok.pos, to: tok.end });
      continue;
    }
    if (baseName === 'script') {
      out.push({ rule: RULES.script, confidence: 0.95, from: tok.pos, to: tok.end });
    } else if (/^script[^a-z0-9]/.test(baseName)) {
      // `<script+>`: what a form decoder turns into `<script >`.
      out.push({ rule: RULES.script, confidence: 0.8, from: tok.pos, to: tok.end });
    }
    if (EMBED_TAGS.has(name) || EMBED_TAGS.has(baseName)) {
      const hasSource = tok.attrs.some((a) => a.hasValue && (URL_ATTRS.has(a.name) || a.name === 'srcdoc'));
      if (baseName !== 'xss' || tok.attrs.length > 0) {
        out.push({
          rule: RULES.embed,
          confidence: hasSource ? 0.85 : baseName === 'xss' ? 0.6 : 0.7,
          from: tok.pos,
          to: tok.end,
        });
      }
    }
    if (baseName === 'meta') {
      const equiv = tok.attrs.find((a) => a.name === 'http-equiv')?.value.toLowerCase() ?? '';
      if (equiv === 'refresh' || equiv === 'set-cookie')
        out.push({ rule: RULES.embed, confidence: 0.85, from: tok.pos, to: tok.end });
    }
    // Document-level elements have no place in a parameter: `<meta charset>`, `<link href>`, `<noscript>`.
    if (
      baseName === 'meta' ||
      baseName.startsWith('noscript') ||
      (baseName === 'link' && tok.attrs.some((a) => a.name === 'href'))
    ) {
      out.push({ rule: RULES.embed, confidence: 0.65, from: tok.pos, to: tok.end });
    }
    if (
      baseName === 'link' &&
      tok.attrs.some((a) => a.name === 'rel' && /import|stylesheet/i.test(a.value)) &&
      tok.attrs.some((a) => a.name === 'href')
    ) {
      out.push({ rule: RULES.embed, confidence: 0.7, from: tok.pos, to: tok.end });
    }
    if (baseName === 'style') {
      // CSS escapes (`@im\port`) are dropped by the CSS tokenizer.
      const rest = value.slice(tok.end, tok.end + 2000).replace(/\\/g, '');
      if (CSS_VECTOR.test(rest))
        out.push({ rule: RULES.css, confidence: 0.85, from: tok.pos, to: Math.min(value.length, tok.end + 80) });
      // A style element in a parameter or cookie is markup injection even without a known vector.
      else out.push({ rule: RULES.css, confidence: 0.65, from: tok.pos, to: tok.end });
    }
    for (const attr of tok.attrs) inspectAttribute(tok, attr, deadline, depth, out);
  }
}

function inspectAttribute(tok: HtmlTag, attr: HtmlAttribute, deadline: number, depth: number, out: Candidate[]): void {
  const span = { from: attr.pos, to: Math.min(tok.end, attr.pos + attr.name.length + attr.value.length + 3) };
  const name = attr.name.replace(/^[^a-z]+/, '');
  if (name.startsWith('on') && name.length > 2) {
    const js = attr.hasValue ? jsLike(decodeHtmlEntities(attr.value), deadline) : 0;
    const known = EVENT_NAME.test(name);
    const conf = attr.hasValue ? (known ? 0.9 : 0.8) + (js >= 0.6 ? 0.05 : 0) : tok.closed ? 0.55 : 0.6;
    out.push({ rule: RULES.handler, confidence: conf, ...span });
    return;
  }
  if (!attr.hasValue) return;
  const scheme = schemeOf(attr.value);
  if (SCRIPT_SCHEME.test(scheme)) {
    out.push({ rule: RULES.url, confidence: URL_ATTRS.has(name) || name === 'srcdoc' ? 0.95 : 0.8, ...span });
  }
  if (name === 'srcdoc' && depth === 0) {
    const inner: Candidate[] = [];
    const decoded = decodeHtmlEntities(attr.value);
    inspectTags(tokenizeHtml(decoded, deadline, 256), decoded, deadline, 1, inner);
    out.push({ rule: RULES.embed, confidence: inner.length > 0 ? 0.95 : 0.6, ...span });
  }
  if (name === 'style' && CSS_VECTOR.test(decodeHtmlEntities(attr.value)))
    out.push({ rule: RULES.css, confidence: 0.85, ...span });
}

/** All rule candidates for one (normalised) variant of a value. */
function evaluate(value: string, deadline: number): Candidate[] {
  const out: Candidate[] = [];
  if (value.includes('<')) inspectTags(tokenizeHtml(value, deadline), value, deadline, 0, out);

  // Attribute breakout without a new tag: `" autofocus onfocus=alert(1) x="`.
  const attrBreak =
    /["'`][\s/]*(?:[a-z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*))?[\s/]+)*(on[a-z]{3,})\s*=\s*(\S[^\n]{0,200})/i.exec(
      value,
    );
  if (attrBreak) {
    const handler = attrBreak[1]!.toLowerCase();
    const js = jsLike(attrBreak[2]!.replace(/^["']/, ''), deadline);
    if (EVENT_NAME.test(handler) ? js >= 0.3 : js >= 0.6) {
      out.push({
        rule: RULES.attrBreak,
        confidence: js >= 0.6 ? 0.9 : 0.7,
        from: attrBreak.index,
        to: attrBreak.index + attrBreak[0].length,
      });
    }
  }
  // `"onzoom=` / `'formaction=`: a quote closing the attribute, then a new dangerous attribute.
  const probe = /^\s*<?["'\s][\s/]*(on[a-z]{3,}|formaction|srcdoc|xlink:href)\s*=\s*$/i.exec(value);
  if (probe && (EVENT_NAME.test(probe[1]!.toLowerCase()) || !probe[1]!.toLowerCase().startsWith('on'))) {
    out.push({ rule: RULES.attrBreak, confidence: 0.65, from: 0, to: value.length });
  } else if (/^\s+on[a-z]{4,}\s*=\s*$/i.test(value)) {
    // `  onabcdefgh= `: a new handler attribute, whatever its name (browsers add events often).
    out.push({ rule: RULES.attrBreak, confidence: 0.6, from: 0, to: value.length });
  }
  // A sink called with nothing, as the whole value: `atob()`, `eval()`.
  if (/^\s*(?:atob|btoa|eval|unescape|setTimeout|setInterval|Function|execScript)\s*\(\s*\)\s*;?\s*$/.test(value)) {
    out.push({ rule: RULES.sink, confidence: 0.6, from: 0, to: value.length });
  }
  // JSFuck: JavaScript written with six characters.
  // (A form decoder turns its `+` into spaces, so spaces are allowed.)
  const fuck = /[[\]()!+ ]{12,}/.exec(value);
  if (fuck && /\[\s*\]/.test(fuck[0]) && /!\s*[+ ]?\s*\[\s*\]|[+ ]\s*\[\s*\]/.test(fuck[0]) && /!/.test(fuck[0])) {
    out.push({
      rule: RULES.jsBreak,
      confidence: fuck[0].length >= 48 ? 0.9 : 0.7,
      from: fuck.index,
      to: fuck.index + fuck[0].length,
    });
  }
  // Tagged templates calling a sink: [].sort.call`${alert}1337`.
  const tagged = /\.\s*(?:call|apply|bind)\s*`[^`]*\$\{\s*(\w+)\s*\}/.exec(stripBlockComments(value));
  if (tagged) {
    out.push({
      rule: RULES.jsBreak,
      confidence: CALL_SINKS.has(tagged[1]!) ? 0.9 : 0.7,
      from: tagged.index,
      to: tagged.index + tagged[0].length,
    });
  }
  out.push(...taggedTemplateCall(value));
  out.push(...jsfuckAtom(value));
  // `document /*x*/ . cookie`, `(document)["cookie"]`: a source reached through obfuscation.
  const source =
    /\(?\s*document\s*(?:\/\*[^*]*\*\/\s*)*\)?\s*(?:\[\s*["'`](?:cookie|domain|location)|(?:\/\*[^*]*\*\/\s*)+\.\s*(?:\/\*[^*]*\*\/\s*)*(?:cookie|domain)|\.\s{2,}(?:cookie|domain)|\s+\.\s*(?:cookie|domain))/.exec(
      value,
    );
  if (source) out.push({ rule: RULES.sink, confidence: 0.75, from: source.index, to: source.index + source[0].length });
  // Tag names spelled out with spaces (`<f o r m`, `< x: script`): filter-evasion probes that
  // tolerant parsers (and NoScript's checker) read as the tag.
  const spaced = /<\s*((?:[a-z:]\s+){2,}[a-z]|[a-z]+\s*:\s+[a-z]+)/i.exec(value);
  if (spaced) {
    const name = spaced[1]!.replace(/\s+/g, '').toLowerCase();
    const base = name.slice(name.lastIndexOf(':') + 1);
    if (
      /^(?:script|form|iframe|frame|dialog|object|embed|svg|img|image|style|link|meta|base|applet|math|details|video|audio|body|input|button|textarea|select|marquee|isindex|vmlframe)$/.test(
        base,
      )
    ) {
      out.push({ rule: RULES.embed, confidence: 0.65, from: spaced.index, to: spaced.index + spaced[0].length });
    }
  }
  // IE's VML frame (`<v:vmlframe src=…>`, `<:vmlframe`): loads a remote document.
  const vml = /<\s*[a-z]*:\s*vmlframe\b/i.exec(value);
  if (vml) out.push({ rule: RULES.embed, confidence: 0.8, from: vml.index, to: vml.index + vml[0].length });
  // DOM manipulation written as code: `document.body.appendChild(document.createElement("h1"))`,
  // `document.querySelector("p").textContent="XSS"`; and a DOM source/sink as the whole value.
  const dom =
    /\bdocument\s*\.\s*(?:querySelector(?:All)?|getElementBy\w+|getElementsBy\w+|body|head|createElement)\b[^\n]{0,200}?(?:\.\s*(?:textContent|innerHTML|outerHTML|innerText|src|href)\s*=|\.\s*(?:appendChild|insertBefore|append|prepend|replaceWith)\s*\()/.exec(
      value,
    );
  if (dom) out.push({ rule: RULES.sink, confidence: 0.7, from: dom.index, to: dom.index + dom[0].length });
  if (
    /^\s*(?:document\s*\.\s*(?:cookie|domain|location)|window\s*\.\s*location|top\s*\.\s*location)\s*(?:=|$)/.test(
      value,
    )
  ) {
    out.push({ rule: RULES.sink, confidence: 0.6, from: 0, to: Math.min(value.length, 40) });
  }
  // A script URL as the whole value (it may be reflected into href/src).
  const trimmed = value.replace(/^["'\s>]+/, '');
  const scheme = schemeOf(trimmed);
  if (SCRIPT_SCHEME.test(scheme)) {
    const colon = value.indexOf(':');
    const body = decodeHtmlEntities(value.slice(colon + 1));
    // A scheme spelled with entities or control characters is obfuscated on purpose.
    const obfuscated = !/^(?:java|vb|live|mocha)script:|^data:/i.test(trimmed);
    const js = obfuscated ? 0.8 : scheme.startsWith('data:') ? 0.6 : jsLike(body, deadline);
    if (js >= 0.5 || /^(?:java|vb)script:\s*$/.test(scheme)) {
      out.push({ rule: RULES.url, confidence: js >= 0.7 ? 0.9 : 0.7, from: 0, to: Math.min(value.length, 120) });
    }
  } else if (/(?:java|vb)script\s*:/i.test(value) && /[("'<>=]/.test(value)) {
    // Embedded further in: `x=x:url(javascript`, `<a href=javascript:…` outside a parsed tag.
    const at = value.search(/(?:java|vb)script\s*:/i);
    const js = jsLike(value.slice(value.indexOf(':', at) + 1), deadline);
    if (js >= 0.6) out.push({ rule: RULES.url, confidence: 0.75, from: at, to: Math.min(value.length, at + 120) });
  }
  if (CSS_VECTOR.test(value) && /[:(]/.test(value)) {
    const at = value.search(CSS_VECTOR);
    out.push({
      rule: RULES.css,
      confidence: /expression\s*\(|-moz-binding|url\s*\(\s*['"]?\s*(?:java|vb)script/i.test(value) ? 0.75 : 0.5,
      from: at,
      to: Math.min(value.length, at + 80),
    });
  }
  const tpl = TEMPLATE.exec(value);
  if (tpl) out.push({ rule: RULES.template, confidence: 0.85, from: tpl.index, to: tpl.index + tpl[0].length });

  for (const f of jsInjection(value, deadline))
    out.push({ rule: RULES.jsBreak, confidence: f.confidence, from: f.from, to: f.to });
  if (/[(`=[]/.test(value) && mayReachSink(value)) {
    const toks = lexJs(value, deadline, 1024);
    for (const s of findSinks(toks)) {
      // Bare `alert(1)`: a proof-of-concept payload when the argument is a literal or a source.
      const argTok = toks.find((t) => t.pos > s.from && t.pos < s.to + 40 && t.text !== '(' && t.text !== '?.(');
      const literalArg =
        !!argTok &&
        (argTok.type === 'num' ||
          argTok.type === 'str' ||
          argTok.type === 'tpl' ||
          /^(?:document|window|top|this|self)$/.test(argTok.text));
      const emptyCall = !!argTok && argTok.text === ')' && /^(?:alert|prompt|confirm)\(\)$/.test(s.what);
      // `setInterval(code, 1)`: a timer with a delay is JavaScript, not prose.
      const timer =
        /^set(?:Timeout|Interval)\(\)$/.test(s.what) &&
        /^\s*\(\s*[\w'"`][^,)]{0,40},\s*\d+\s*\)/.test(value.slice(s.from + s.what.length - 2));
      const conf = timer
        ? 0.65
        : s.what.endsWith('[…]') || s.what === 'new Function' || s.what === '[].constructor'
          ? 0.85
          : /^(?:location|cookie|innerHTML|outerHTML)=$/.test(s.what) &&
              /^\s*(?:['"`]|(?:document|window|top|self|atob|String)\b)/.test(value.slice(s.to, s.to + 40))
            ? 0.7
            : s.confidence >= 0.9
              ? literalArg || emptyCall
                ? 0.7
                : 0.5
              : s.confidence * 0.6;
      out.push({ rule: RULES.sink, confidence: conf, from: s.from, to: s.to });
    }
  }
  // Markdown code is rendered as text; still reported at high sensitivity.
  return discountMarkdownCode(value, out);
}

/** The variants of a value a browser or back end might see: as sent, and each encoding undone once. */
function variants(value: string): Array<[string, number]> {
  const out: Array<[string, number]> = [[value, 0]];
  const seen = new Set([value]);
  const add = (v: string, penalty: number): void => {
    if (!seen.has(v)) {
      seen.add(v);
      out.push([v, penalty]);
    }
  };
  add(percentDecode(value), 0);
  add(foldFullWidth(value), 0.05);
  add(unicodeEscapeDecode(value), 0.05);
  // `\';alert(1)//`: aimed at apps that escape quotes with a backslash (which then escapes ours).
  if (/\\['"]/.test(value)) add(value.replace(/\\(['"])/g, '$1'), 0.05);
  // Entity-encoded markup is inert in HTML text; only a second decoding (by the app) revives it.
  if (/&(?:lt|gt|#0*60|#x0*3c|quot);?/i.test(value)) add(decodeHtmlEntities(value), 0.15);
  // UTF-7 (`+ADw-script+AD4-`) and half-width high-bit forms (`\u00bcscript\u00be`) that
  // legacy decoders fold to `<` and `>`.
  if (/\+AD[w4]-/.test(value))
    add(
      value
        .replace(/\+ADw-/g, '<')
        .replace(/\+AD4-/g, '>')
        .replace(/\+ACI-/g, '"')
        .replace(/\+ACc-/g, "'"),
      0.1,
    );
  if (/[\u00bc\u00be]/.test(value)) {
    // Mojibake first (`Â¼` is UTF-8 `¼` read as Latin-1), then the high bit dropped.
    const folded = value.replace(/[\u00c2\u00c3\u00d0](?=[\u0080-\u00bf])/g, '');
    add(
      folded.replace(/[\u00a0-\u00ff]/g, (c) => String.fromCharCode(c.charCodeAt(0) & 0x7f)),
      0.1,
    );
  }
  return out;
}

/**
 * Without these (markup, quotes, calls, templates, schemes, the escapes `variants` undoes), the
 * value is its only variant and `evaluate` can fire only through a sink name (assignments like
 * `location=…`, `document.…` sources) or a whitespace-led handler probe (` onfocus=`): a value
 * with neither, like a cookie or an Accept-Language header, is skipped.
 */
const MARKUP_OR_ESCAPE = /[<>:("'`{&\\%[*\uff01-\uff5e\u00bc\u00be]|\+AD/;

export const xssDetector: Detector = {
  id: 'xss',
  inspectPoint(point, ctx) {
    const value = point.value;
    if (value.length < 4 || !/[<>:("'`={&\\%\uff1c\u00bc[*]|\+AD|^\s*(?:window|document|top)\s*\./.test(value))
      return [];
    if (!MARKUP_OR_ESCAPE.test(value) && !/^\s/.test(value) && !mayReachSink(value)) return [];
    const hits: Hit[] = [];
    for (const [variant, penalty] of variants(value)) {
      for (const c of evaluate(variant, ctx.deadline)) {
        hits.push({
          attackType: 'xss',
          ruleId: c.rule.id,
          severity: c.rule.severity,
          confidence: Math.round(Math.max(0, Math.min(1, c.confidence - penalty)) * 100) / 100,
          fragment: variant.slice(c.from, Math.max(c.to, c.from + 1)),
          reason: penalty > 0 ? `${c.rule.reason} (after decoding)` : c.rule.reason,
        });
      }
    }
    return selectHits(hits, ctx.sensitivity, point.location);
  },
};
