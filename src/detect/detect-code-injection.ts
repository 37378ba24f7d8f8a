import type { Detector, Hit } from '../core/model.js';
import { discountMarkdownCode, selectHits } from './detect-util.js';
import { percentDecode, stripBlockComments } from './normalize.js';
import type { GrammarRule as Rule, RuleCandidate as Candidate } from './detect-util.js';

/**
 * Code injection into server-side interpreters: PHP, Python, Node.js, Ruby, Perl and Java
 * expression syntax reaching code execution, OS commands, files or the process. Every rule
 * needs *call syntax* (a name glued to `(`, an interpolation construct, an open tag with code),
 * not just a function name, so prose ("the system (as a whole)", "include the receipt") stays
 * quiet. Template engines (SSTI) and Java expression languages (SpEL/OGNL) have their own
 * detectors (issue 5).
 *
 * Rule ids: ST-CODE-001 PHP open tag with code · 002 PHP dangerous function call · 003 PHP
 * superglobal / variable-variable access · 004 Python code execution · 005 Node.js code
 * execution · 006 Ruby / Perl code execution · 007 Java reflection / process execution ·
 * 008 JavaScript infinite-loop DoS.
 */

const RULES = {
  phpTag: { id: 'ST-CODE-001', severity: 'critical', reason: 'PHP open tag followed by code' },
  phpCall: { id: 'ST-CODE-002', severity: 'critical', reason: 'PHP code-execution or file function call' },
  phpVar: { id: 'ST-CODE-003', severity: 'high', reason: 'PHP superglobal or variable-variable access' },
  python: { id: 'ST-CODE-004', severity: 'critical', reason: 'Python code execution (os/subprocess/eval/__import__)' },
  node: {
    id: 'ST-CODE-005',
    severity: 'critical',
    reason: 'Node.js code execution (child_process, process, Function)',
  },
  rubyPerl: { id: 'ST-CODE-006', severity: 'critical', reason: 'Ruby or Perl code execution' },
  java: { id: 'ST-CODE-007', severity: 'critical', reason: 'Java reflection or process execution' },
  loop: { id: 'ST-CODE-008', severity: 'medium', reason: 'JavaScript infinite loop (event-loop DoS)' },
} as const satisfies Record<string, Rule>;

/** PHP functions that run code or commands, or read/write files; a call is strong evidence. */
const PHP_STRONG =
  'system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec|eval|assert|create_function|call_user_func(?:_array)?|' +
  'preg_replace|base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|convert_uudecode|file_put_contents|' +
  'file_get_contents|fopen|fwrite|fputs|readfile|highlight_file|show_source|phpinfo|move_uploaded_file|unserialize|' +
  'include|include_once|require|require_once|ini_set|ini_get|putenv|getenv|dl|posix_\\w+|get_defined_\\w+|' +
  'array_map|array_filter|usort|register_shutdown_function|mb_ereg_replace|escapeshellcmd|symlink|chmod|unlink|' +
  'gethostbyname|fsockopen|curl_exec|ldap_\\w+|sodium_\\w+|var_dump|print_r|var_export|get_current_user|getcwd|scandir|glob|file_exists|opendir|parse_str|extract';
/** English words among them: these need a glued `(` and code-shaped arguments. */
const PHP_ENGLISH = new Set([
  'system',
  'exec',
  'eval',
  'assert',
  'include',
  'require',
  'extract',
  'glob',
  'chmod',
  'dl',
]);
const PHP_CALL = new RegExp(`(?<![\\w$>.])@?(${PHP_STRONG})(\\s*)\\(`, 'gi');

const PHP_TAG = /<\?(?:php\b|=|\s|[a-z]+\s*[:(;])/i;
/** `$_GET[…]`, and PHP variable-variables `${@…}`, `${'…'}`, `$ {$a}` (not `${name}` template placeholders). */
const PHP_SUPERGLOBAL =
  /\$(?:_(?:GET|POST|REQUEST|COOKIE|SERVER|FILES|ENV|SESSION)|GLOBALS)\s*\[|\$\s*\{\s*[@'"$]|\$\s+\{/;

const PYTHON =
  /__import__\s*\(|\bos\s*\.\s*(?:system|popen|exec[lv]p?e?|spawn\w*)\s*\(|\bsubprocess\s*\.\s*(?:call|run|Popen|check_output|check_call|getoutput|getstatusoutput)\s*\(|\beval\s*\(\s*compile\s*\(|\bexec\s*\(\s*(?:compile|['"]|base64|__import__)|\bpickle\s*\.\s*loads?\s*\(|__builtins__|__class__\s*\.\s*__(?:mro|bases|base)__|__subclasses__\s*\(|__globals__|importlib\s*\.\s*import_module\s*\(|\bpty\s*\.\s*spawn\s*\(/;
const NODE =
  /\brequire\s*\(\s*['"`](?:child_process|fs|net|vm|os|process)['"`]\s*\)|\bchild_process\b|\b(?:exec|execSync|spawn|spawnSync|execFile|execFileSync|fork)\s*\(\s*['"`][^'"`]*['"`]|\bprocess\s*\.\s*(?:mainModule|binding|dlopen|kill|exit|env\b)|\bprocess\s*\[\s*['"`]?\w|\bglobal\s*\.\s*process\b|\bthis\s*\.\s*constructor\s*\.\s*constructor\s*\(|\bconstructor\s*\.\s*constructor\s*\(\s*['"`]return\s+process|\bnew\s+Function\s*\([^)]*\)\s*\(|\bFunction\s*\(\s*['"`][^'"`]*['"`]\s*\)\s*\(|\bfs\s*\.\s*(?:readFileSync|writeFileSync|readdirSync|unlinkSync)\s*\(|\bvm\s*\.\s*runIn\w+\s*\(/;
const RUBY_PERL =
  /\bProcess\s*\.\s*spawn\s*\(|\bKernel\s*\.\s*(?:exec|system|spawn|open)\b|\bIO\s*\.\s*popen\s*\(|%x[({[]|\binstance_eval\b|\.send\s*\(\s*:(?:system|exec|eval)|\bsyscall\s*\(|@\{\[[^\]]*\]\}|\bqx\s*[{(/|]/;
const JAVA =
  /\bRuntime\s*\.\s*getRuntime\s*\(\s*\)\s*\.\s*exec\s*\(|\bnew\s+(?:java\.lang\.)?ProcessBuilder\s*\(|\bjava\.lang\.(?:Runtime|ProcessBuilder|reflect|Class)\b|\bClass\s*\.\s*forName\s*\(|\bgetDeclaredMethod\s*\(|\.getMethod\s*\([^)]*\)\s*\.\s*invoke\s*\(|\bjavax\.script\.ScriptEngineManager\b|\bgetEngineByName\s*\(/;
/** `while(!0);`, `while(true){}`: a constant-true loop condition. */
const LOOP =
  /\b(?:while\s*\(\s*\(?\s*(?:true|1|!\s*-?0|!\s*``|!\s*false|!\s*null|!!\s*["']{2}|[+-]?\s*(?:1|Infinity)|String|!\s*undefined)\s*\)?\s*\)\s*(?:;|\{\s*\}|$)|for\s*\(\s*;\s*;\s*\)\s*(?:;|\{\s*\}))/;

/** Does the text after `(` look like code arguments (quotes, variables, calls, numbers)? */
function codeArgs(after: string): boolean {
  return /^\s*(?:['"`$@]|\d|\)|[A-Za-z_][\w]*\s*\(|\[|chr\(|\$_)/.test(after);
}

function evaluate(value: string): Candidate[] {
  const out: Candidate[] = [];
  const add = (rule: Rule, confidence: number, m: RegExpExecArray | null): void => {
    if (m) out.push({ rule, confidence, from: m.index, to: m.index + m[0].length });
  };

  const tag = PHP_TAG.exec(value);
  // `<?xml version="1.0"?>` is an XML declaration, not PHP; `<?xml :echo 1;` is a short tag.
  if (tag && !/^<\?xml\s+version\s*=/i.test(value.slice(tag.index, tag.index + 40))) {
    const code = value.slice(tag.index, tag.index + 200);
    const strong = /\$\w|\w\s*\(|\becho\b|\bprint\b|;/.test(code.slice(2));
    add(RULES.phpTag, strong ? 0.9 : 0.65, tag);
  }
  PHP_CALL.lastIndex = 0;
  for (let m = PHP_CALL.exec(value); m; m = PHP_CALL.exec(value)) {
    const name = m[1]!.toLowerCase();
    const after = value.slice(m.index + m[0].length, m.index + m[0].length + 80);
    const spaced = m[2]!.length > 0;
    const args = codeArgs(after);
    let conf: number;
    if (PHP_ENGLISH.has(name)) conf = !spaced && args ? (/['"$]/.test(after.trimStart()[0] ?? '') ? 0.8 : 0.6) : 0;
    else conf = args ? 0.8 : spaced ? 0.5 : 0.65;
    // Nested decoding/exec calls and superglobal arguments are the classic web-shell shape.
    if (conf > 0 && /^\s*(?:\$_|base64_decode|gzinflate|str_rot13|gzuncompress|chr\()/i.test(after)) conf = 0.95;
    if (conf > 0)
      out.push({
        rule: RULES.phpCall,
        confidence: conf,
        from: m.index,
        to: Math.min(value.length, m.index + m[0].length + 40),
      });
  }
  const sg = PHP_SUPERGLOBAL.exec(value);
  if (sg) add(RULES.phpVar, sg[0].startsWith('$_') || sg[0].startsWith('$G') ? 0.7 : 0.6, sg);
  if (
    /"\w+"\s*\(|'\w+'\s*\(/.test(value) &&
    /\b(?:return|echo|print)\s*["']\s*(?:system|exec|passthru|shell_exec|assert|eval)["']\s*\(/i.test(value)
  ) {
    // `return"system"(…)`: a string called as a function.
    add(RULES.phpCall, 0.85, /["'](?:system|exec|passthru|shell_exec|assert|eval)["']\s*\(/i.exec(value));
  }
  add(RULES.python, 0.85, PYTHON.exec(value));
  const node = NODE.exec(value);
  if (node) add(RULES.node, /process\s*\.\s*env\b|process\s*\[/.test(node[0]) ? 0.6 : 0.85, node);
  const rp = RUBY_PERL.exec(value);
  if (rp) {
    // Perl's `@{[ … ]}` interpolation runs code; with system/qx/exec it runs commands.
    const perlInterp = rp[0].startsWith('@{[');
    add(
      RULES.rubyPerl,
      perlInterp ? (/system|qx|exec|`|require|do\s*\{|&\w|CORE::|open/.test(rp[0]) ? 0.9 : 0.7) : 0.85,
      rp,
    );
  }
  add(RULES.java, 0.85, JAVA.exec(value));
  add(RULES.loop, 0.7, LOOP.exec(value));
  // Time-based JavaScript injection: a busy-wait on the clock (`do{b=new Date()}while(b-a<20000)`).
  add(RULES.loop, 0.75, /new\s+Date\s*\(\s*\)[^]{0,120}?while\s*\(\s*\w+\s*-\s*\w+\s*<\s*\d{3,}\s*\)/.exec(value));
  return out;
}

export const codeInjectionDetector: Detector = {
  id: 'code_injection',
  inspectPoint(point, ctx) {
    const raw = point.value;
    if (raw.length < 4 || !/[(<@$[_`%]/.test(raw)) return [];
    const hits: Hit[] = [];
    const seen = new Set<string>();
    for (const value of [raw, percentDecode(raw), stripBlockComments(raw)]) {
      if (seen.has(value)) continue;
      seen.add(value);
      for (const c of discountMarkdownCode(value, evaluate(value))) {
        hits.push({
          attackType: 'code_injection',
          ruleId: c.rule.id,
          severity: c.rule.severity,
          confidence: Math.round(Math.max(0, Math.min(1, c.confidence)) * 100) / 100,
          fragment: value.slice(c.from, Math.max(c.to, c.from + 1)),
          reason: c.rule.reason,
        });
      }
    }
    return selectHits(hits, ctx.sensitivity, point.location);
  },
};
