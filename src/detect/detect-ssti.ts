import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { hitCollector, percentDecodeDeep, type Rule } from './detect-kit.js';
import { decodeHtmlEntities } from '../decode/decode-escapes.js';

/*
 * Server-side template injection and expression-language injection.
 *
 * The value is scanned for the delimiters of the engines attackers probe — `{{ }}`/`{% %}`
 * (Jinja2, Twig, Nunjucks, Handlebars, Go, Tornado), `${ }` (Freemarker, Velocity, Mako, EL,
 * Thymeleaf), `#{ }` (SpEL, EL, Pug, Ruby), `*{ }`/`__${ }__` (Thymeleaf), `%{ }` (OGNL),
 * `<%= %>`/`<% %>` (ERB, JSP, EJS), `<#…>` (Freemarker), `#set(…)` (Velocity), `{php}`/`{$smarty…}`
 * (Smarty), `@( )` (Razor) — and the *content* of each region is judged as an expression:
 * a bare name (`{{username}}`, `${price}`) is what templates are for and never reported;
 * arithmetic on literals (`{{7*7}}`) is the engine-detection probe; object-graph walks to
 * runtime/reflection/dunder attributes are exploitation.
 */

const R = {
  probe: { id: 'ST-SSTI-001', attackType: 'ssti', severity: 'high' },
  exploit: { id: 'ST-SSTI-002', attackType: 'ssti', severity: 'critical' },
  statement: { id: 'ST-SSTI-003', attackType: 'ssti', severity: 'high' },
  el: { id: 'ST-SSTI-004', attackType: 'expression_injection', severity: 'critical' },
} satisfies Record<string, Rule>;

/** Tokens that only an exploit puts inside a template expression. */
const DANGEROUS =
  /__(?:class|mro|base|bases|subclasses|globals|builtins|init|import|getattribute|dict|code|reduce)__|\b(?:getRuntime|ProcessBuilder|Runtime|forName|getClass|getMethod|getDeclaredMethod|classLoader|ClassLoader|newInstance|invoke|getenv|popen|subprocess|os\.system|os\.popen|system|exec|passthru|shell_exec|proc_open|eval|execute|spawn|child_process|mainModule|require|import|__import__|Execute|ObjectConstructor|JythonRuntime|freemarker\.template\.utility|registerUndefinedFilterCallback|getFilter|_self\.env|lipsum|cycler|joiner|namespace|url_for|get_flashed_messages|request\.application|config\.items|self\._TemplateReference__context|_memberAccess|OgnlContext|ognlUtil|excludedClasses|getWriter|getResponse|File|FileReader|readlines|read\(\)|ScriptEngineManager|javax\.script|defineClass|constructor\.constructor|string\.sub|T\s*\(\s*java|@java\.|@org\.|java\.lang|javax\.|Process\.Start|System\.Diagnostics|IO\.File|whoami|\/etc\/passwd)\b/;

/** Java objects and reflection reached from an expression-language region. */
const JAVA_EL =
  /\bT\s*\(\s*java|@java\.|_memberAccess|\.forName\s*\(|getRuntime|\.getClass\s*\(|pageContext|facesContext|applicationScope|sessionScope|requestScope|ProcessBuilder|ScriptEngineManager|ognl/i;

/** Template filters/modifiers that call functions by name (Twig `|filter('system')`, Smarty `|exec`). */
const CALLING_FILTER = /\|\s*(?:filter|map|reduce|sort|file_excerpt|system|exec|passthru|shell_exec)\b/;

const ARITH_PROBE = /^\s*\(?\s*[-+]?\d{1,6}(?:\.\d+)?\s*\)?\s*(?:[*/+%^-]|\*\*)\s*\(?\s*['"]?\d{1,6}['"]?\s*\)?\s*$/;

/** A bare reference: what a legitimate template editor field contains. */
const BARE_REFERENCE = /^\s*[\w$.[\]'" -]{0,80}(?:\|\s*[\w]+(?:\([^()]*\))?\s*)*$/;

interface Region {
  open: string;
  content: string;
  index: number;
  length: number;
}

/** Expression regions: opening delimiter, closing delimiter, longest content judged. */
const REGIONS: ReadonlyArray<{ open: string; close: string; max: number }> = [
  { open: '{{', close: '}}', max: 2000 },
  { open: '{%', close: '%}', max: 2000 },
  { open: '${', close: '}', max: 2000 },
  { open: '#{', close: '}', max: 2000 },
  { open: '*{', close: '}', max: 2000 },
  { open: '%{', close: '}', max: 2000 },
  { open: '<%', close: '%>', max: 2000 },
  { open: '@(', close: ')', max: 500 },
];
const SMARTY = /\{(\$smarty[\s\S]{0,200}?|php\}[\s\S]{0,500}?\{\/php)\}/gi;

/**
 * Finds delimited regions in linear time: when the first closing delimiter after an opening
 * one is too far, every opening before `close - max` is skipped at once (they share it).
 */
function scanRegions(text: string, open: string, close: string, max: number, out: Region[]): void {
  let i = 0;
  let found = 0;
  while (found < 64) {
    const a = text.indexOf(open, i);
    if (a < 0) return;
    const from = a + open.length;
    const b = text.indexOf(close, from);
    if (b < 0) return;
    if (b - from <= max && b > from) {
      let content = text.slice(from, b);
      if (open === '<%' && /^[=\-#]/.test(content)) content = content.slice(1);
      if (open === '{%' || open === '<%') content = content.replace(/-$/, '').replace(/^-/, '');
      out.push({ open, content, index: a, length: b + close.length - a });
      found++;
      i = b + close.length;
    } else {
      i = Math.max(from, b - max - open.length);
    }
  }
}

function regions(text: string): Region[] {
  const out: Region[] = [];
  for (const { open, close, max } of REGIONS) {
    if (text.includes(open)) scanRegions(text, open, close, max, out);
  }
  if (text.includes('{$') || /\{php\}/i.test(text)) {
    SMARTY.lastIndex = 0;
    let m: RegExpExecArray | null;
    let n = 0;
    while ((m = SMARTY.exec(text)) !== null && n++ < 16)
      out.push({ open: '{$', content: m[1]!, index: m.index, length: m[0].length });
  }
  return out;
}

/** Literal-only conditions (`{% if True %}`, `<% if 1 %>`): a probe, not template logic. */
const LITERAL_STATEMENT = /^\s*(?:if|elif|while)\s+(?:true|false|none|nil|null|\d+|['"][^'"]*['"])\s*$/i;
const STATEMENT_KEYWORD =
  /^\s*(?:import|from|include|extends|macro|call|set|for|if|print|debug|raw|block|filter|with|load|exec|python|php)\b/;

/** Directives with code-execution power outside `{{ }}`-style regions. */
const DIRECTIVES: Array<{ re: RegExp; conf: number; reason: string }> = [
  {
    re: /<#(?:assign|if|list|include|import|macro|function|attempt|setting)\b[^>]{0,300}>/i,
    conf: 0.75,
    reason: 'Freemarker directive',
  },
  { re: /#set\s*\(\s*\$[\w.]+\s*=/i, conf: 0.75, reason: 'Velocity #set directive' },
  { re: /#(?:foreach|macro|evaluate|parse|include|define)\s*\(/i, conf: 0.6, reason: 'Velocity directive' },
  {
    re: /\$(?:class|request|response|session|application|springMacroRequestContext|x)\.(?:inspect|type|forName|getClass|getRuntime)\b/,
    conf: 0.85,
    reason: 'Velocity tool reaching classes',
  },
  {
    re: /\{php\}|\{\/php\}|\{\$smarty\.(?:version|template_object|now)|\{self::getStreamVariable|\{Smarty_Internal_Write_File/i,
    conf: 0.85,
    reason: 'Smarty tag',
  },
  { re: /\{\{#with\s+(?:"[^"]*"|'[^']*'|\w+)\s+as\s+\|\w+\|\s*\}\}/i, conf: 0.75, reason: 'Handlebars #with gadget' },
  {
    re: /\{\{\s*(?:printf|call|define|template|block|js|html|urlquery)\b[^}]{0,200}\}\}|\{\{\s*\.\s*\}\}/,
    conf: 0.65,
    reason: 'Go template action',
  },
  { re: /__\$\{[\s\S]{1,500}?\}__(?:::|\s*\.)/, conf: 0.9, reason: 'Thymeleaf preprocessing expression' },
  { re: /<%=?\s*`[^`]{1,200}`\s*%>|<%=?\s*%x\{[^}]{1,200}\}\s*%>/, conf: 0.9, reason: 'ERB shell command' },
  {
    re: /@(?:System\.(?:Diagnostics|IO|Reflection)|Process\.Start|\{\s*System\.)/,
    conf: 0.85,
    reason: 'Razor code reaching System',
  },
];

/** Expression-language gadgets that need no template delimiters (SpEL, OGNL, EL, MVEL). */
const EL_GADGETS: Array<{ re: RegExp; reason: string }> = [
  { re: /\bT\s*\(\s*java\.[\w.]+\s*\)/, reason: 'SpEL type reference to java.*' },
  { re: /@java\.lang\.(?:Runtime|System|Class|Thread|ProcessBuilder)@/, reason: 'OGNL static call into java.lang' },
  {
    re: /#_memberAccess|#context\s*\[\s*['"]xwork|@ognl\.OgnlContext@|#ognlUtil|DEFAULT_MEMBER_ACCESS/,
    reason: 'OGNL sandbox bypass',
  },
  {
    re: /new\s+java\.(?:lang\.ProcessBuilder|io\.File|util\.Scanner|net\.URL)\s*\(/,
    reason: 'EL instantiating java classes',
  },
  {
    re: /\.getClass\s*\(\s*\)\s*\.forName\s*\(|\.getRuntime\s*\(\s*\)\s*\.exec\s*\(|\.getClassLoader\s*\(\s*\)/,
    reason: 'reflection chain to runtime',
  },
  {
    re: /\bjava\.lang\.Runtime\s*\.\s*getRuntime\s*\(|\bRuntime\s*\.\s*getRuntime\s*\(\s*\)\s*\.\s*exec/,
    reason: 'Runtime.exec call',
  },
  { re: /(?:^|[\s;(])\(#[\w]+\s*=\s*['"@(]/, reason: 'OGNL variable assignment' },
  {
    re: /\b(?:pageContext|facesContext|applicationScope|sessionScope|requestScope)\s*\.\s*\w+\s*[.(]/,
    reason: 'EL implicit object access',
  },
];

function judgeRegion(r: Region, add: ReturnType<typeof hitCollector>['add'], text: string): void {
  const content = decodeHtmlEntities(r.content);
  const frag = text.slice(Math.max(0, r.index - 10), r.index + r.length + 10);
  if (r.open === '{%' || r.open === '<%') {
    const output = r.open === '<%' && /^\s*=/.test(text.slice(r.index + 2));
    if (DANGEROUS.test(content)) {
      add(R.exploit, 0.9, frag, `template code block reaching ${DANGEROUS.exec(content)![0]}`);
      return;
    }
    if (LITERAL_STATEMENT.test(content))
      add(R.statement, 0.75, frag, 'template statement with a literal condition (engine probe)');
    else if (r.open === '<%' && !output && /\w+\s*\(\s*['"]/.test(content))
      add(R.statement, 0.7, frag, 'server-side code block calling a function');
    else if (STATEMENT_KEYWORD.test(content))
      add(R.statement, r.open === '{%' ? 0.5 : 0.45, frag, 'template statement');
  }
  if (DANGEROUS.test(content) || CALLING_FILTER.test(content)) {
    const m = DANGEROUS.exec(content) ?? CALLING_FILTER.exec(content)!;
    // `${File}` alone or `{{ system }}` as a bare name is a variable, not a walk to it.
    if (/[.([|'"@]/.test(content) || /__\w+__/.test(content)) {
      // The same gadget inside `${…}`/`#{…}`/`%{…}` is Java expression language (EL, SpEL, OGNL).
      const el = r.open !== '{{' && r.open !== '<%' && JAVA_EL.test(content);
      add(
        el ? R.el : R.exploit,
        0.9,
        frag,
        `${el ? 'expression language' : 'template expression'} reaching ${m[0].trim()}`,
      );
      return;
    }
  }
  if (ARITH_PROBE.test(content)) {
    add(R.probe, 0.85, frag, `template arithmetic probe ${r.open}${content.trim()}`);
    return;
  }
  if (BARE_REFERENCE.test(content)) return;
  if (/^\s*['"][^'"]*['"]\s*\*\s*\d+\s*$|^\s*\d+\s*\*\s*['"]\d+['"]\s*$/.test(content)) {
    add(R.probe, 0.8, frag, 'template string-multiplication probe');
  } else if (/\w\s*\(\s*['"][^'"]*['"]\s*\)/.test(content) && /[.(]/.test(content)) {
    add(R.probe, 0.45, frag, 'template expression calling a function');
  }
}

/** SSTI / expression-language injection detector. */
export const sstiDetector: Detector = {
  id: 'ssti',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const v = point.value;
    if (v.length < 4) return [];
    // Cheap pre-filter: every engine needs a brace, a percent-tag, '#', '@', '$name' or 'T(';
    // delimiter-less EL gadgets name the runtime.
    if (!/[{}%#@]|T\s*\(|\$[a-z]|getRuntime|forName|ProcessBuilder/i.test(v)) return [];
    const c = hitCollector(ctx);
    let text = v.length > 32768 ? v.slice(0, 32768) : v;
    if (/%[0-9a-f]{2}/i.test(text)) text = percentDecodeDeep(text, 2).value;
    if (text.includes('&')) text = decodeHtmlEntities(text);
    for (const r of regions(text)) {
      if (performance.now() > ctx.deadline) break;
      judgeRegion(r, c.add, text);
    }
    for (const d of DIRECTIVES) {
      const m = d.re.exec(text);
      if (!m) continue;
      const dangerous = DANGEROUS.test(m[0]) || /\?new\s*\(|Execute/.test(text);
      add(d.conf + (dangerous ? 0.15 : 0), m[0], dangerous ? `${d.reason} with code execution` : d.reason);
    }
    for (const g of EL_GADGETS) {
      const m = g.re.exec(text);
      if (m) add(0.9, m[0], g.reason, R.el);
    }
    return c.hits;

    function add(
      conf: number,
      frag: string,
      reason: string,
      rule: Rule = conf >= 0.85 ? R.exploit : R.statement,
    ): void {
      c.add(rule, Math.min(conf, 0.95), frag, reason);
    }
  },
};
