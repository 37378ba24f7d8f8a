import type { GrammarRule, RuleCandidate } from './detect-util.js';

/**
 * SQLite command-line shell dot-commands that run an OS command (CRS 932210). The `sqlite3`
 * CLI treats a line starting with `.` as a meta-command, and `.shell CMD` / `.system CMD` pass
 * the rest of the line to system(3). It matches a meta-command by any prefix of its name, so
 * `.sh`, `.she`, `.sy` … run the command too, and it parses the command name like an argument,
 * so a quoted name (`."shell"`) still matches. Applications that feed user text into a `sqlite3`
 * script or command line are exposed when a value ends the SQL statement (`;` or a line break)
 * and starts such a line: `1;.sh whoami`, `';\n.system id`. Quotes around the name, escaped for
 * one more quoting layer (`.\"shell`, `.\'shell`), are the usual evasion of patterns that look for
 * `.shell` as written.
 *
 * A bare dot-command is ordinary text (`end;.sh file`, `build;.system settings`): only a command
 * word naming a known binary counts, and an abbreviated name needs a binary that is not also an
 * English word. Dot-commands that only read the database (`.databases`, `.tables`) are not
 * command execution and are left to the SQL injection detector.
 *
 * Rule id: ST-RCE-011.
 */

export const SQLITE_DOT_RULE = {
  id: 'ST-RCE-011',
  severity: 'critical',
  reason: 'SQLite CLI dot-command running an OS command (.shell/.system)',
} as const satisfies GrammarRule;

/**
 * After a statement end (`;`, a line break) or at the start of the value: `.`, an optionally
 * (escaped-)quoted prefix of `shell` or `system` (at least two letters, as the CLI needs to tell
 * them from `.schema`, `.separator`, `.show`), then the first word of the command.
 */
const DOT_COMMAND =
  /(?:^|[;\r\n])[ \t\r\n]*\.[ \t]*(?:\\?["'])?(sh(?:e(?:ll?)?)?|sy(?:s(?:t(?:em?)?)?)?)(?:\\?["'])?[ \t]+(?:\\?["'])?([\w./\\-]+)/gi;

/**
 * Candidates for SQLite shell dot-commands in `value`. `binaryName` and `binaryTier` are the RCE
 * detector's (passed in, not imported, to keep the module graph acyclic): a command word's
 * binary name, and 1 for a binary whose name is not an English word, 2 for one that is, 0 otherwise.
 */
export function sqliteDotCommands(
  value: string,
  binaryName: (word: string) => string,
  binaryTier: (name: string) => 0 | 1 | 2,
): RuleCandidate[] {
  if (!value.includes('.')) return [];
  const out: RuleCandidate[] = [];
  for (const m of value.matchAll(DOT_COMMAND)) {
    const tier = binaryTier(binaryName(m[2]!));
    if (tier === 0) continue;
    const fullName = /^(?:shell|system)$/i.test(m[1]!);
    const confidence = tier === 1 ? 0.85 : fullName ? 0.75 : 0.5;
    out.push({ rule: SQLITE_DOT_RULE, confidence, from: m.index, to: m.index + m[0].length });
  }
  return out;
}
