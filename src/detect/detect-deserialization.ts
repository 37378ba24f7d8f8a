import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { hitCollector, type Rule } from './detect-kit.js';

/*
 * Insecure deserialization: serialized-object prefixes of Java (`aced0005`, `rO0AB` and its
 * shifted base64 alignments), PHP (`O:8:"Classname":…` with the declared length checked),
 * .NET (BinaryFormatter `AAEAAAD/////`, Json.NET `$type`), Python pickle, Ruby Marshal/YAML
 * tags, node-serialize; gadget-chain class names (ysoserial, ysoserial.net, marshalsec) and
 * polymorphic type ids (`@type`, `$type`, `@class`) pointing at dangerous classes; gadget
 * keywords hidden in base64.
 */

const R = {
  javaStream: { id: 'ST-DESER-001', attackType: 'deserialization', severity: 'critical' },
  gadget: { id: 'ST-DESER-002', attackType: 'deserialization', severity: 'critical' },
  typeId: { id: 'ST-DESER-003', attackType: 'deserialization', severity: 'high' },
  php: { id: 'ST-DESER-004', attackType: 'deserialization', severity: 'high' },
  dotnet: { id: 'ST-DESER-005', attackType: 'deserialization', severity: 'critical' },
  pickleYaml: { id: 'ST-DESER-006', attackType: 'deserialization', severity: 'critical' },
  javaClass: { id: 'ST-DESER-007', attackType: 'deserialization', severity: 'medium' },
  base64Gadget: { id: 'ST-DESER-008', attackType: 'deserialization', severity: 'high' },
} satisfies Record<string, Rule>;

/** Java serialization magic in hex and in the three base64 alignments of `ac ed 00 05`. */
const JAVA_MAGIC =
  /(?:^|[^0-9a-f])aced0005|(?:^|[^A-Za-z0-9+/])(?:rO0AB|KztAAU|Cs7QAF)|H4sIAAAAAAAA[A-Za-z0-9+/]{0,8}?[^A-Za-z0-9+/]?|\u00ac\u00ed\u0000\u0005|\ufffd\ufffd\u0000\u0005sr/i;

/** Gadget-chain classes of ysoserial / marshalsec / ysoserial.net and friends. */
const GADGETS =
  /\b(?:invokertransformer|chainedtransformer|constanttransformer|instantiatetransformer|clonetransformer|forclosure|whileclosure|instantiatefactory|prototypeclonefactory|prototypeserializationfactory|transformingcomparator|lazymap|tiedmapentry|annotationinvocationhandler|badattributevalueexpexception|templatesimpl|jdbcrowsetimpl|unicastremoteobject|remoteobjectinvocationhandler|convertedclosure|methodclosure|wrapperconnectionpooldatasource|jndirefforwardingdatasource|filesystemxmlapplicationcontext|classpathxmlapplicationcontext|objectdataprovider|typeconfusedelegate|textformattingrunproperties|activitysurrogateselector|windowsidentity|sessionsecuritytoken|roleprincipal|xamlreader|psobject|ysoserial|beanutils\.beancomparator|org\.apache\.commons\.collections\d?\.functors|com\.sun\.org\.apache\.xalan\.internal\.xsltc|org\.apache\.xbean\.naming|com\.mchange\.v2\.c3p0|org\.springframework\.beans\.factory\.objectfactory|bsh\.interpreter|org\.mozilla\.javascript\.nativeerror|com\.sun\.rowset|gem::requirement|gem::installer|gem::specfetcher|deprecatedinstancevariableproxy)\b/i;

/** Java class names whose appearance as a request value is the shape of a type-id or gadget. */
const JAVA_DANGEROUS_CLASS =
  /^(?:java\.(?:lang\.(?:runtime|processbuilder|process|system|class|classloader|thread|reflect(?:\.\w+)?|object|string|stringbuilder|integer|number)|io\.\w+|net\.url(?:classloader)?|rmi\.\w+)|javax\.(?:script\.scriptenginemanager|naming\.\w+|management\.\w+)|org\.apache\.commons(?:\.[\w$]+)*|com\.sun\.[\w.$]+|sun\.[\w.$]+|org\.omg\.corba(?:\.[\w$]+)*|com\.opensymphony\.xwork2(?:\.[\w$]+)*|org\.codehaus\.groovy[\w.$]*|ognl\.[\w.$]+)$/i;

/** `java.<anything>.runtime` / `processbuilder` in one dotted token (CRS 944110/944120 family). */
const JAVA_PROCESS =
  /\bjava\.(?:[\w$]+\.)*(?:runtime|processbuilder)\b|\b(?:runtime|processbuilder)\.(?:[\w$]+\.)*(?:exec|start|getruntime)\b/i;

/** `body.json.obj.@type` → `@type` (without splitting every location into an array). */
function lastSegment(location: string): string {
  return location.slice(location.lastIndexOf('.') + 1);
}

const TYPE_KEYS = /^(?:@type|\$type|@class|__type|javaclass|@c|\$class|class|type|_class)$/i;

/**
 * A Java class name standing as a whole value, or right after `=`, `:` or a quote (the shape
 * of a type id, a class-loading parameter or a gadget argument) — not one mentioned in prose.
 */
function checkJavaClassTokens(s: string, point: Point, add: ReturnType<typeof hitCollector>['add']): void {
  const typeKey = TYPE_KEYS.test(lastSegment(point.location));
  const re = /(?:^|[="'>:[(,])\s*((?:java|javax|org|com|sun|ognl)\.[\w$]+(?:\.[\w$]+)*)/gi;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = re.exec(s)) !== null && n++ < 16) {
    const name = m[1]!;
    if (!JAVA_DANGEROUS_CLASS.test(name)) continue;
    const whole = s.trim() === name;
    const conf = typeKey ? 0.85 : whole ? 0.65 : 0.6;
    add(typeKey ? R.typeId : R.javaClass, conf, name, `Java class name ${name} as a value`);
    return;
  }
}

function checkPhp(v: string, add: ReturnType<typeof hitCollector>['add']): void {
  const re = /(?:^|[;{}"'\s=])([OC]):\+?(\d{1,4}):"([A-Za-z_\\][\w\\]*)":(\d{1,4}):\{/g;
  const m = re.exec(v);
  if (m) {
    const declared = Number(m[2]);
    const name = m[3]!;
    const exact = declared === Buffer.byteLength(name);
    add(
      R.php,
      exact ? 0.9 : 0.7,
      m[0],
      `PHP serialized ${m[1] === 'O' ? 'object' : 'custom object'} ${name}${exact ? '' : ' (length mismatch)'}`,
    );
    return;
  }
  if (/^a:\d{1,4}:\{(?:[isbd]:[^;]{0,64};)+/.test(v)) add(R.php, 0.5, v.slice(0, 60), 'PHP serialized array');
}

/** Keywords whose base64 forms CRS 944300 looks for; `runtime` only counts in a short token. */
const B64_KEYWORDS = [
  'clonetransformer',
  'forclosure',
  'instantiatefactory',
  'instantiatetransformer',
  'invokertransformer',
  'prototypeclonefactory',
  'prototypeserializationfactory',
  'whileclosure',
  'processbuilder',
  'getruntime',
  'runtime',
];

/**
 * The base64 text of `word` that does not depend on its neighbours, for each of the three
 * byte alignments it can start at: a keyword hidden anywhere in a base64 blob shows one of
 * these as a substring, so the blob never needs decoding.
 */
function base64Cores(word: string): string[] {
  const out: string[] = [];
  for (let o = 0; o < 3; o++) {
    const enc = Buffer.from('\u0000'.repeat(o) + word, 'latin1')
      .toString('base64')
      .replace(/=+$/, '');
    const start = o === 0 ? 0 : o === 1 ? 2 : 3;
    const total = o + word.length;
    const stable = Math.floor((total * 8) / 6);
    out.push(enc.slice(start, stable));
  }
  return out;
}

/** Protocol-0 pickle opcodes importing a callable (`cos\nsystem\n` = GLOBAL os.system). */
const PICKLE_GLOBALS = [
  'cos\nsystem\n',
  'cposix\nsystem\n',
  'csubprocess\n',
  'c__builtin__\n',
  'cbuiltins\n',
  'cnt\nsystem\n',
];

const B64_CORES: ReadonlyArray<{ core: string; word: string }> = [
  ...B64_KEYWORDS.flatMap((word) =>
    [word, word[0]!.toUpperCase() + word.slice(1)].flatMap((w) => base64Cores(w).map((core) => ({ core, word }))),
  ),
  ...PICKLE_GLOBALS.flatMap((word) => base64Cores(word).map((core) => ({ core, word }))),
];
const B64_CORE_RE = new RegExp(B64_CORES.map((c) => c.core.replace(/[+/]/g, '\\$&')).join('|'));

/** Python pickle protocol 2–5 headers in base64 (`\x80\x02`…`\x80\x05`). */
const PICKLE_B64 = /(?:^|[^A-Za-z0-9+/])(gA[JNSW][A-Za-z0-9+/]{8,4096}={0,2})/;

/**
 * Every match of B64_CORE_RE and PICKLE_B64 is a run of at least this many base64 characters
 * (the shortest core; a pickle header plus its 8 required characters is 11): a value without
 * such a run — prose, ids, cookies, most file bodies — skips both scans.
 */
const BASE64_RUN_NEEDED = Math.min(11, ...B64_CORES.map((c) => c.core.length));

/** Does `v` hold `n` consecutive characters of the base64 alphabet ([A-Za-z0-9+/])? */
export function hasBase64Run(v: string, n: number): boolean {
  let run = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 43 /* + */ || c === 47 /* / */) {
      if (++run >= n) return true;
    } else run = 0;
  }
  return false;
}

function checkBase64(v: string, add: ReturnType<typeof hitCollector>['add']): void {
  if (!hasBase64Run(v, BASE64_RUN_NEEDED)) return;
  const m = B64_CORE_RE.exec(v);
  if (m) {
    const word = B64_CORES.find((c) => c.core === m[0])!.word;
    // The whole base64 run around the match: `runtime` is a common word in configs, so it
    // only counts when the run is little more than the keyword itself.
    let a = m.index;
    let b = m.index + m[0].length;
    while (a > 0 && /[A-Za-z0-9+/_-]/.test(v[a - 1]!)) a--;
    while (b < v.length && /[A-Za-z0-9+/_=-]/.test(v[b]!)) b++;
    if (word.includes('\n'))
      add(R.pickleYaml, 0.9, v.slice(a, Math.min(b, a + 80)), 'base64 of a Python pickle importing a callable');
    else if (word !== 'runtime' || b - a <= 24)
      add(R.base64Gadget, 0.8, v.slice(a, Math.min(b, a + 80)), `base64-encoded gadget keyword '${word}'`);
  }
  const p = PICKLE_B64.exec(v);
  if (p) {
    const text = Buffer.from(p[1]!, 'base64').toString('latin1');
    if (
      /^\u0080[\u0002-\u0005][\s\S]{0,64}(?:posix|nt|os|subprocess|builtins|__builtin__)[\s\S]{0,4}(?:system|popen|check_output|eval|exec)/.test(
        text,
      )
    ) {
      add(R.pickleYaml, 0.9, p[1]!.slice(0, 80), 'base64 of a Python pickle calling a builtin');
    }
  }
}

/** Deserialization detector. */
export const deserializationDetector: Detector = {
  id: 'deserialization',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const v = point.value;
    if (v.length < 5) return [];
    const c = hitCollector(ctx);
    const s = v.length > 65536 ? v.slice(0, 65536) : v;
    const j = JAVA_MAGIC.exec(s);
    if (j) {
      const gz = j[0].startsWith('H4sI');
      if (!gz) c.add(R.javaStream, 0.9, j[0], 'Java serialized object stream');
    }
    const g = GADGETS.exec(s) ?? /_\$\$ND_FUNC\$\$_/.exec(s);
    if (g) c.add(R.gadget, 0.9, g[0], `deserialization gadget ${g[0]}`);
    const jp = JAVA_PROCESS.exec(s);
    if (jp) c.add(R.gadget, 0.75, jp[0], `Java process class ${jp[0]}`);
    const trimmed = s.trim();
    if (/\b(?:java|javax|org|com|sun|ognl)\./i.test(s)) checkJavaClassTokens(s, point, c.add);
    if (
      point.kind === 'value' &&
      TYPE_KEYS.test(lastSegment(point.location)) &&
      /^[\w$]+(?:\.[\w$]+){2,}(?:,\s*[\w.]+)*$/.test(trimmed)
    ) {
      if (
        GADGETS.test(trimmed) ||
        /^(?:system\.(?:windows|diagnostics|io|management)|java\.|javax\.|com\.sun\.|org\.apache\.)/i.test(trimmed)
      ) {
        c.add(R.typeId, 0.9, trimmed, `polymorphic type id naming ${trimmed}`);
      }
    }
    if (/[OC]:\+?\d/.test(s) || s.startsWith('a:')) checkPhp(s, c.add);
    if (s.includes('AAEAAAD/////')) c.add(R.dotnet, 0.95, 'AAEAAAD/////', '.NET BinaryFormatter stream');
    if (
      /"\$type"\s*:\s*"[^"]*(?:System\.(?:Windows\.Data|Diagnostics|Management\.Automation|Security\.Principal|IdentityModel)|Microsoft\.VisualStudio\.Text|ObjectDataProvider)/i.test(
        s,
      )
    ) {
      c.add(R.dotnet, 0.9, s.slice(0, 120), 'Json.NET $type naming a .NET gadget');
    }
    const y =
      /!!(?:python\/(?:object(?:\/apply|\/new)?|name|module):|javax\.script\.|java\.net\.url|com\.sun\.)|!ruby\/(?:object|hash|struct):|(?:^|\n)\s*c(?:os|posix|subprocess|builtins|__builtin__)\n(?:system|popen|check_output|eval|exec)\n/.exec(
        s,
      );
    if (y) c.add(R.pickleYaml, 0.9, y[0], 'YAML/pickle constructor of an arbitrary object');
    if (s.length >= 8) checkBase64(s, c.add);
    return c.hits;
  },
};
