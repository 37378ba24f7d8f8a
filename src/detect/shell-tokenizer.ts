import { performance } from 'node:perf_hooks';

/**
 * A shell tokenizer for command-injection detection (POSIX sh, with Windows cmd and PowerShell
 * separators). It splits a value into simple commands at separators (`; | || & && newline`,
 * `$(` and backticks, `<(`/`>(`, braces and parentheses) and undoes the evasions attackers use
 * to hide a command name from pattern matchers, remembering that it did:
 *
 * - quotes inside a word (`c'a't`, `w""hoami`), backslashes (`c\at`), cmd carets (`w^h^o^a^m^i`),
 * - empty expansions (`$@`, `$*`, `${x}` and `$x` glued inside a word), `${IFS}`/`$IFS$9` as space,
 * - brace expansion (`{cat,/etc/passwd}`), ANSI-C strings (`$'\x63at'`).
 *
 * Globs (`/bin/ca?`) are kept; the detector matches them against known binaries.
 */

/** How a command was introduced: at the start of the value, or after which separator. */
export type ShellLead = 'start' | ';' | '|' | '||' | '&' | '&&' | 'nl' | '$(' | '`' | '<(' | '(' | '{';

export interface ShellWord {
  /** The word after quote removal and de-obfuscation. */
  text: string;
  /** Offset of the word's first character in the input. */
  pos: number;
  /** Offset just past the word. */
  end: number;
  /** Quotes, escapes, empty expansions or carets were removed from *inside* the word. */
  evasion: boolean;
  /** The word was entirely quoted. */
  quoted: boolean;
  /** An unquoted glob character (`*`, `?`, `[`) is part of the word. */
  glob: boolean;
  /** The word as written (before quote removal and escapes). */
  raw: string;
}

export interface ShellCommand {
  lead: ShellLead;
  words: ShellWord[];
  /** Redirections in this command: operator (`>`, `>>`, `<`, `<<<`, `&>` …) and offset. */
  redirects: Array<{ op: string; pos: number }>;
  /** What ended the command (separator text, or '' at the end of input). */
  trail: string;
  /** Offset just past the separator that introduced the command (0 at the start). */
  sepEnd: number;
  /** The command starts with a variable expansion (`$a x`, `${cmd}`), dropped from `words`. */
  varHead?: boolean;
}

export interface ShellParse {
  commands: ShellCommand[];
  /** `${IFS}` / `$IFS` used as whitespace somewhere. */
  ifs: boolean;
  truncated: boolean;
}

const CLOCK_EVERY = 4096;
const VAR_START = /[A-Za-z_]/;
const VAR_PART = /[A-Za-z0-9_]/;
const ANSI_C: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/** Shell variables that carry real values in attacks (`$HOME/.ssh`), kept literally. */
const MEANINGFUL_VARS = new Set(['HOME', 'PATH', 'PWD', 'SHELL', 'USER', 'TMPDIR', 'IFS', 'OLDPWD', 'HOSTNAME', 'ENV']);

/**
 * Tokenizes `input` as shell. Linear; stops after `maxWords` words or at `deadline`.
 */
export function tokenizeShell(input: string, deadline = Infinity, maxWords = 2048): ShellParse {
  const commands: ShellCommand[] = [];
  const n = input.length;
  let cur: ShellCommand = { lead: 'start', words: [], redirects: [], trail: '', sepEnd: 0 };
  let word = '';
  let wordStart = -1;
  let evasion = false;
  let glob = false;
  let quotedParts = 0;
  let plainParts = 0;
  let ifs = false;
  let truncated = false;
  let wordCount = 0;
  let nextClock = CLOCK_EVERY;

  const endWord = (at: number): void => {
    if (wordStart >= 0) {
      const quoted = quotedParts > 0 && plainParts === 0;
      if (word.length > 0 || quoted) {
        cur.words.push({ text: word, pos: wordStart, end: at, evasion, quoted, glob, raw: input.slice(wordStart, at) });
        wordCount++;
      }
    }
    word = '';
    wordStart = -1;
    evasion = false;
    glob = false;
    quotedParts = 0;
    plainParts = 0;
  };
  const startWord = (at: number): void => {
    if (wordStart < 0) wordStart = at;
  };
  const endCommand = (trail: string, nextLead: ShellLead, at: number): void => {
    endWord(at);
    cur.trail = trail;
    if (cur.words.length > 0 || cur.redirects.length > 0 || cur.varHead) {
      commands.push(cur);
      cur = { lead: nextLead, words: [], redirects: [], trail: '', sepEnd: at + trail.length };
    } else if (nextLead !== '(' && nextLead !== '{') {
      // `;(sh)`, `&&{ id; }`: a group right after a separator keeps the separator's lead.
      cur.lead = nextLead;
      cur.sepEnd = at + trail.length;
    } else {
      cur.sepEnd = at + trail.length;
    }
  };

  let i = 0;
  while (i < n) {
    if (wordCount >= maxWords) {
      truncated = true;
      break;
    }
    if (i >= nextClock) {
      nextClock = i + CLOCK_EVERY;
      if (performance.now() > deadline) {
        truncated = true;
        break;
      }
    }
    const c = input[i]!;
    const c2 = input[i + 1] ?? '';
    // Whitespace.
    if (c === ' ' || c === '\t' || c === '\v' || c === '\f') {
      endWord(i);
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      endCommand(c, 'nl', i);
      i++;
      continue;
    }
    // `#` at the start of a word comments out the rest of the line.
    if (c === '#' && wordStart < 0) {
      const nl = input.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      continue;
    }
    // Separators.
    if (c === ';') {
      endCommand(';', ';', i);
      i++;
      continue;
    }
    if (c === '|') {
      const op = c2 === '|' ? '||' : '|';
      endCommand(op, op, i);
      i += op.length;
      continue;
    }
    if (c === '&') {
      if (c2 === '>' || (input[i - 1] === '>' && wordStart < 0)) {
        // `&>file`, `>&2`: redirections, not separators.
        cur.redirects.push({ op: '&>', pos: i });
        i += c2 === '>' ? 2 : 1;
        continue;
      }
      const op = c2 === '&' ? '&&' : '&';
      endCommand(op, op, i);
      i += op.length;
      continue;
    }
    if (
      (c === '`' && c2 === '`') ||
      (c === '$' && c2 === '(' && input[i + 2] === ')') ||
      ((c === '<' || c === '>') && c2 === '(' && input[i + 2] === ')')
    ) {
      // Empty substitutions inside a word (`pi\`\`ng`, `pi$()ng`, `pi<()ng`) expand to nothing.
      if (wordStart >= 0 || isWordChar(input[i + (c === '`' ? 2 : 3)])) {
        startWord(i);
        evasion = true;
      }
      i += c === '`' ? 2 : 3;
      continue;
    }
    if (c === '`') {
      endCommand('`', '`', i);
      i++;
      continue;
    }
    if (c === '$' && c2 === '(' && input[i + 2] !== '(') {
      endCommand('$(', '$(', i);
      i += 2;
      continue;
    }
    if ((c === '<' || c === '>') && c2 === '(') {
      endCommand(c + '(', '<(', i);
      i += 2;
      continue;
    }
    if (c === '(' || c === ')' || c === '{' || c === '}') {
      // Brace expansion `{cat,/etc/passwd}`, `c{a,oun}t`, `{l,-lh}s`: a word-level construct.
      if (c === '{') {
        const close = input.indexOf('}', i + 1);
        const inner = close > 0 ? input.slice(i + 1, close) : '';
        if (close > 0 && inner.includes(',') && !/[\s;|&]/.test(inner) && close - i < 512) {
          let sufEnd = close + 1;
          while (sufEnd < n && isWordChar(input[sufEnd]) && input[sufEnd] !== '{') sufEnd++;
          const suffix = input.slice(close + 1, sufEnd);
          const prefix = wordStart >= 0 ? word : '';
          const from = wordStart >= 0 ? wordStart : i;
          word = '';
          wordStart = -1;
          for (const p of inner.split(',')) {
            // Parts may hide their own evasions: {n$u\c$u,-nlvp,777}, {,$'whoami',}.
            const part = p.replace(/^\$(['"])(.*)\1$/, '$2').replace(/\$(?:\{\w*\}|[a-z_]\w*|[@*])|\\|['"]/g, '');
            const text = prefix + part + suffix;
            if (!text) continue;
            cur.words.push({
              text,
              pos: from,
              end: sufEnd,
              evasion: true,
              quoted: false,
              glob: /[*?[]/.test(text),
              raw: p,
            });
            wordCount++;
          }
          evasion = false;
          quotedParts = 0;
          plainParts = 0;
          glob = false;
          i = sufEnd;
          continue;
        }
      }
      const lead: ShellLead = c === '(' ? '(' : c === '{' ? '{' : ';';
      endCommand(c, lead, i);
      i++;
      continue;
    }
    // Redirections: `>`, `>>`, `<`, `<<`, `<<<`, `2>`, `2>&1`.
    if (c === '>' || c === '<') {
      let j = i;
      while (input[j] === c && j - i < 3) j++;
      // A digit glued before (`2>`) belongs to the redirection.
      if (wordStart >= 0 && /^[0-9]$/.test(word) && !evasion) {
        word = '';
        wordStart = -1;
      } else {
        endWord(i);
      }
      cur.redirects.push({ op: input.slice(i, j), pos: i });
      i = j;
      continue;
    }
    // Quotes.
    if (c === "'" || c === '"') {
      startWord(i);
      const close = input.indexOf(c, i + 1);
      const end = close < 0 ? n : close;
      let content = input.slice(i + 1, end);
      if (c === '"') content = expandInDoubleQuotes(content);
      if (word.length > 0 || (close >= 0 && isWordChar(input[close + 1]))) evasion = true;
      word += content;
      quotedParts++;
      i = close < 0 ? n : close + 1;
      continue;
    }
    if (c === '$' && c2 === "'") {
      startWord(i);
      const close = input.indexOf("'", i + 2);
      const end = close < 0 ? n : close;
      word += input.slice(i + 2, end).replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
        if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
        if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8));
        return ANSI_C[e] ?? e;
      });
      evasion = true;
      quotedParts++;
      i = close < 0 ? n : close + 1;
      continue;
    }
    if (c === '\\') {
      if (c2 === '\n') {
        i += 2;
        continue;
      }
      startWord(i);
      if (c2 && /[A-Za-z0-9]/.test(c2)) evasion = true;
      word += c2;
      plainParts++;
      i += 2;
      continue;
    }
    // Expansions.
    if (c === '$') {
      // `${\`id\`}`, `${$(id)}`: a substitution inside braces runs; tokenize what is inside.
      if (c2 === '{' && /^\$\{[^}]*(?:`|\$\()/.test(input.slice(i, i + 70))) {
        i += 2;
        continue;
      }
      const m = /^\$(?:\{([^}]{0,64})\}|([A-Za-z_][A-Za-z0-9_]*)|([@*!#?$0-9-]))/.exec(input.slice(i, i + 70));
      if (m) {
        const name = m[1] ?? m[2] ?? m[3] ?? '';
        const bare = name.replace(/[^A-Za-z0-9_].*$/, '');
        if (bare === 'IFS' || /^IFS\b/.test(name)) {
          // `${IFS}`, `$IFS$9`: a space in disguise.
          ifs = true;
          endWord(i);
          i += m[0].length;
          if (input[i] === '$' && /[0-9]/.test(input[i + 1] ?? '')) i += 2;
          continue;
        }
        const glued = wordStart >= 0 || isWordChar(input[i + m[0].length]);
        // `c$@at`, `ca${x}t`, and a lone `$u` word: unset variables expanding to nothing.
        if (m[3] !== undefined || (!MEANINGFUL_VARS.has(bare) && (glued || /^[a-z]\w{0,2}$/.test(bare)))) {
          if (!glued && cur.words.length === 0) cur.varHead = true;
          // `c$@at`, `ca${x}t`: an empty expansion splitting a word.
          startWord(i);
          evasion = true;
          i += m[0].length;
          continue;
        }
        startWord(i);
        word += m[0];
        plainParts++;
        i += m[0].length;
        continue;
      }
    }
    if (c === '^' && wordStart >= 0 && isWordChar(c2)) {
      // cmd.exe escape caret inside a word: w^h^o^a^m^i.
      evasion = true;
      i++;
      continue;
    }
    startWord(i);
    if (c === '*' || c === '?' || c === '[') glob = true;
    word += c;
    plainParts++;
    i++;
  }
  endCommand('', ';', n);
  return { commands, ifs, truncated };
}

function isWordChar(c: string | undefined): boolean {
  return !!c && !/[\s;|&`()<>{}'"\\$]/.test(c);
}

/** Inside "…": `$@`/`$*` vanish, backslash escapes \\ \" \$ \`. */
function expandInDoubleQuotes(s: string): string {
  if (!s.includes('$') && !s.includes('\\')) return s;
  return s.replace(/\$[@*]|\\([\\"$`])/g, (m, e: string | undefined) => e ?? '');
}

/** True for `VAR=value` words (assignments before a command). */
export function isAssignment(word: string): boolean {
  const eq = word.indexOf('=');
  return eq > 0 && VAR_START.test(word[0]!) && [...word.slice(1, eq)].every((ch) => VAR_PART.test(ch));
}
