import type { Detector, Finding, SeverityName } from '../core/model.js';
import { mask, responseFinding } from './detect-response-view.js';

/*
 * Credentials and sensitive files in responses. The fragment never carries the secret:
 * it is masked here, before the finding leaves the worker, so that neither the stream nor
 * a sink nor a log line can leak what the application leaked.
 */

interface SecretRule {
  ruleId: string;
  kind: string;
  severity: SeverityName;
  pattern: RegExp;
  /** Characters kept at each end of the match in the emitted fragment. */
  keep: [start: number, end: number];
  confidence: number;
}

const RULES: readonly SecretRule[] = [
  {
    ruleId: 'ST-RESP-SECRET-PRIVKEY',
    kind: 'private key',
    severity: 'critical',
    pattern: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/,
    keep: [31, 0],
    confidence: 0.95,
  },
  {
    ruleId: 'ST-RESP-SECRET-AWS',
    kind: 'AWS access key id',
    severity: 'critical',
    pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/,
    keep: [4, 0],
    confidence: 0.9,
  },
  {
    ruleId: 'ST-RESP-SECRET-AWS',
    kind: 'AWS secret access key',
    severity: 'critical',
    pattern: /\baws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}\b/i,
    keep: [21, 0],
    confidence: 0.9,
  },
  {
    ruleId: 'ST-RESP-SECRET-GITHUB',
    kind: 'GitHub token',
    severity: 'critical',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b/,
    keep: [4, 0],
    confidence: 0.95,
  },
  {
    ruleId: 'ST-RESP-SECRET-SLACK',
    kind: 'Slack token',
    severity: 'high',
    pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/,
    keep: [5, 0],
    confidence: 0.9,
  },
  {
    ruleId: 'ST-RESP-SECRET-STRIPE',
    kind: 'Stripe secret key',
    severity: 'critical',
    pattern: /\b[sr]k_live_[A-Za-z0-9]{16,}\b/,
    keep: [8, 0],
    confidence: 0.95,
  },
  {
    ruleId: 'ST-RESP-SECRET-GOOGLE',
    kind: 'Google API key',
    severity: 'high',
    pattern: /\bAIza[0-9A-Za-z_-]{35}\b/,
    keep: [4, 0],
    confidence: 0.85,
  },
  {
    ruleId: 'ST-RESP-SECRET-DBURL',
    kind: 'database URL with password',
    severity: 'critical',
    pattern:
      /\b(?:postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis|amqp|mssql):\/\/[^\s:/@"']{1,64}:[^\s@/"']{1,128}@[^\s"'<]{1,200}/,
    keep: [10, 0],
    confidence: 0.9,
  },
  {
    ruleId: 'ST-RESP-SECRET-ENV',
    kind: 'environment file',
    severity: 'high',
    pattern: /^(?:DB|DATABASE|MYSQL|POSTGRES|REDIS|MAIL|SMTP|APP)_(?:PASSWORD|PASS|SECRET|KEY)=\S+/m,
    keep: [12, 0],
    confidence: 0.85,
  },
];

/** Files whose content in a response means a read outside the web root (LFI / traversal). */
const FILES: ReadonlyArray<[ruleId: string, kind: string, pattern: RegExp]> = [
  ['ST-RESP-FILE-PASSWD', '/etc/passwd', /\broot:[x*!]?:0:0:[^\n]{0,80}:\/[^\n]{0,80}/],
  ['ST-RESP-FILE-SHADOW', '/etc/shadow', /\broot:\$(?:1|2[aby]?|5|6|y)\$[^\n:]{8,}:\d*:/],
  ['ST-RESP-FILE-WININI', 'win.ini', /\[fonts\]\s+\[extensions\]/i],
  [
    'ST-RESP-FILE-PHPSRC',
    'PHP source code',
    /<\?php\s+(?:\$\w+\s*=|require|include|define\(|namespace |use |echo |function )/,
  ],
];

/** Leaked credentials (cloud keys, tokens, private keys, DSNs) and server files in responses. */
export const responseSecretsDetector: Detector = {
  id: 'response-secrets',
  inspectResponse(_exchange, ctx) {
    const { text, headers } = ctx.response;
    const out: Finding[] = [];
    const scan = (value: string, location: string): void => {
      for (const rule of RULES) {
        const m = rule.pattern.exec(value);
        if (!m) continue;
        out.push(
          responseFinding(
            {
              attackType: 'leak_secret',
              ruleId: rule.ruleId,
              severity: rule.severity,
              confidence: rule.confidence,
              fragment: `${mask(m[0], rule.keep[0], rule.keep[1])} [REDACTED:${rule.kind}]`,
              reason: `${rule.kind} in the response`,
            },
            location,
          ),
        );
      }
    };
    // Set-Cookie and Authorization-like headers carry tokens by design; other headers do not.
    for (const [name, value] of headers) {
      if (name !== 'set-cookie' && name !== 'www-authenticate') scan(value, `response.header.${name}`);
    }
    if (text !== '') scan(text, 'response.body');
    for (const [ruleId, kind, pattern] of FILES) {
      const m = pattern.exec(text);
      if (!m) continue;
      out.push(
        responseFinding({
          attackType: 'leak_file_content',
          ruleId,
          severity: 'high',
          confidence: 0.9,
          // A line of passwd is not a secret; shadow hashes are: keep only the user name.
          fragment:
            ruleId === 'ST-RESP-FILE-SHADOW' ? `${m[0].split(':')[0]}:[REDACTED:password hash]` : m[0].slice(0, 120),
          reason: `${kind} content in the response`,
        }),
      );
    }
    return out;
  },
};
