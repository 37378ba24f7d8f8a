import type { Detector } from '../core/model.js';
import { matchResponseRules } from './detect-response-view.js';

/*
 * Stack traces and framework error pages in responses: they leak code paths, versions and
 * sometimes data, and after an injection they show the payload broke something. Patterns
 * want a language-specific shape (a qualified exception class, a frame line, a traceback
 * header), not a bare word such as "error", so prose does not trigger them.
 */

interface TraceRule {
  language: string;
  ruleId: string;
  pattern: RegExp;
}

const RULES: readonly TraceRule[] = [
  {
    language: 'Java',
    ruleId: 'ST-RESP-TRACE-JAVA',
    pattern:
      /\b(?:java|javax|jakarta|org|com|net|io)\.(?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)\b|\n\s*at (?:[\w$]+\.)+[\w$<>]+\((?:[\w$]+\.(?:java|kt|scala|groovy):\d+|Native Method|Unknown Source)\)/,
  },
  {
    language: 'Python',
    ruleId: 'ST-RESP-TRACE-PYTHON',
    pattern: /Traceback \(most recent call last\):|\bFile "[^"\n]{1,200}\.py", line \d+, in [\w<>]+/,
  },
  {
    language: '.NET',
    ruleId: 'ST-RESP-TRACE-DOTNET',
    pattern:
      /\bat [\w.`<>]+\([^)\n]{0,200}\) in [^\n]{1,200}:line \d+|\bSystem\.(?:[A-Z]\w*\.)*[A-Z]\w*Exception\b|Server Error in '[^'\n]{0,100}' Application|\b(?:ViewState|HttpRequestValidation|HttpCompile|HttpParse|HttpUnhandled)Exception\b|\bHttp(?:Request|ServerUtility|SessionState|StaticObjectsCollection)Wrapper\b/,
  },
  {
    language: 'PHP',
    ruleId: 'ST-RESP-TRACE-PHP',
    pattern:
      /<b>(?:Fatal error|Parse error|Warning|Notice|Deprecated)<\/b>:[^\n]{0,300} on line <b>\d+<\/b>|\bPHP (?:Fatal error|Parse error|Warning|Notice):|\b(?:Fatal error|Parse error|Warning): [^\n]{0,300} in (?:\/|[A-Za-z]:\\)[^\n]{0,200}\.php(?: on line |:)\d+|\bStack trace:\s*#0 /,
  },
  {
    language: 'Node.js',
    ruleId: 'ST-RESP-TRACE-NODE',
    pattern:
      /\b(?:[A-Z]\w*)?Error: [^\n]{0,300}\n\s+at (?:[^\n(]{1,200} \()?(?:\/|[A-Za-z]:\\|node:|file:\/\/)[^\n)]{1,300}:\d+:\d+\)?|\n\s+at (?:[^\n(]{1,200} \()?(?:\/[^\n)]{1,300}\/node_modules\/|node:internal\/)[^\n)]{1,300}:\d+:\d+/,
  },
  {
    language: 'Ruby',
    ruleId: 'ST-RESP-TRACE-RUBY',
    pattern:
      /\b(?:ActiveRecord|ActionController|ActionView|ActiveModel|ActiveSupport)::[A-Z]\w*(?:::[A-Z]\w*)?\b|\b(?:SyntaxError|NameError|NoMethodError|ArgumentError|TypeError|ZeroDivisionError|LoadError)(?: \(|: )[^\n]{0,120}?(?:\.rb:\d+|undefined (?:local variable or )?method|wrong number of arguments|no implicit conversion)|\.rb:\d+:in `/,
  },
  {
    language: 'Go',
    ruleId: 'ST-RESP-TRACE-GO',
    pattern: /\bgoroutine \d+ \[running\]:|\bpanic: [^\n]{1,200}\n\s*\ngoroutine /,
  },
];

/** Stack traces and framework error pages (Java, Python, .NET, PHP, Node.js, Ruby, Go). */
export const responseStackTracesDetector: Detector = {
  id: 'response-stack-traces',
  inspectResponse(_exchange, ctx) {
    return matchResponseRules(ctx.response.text, RULES, {
      attackType: 'leak_stack_trace',
      severity: 'medium',
      confidence: 0.85,
      reason: (rule) => `${rule.language} stack trace or error page in the response`,
    });
  },
};
