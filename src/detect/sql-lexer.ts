import { performance } from 'node:perf_hooks';

/**
 * A SQL lexer for the dialects attackers aim at (MySQL incl. `/*! … *\/` executable comments,
 * PostgreSQL, MSSQL, Oracle, SQLite). It never fails: any byte sequence yields tokens, and an
 * unterminated string or comment simply runs to the end of the input (which is exactly what an
 * injected fragment looks like before the application appends its own closing quote).
 *
 * Token types are single characters so that a token sequence reads as a compact fingerprint:
 *
 * | type | meaning                                                           |
 * |------|-------------------------------------------------------------------|
 * | `s`  | string literal (any quote style)                                  |
 * | `1`  | number (decimal, hex, binary, scientific) or NULL/TRUE/FALSE       |
 * | `n`  | bare word / quoted identifier                                     |
 * | `f`  | function name (known function, or a word glued to `(`)            |
 * | `k`  | other keyword (FROM, WHERE, ORDER, INTO, …)                       |
 * | `E`  | statement keyword (SELECT, INSERT, DROP, EXEC, …)                 |
 * | `U`  | set operator (UNION, INTERSECT, EXCEPT, MINUS)                    |
 * | `&`  | logical operator (AND, OR, XOR, &&, \|\|)                           |
 * | `o`  | operator (=, <>, LIKE, IS, IN, BETWEEN, +, ->>, ::, …)            |
 * | `v`  | variable (@x, @@version, :name, $1)                               |
 * | `c`  | comment                                                           |
 * | `(` `)` `,` `;` `.` | punctuation                                        |
 */
export type SqlTokenType =
  's' | '1' | 'n' | 'f' | 'k' | 'E' | 'U' | '&' | 'o' | 'v' | 'c' | '(' | ')' | ',' | ';' | '.';

export interface SqlToken {
  type: SqlTokenType;
  /** Upper-cased word for words, the literal text otherwise. */
  text: string;
  /** Offset in the lexed input. */
  pos: number;
  /** Strings: true when the closing quote was found. */
  closed?: boolean;
  /** Strings: the opening quote character. */
  quote?: string;
}

export interface LexResult {
  tokens: SqlToken[];
  /** True when the deadline or the token cap stopped lexing early. */
  truncated: boolean;
  /** A MySQL `/*!` executable comment was seen (a strong evasion signal). */
  mysqlExecComment: boolean;
}

/** Statement starters: what follows `;` in a stacked query or `UNION` in a union. */
export const STATEMENT_KEYWORDS: ReadonlySet<string> = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'DROP',
  'CREATE',
  'ALTER',
  'TRUNCATE',
  'EXEC',
  'EXECUTE',
  'DECLARE',
  'SHUTDOWN',
  'WAITFOR',
  'GRANT',
  'REVOKE',
  'MERGE',
  'CALL',
  'HANDLER',
  'LOAD',
  'COPY',
  'ATTACH',
  'PRAGMA',
  'RENAME',
  'DBCC',
  'BACKUP',
  'RESTORE',
  'VALUES',
]);

const SET_OPERATORS: ReadonlySet<string> = new Set(['UNION', 'INTERSECT', 'EXCEPT', 'MINUS']);
const LOGIC_WORDS: ReadonlySet<string> = new Set(['AND', 'OR', 'XOR']);
const OPERATOR_WORDS: ReadonlySet<string> = new Set([
  'LIKE',
  'ILIKE',
  'RLIKE',
  'REGEXP',
  'IS',
  'IN',
  'NOT',
  'BETWEEN',
  'DIV',
  'MOD',
  'SOUNDS',
  'GLOB',
  'MATCH',
  'ESCAPE',
  'COLLATE',
  'SIMILAR',
  'NOTNULL',
  'ISNULL',
  'OVERLAPS',
]);
const LITERAL_WORDS: ReadonlySet<string> = new Set(['NULL', 'TRUE', 'FALSE', 'UNKNOWN']);
const KEYWORDS: ReadonlySet<string> = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'BY',
  'ORDER',
  'HAVING',
  'LIMIT',
  'OFFSET',
  'INTO',
  'OUTFILE',
  'DUMPFILE',
  'TABLE',
  'DATABASE',
  'SCHEMA',
  'JOIN',
  'ON',
  'AS',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'ALL',
  'DISTINCT',
  'ANY',
  'SOME',
  'EXISTS',
  'PROCEDURE',
  'TOP',
  'FETCH',
  'DELAY',
  'TIME',
  'BEGIN',
  'SET',
  'WITH',
  'ASC',
  'DESC',
  'USING',
  'INNER',
  'OUTER',
  'LEFT',
  'RIGHT',
  'CROSS',
  'NATURAL',
  'ROWS',
  'ONLY',
  'NEXT',
  'PROGRAM',
  'DATA',
  'INFILE',
  'LOCAL',
  'FOR',
  'SHARE',
  'MODE',
  'LOCK',
  'PRIOR',
  'CONNECT',
  'START',
  'RETURNING',
  'WINDOW',
  'OVER',
  'PARTITION',
  'DUAL',
  'LINES',
  'TERMINATED',
  'FIELDS',
  'COLUMNS',
]);

/**
 * Every word the lexer classifies as something other than a plain name (`n`) without looking at
 * what follows it: keywords, set and logic operators, word operators and literal words.
 */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  ...STATEMENT_KEYWORDS,
  ...SET_OPERATORS,
  ...LOGIC_WORDS,
  ...OPERATOR_WORDS,
  ...LITERAL_WORDS,
  ...KEYWORDS,
]);

/**
 * Function names attackers call (time, error, file, string and system functions). A word glued
 * to `(` is a function call whatever its name; a known name is one even with spaces before `(`.
 */
export const SQL_FUNCTIONS: ReadonlySet<string> = new Set([
  'SLEEP',
  'BENCHMARK',
  'PG_SLEEP',
  'PG_SLEEP_FOR',
  'PG_SLEEP_UNTIL',
  'RANDOMBLOB',
  'ZEROBLOB',
  'LOAD_FILE',
  'EXTRACTVALUE',
  'UPDATEXML',
  'EXP',
  'FLOOR',
  'RAND',
  'COUNT',
  'CONCAT',
  'CONCAT_WS',
  'GROUP_CONCAT',
  'STRING_AGG',
  'CHAR',
  'CHR',
  'NCHAR',
  'ASCII',
  'ORD',
  'HEX',
  'UNHEX',
  'SUBSTRING',
  'SUBSTR',
  'MID',
  'LEFT',
  'RIGHT',
  'LENGTH',
  'LEN',
  'IF',
  'IIF',
  'IFNULL',
  'ISNULL',
  'NULLIF',
  'COALESCE',
  'CAST',
  'CONVERT',
  'VERSION',
  'USER',
  'DATABASE',
  'SCHEMA',
  'CURRENT_USER',
  'SYSTEM_USER',
  'SESSION_USER',
  'DB_NAME',
  'USER_NAME',
  'HOST_NAME',
  'NAME_CONST',
  'GEOMETRYCOLLECTION',
  'POLYGON',
  'MULTIPOINT',
  'MULTIPOLYGON',
  'LINESTRING',
  'MULTILINESTRING',
  'XP_CMDSHELL',
  'XP_DIRTREE',
  'OPENROWSET',
  'OPENDATASOURCE',
  'OPENQUERY',
  'LO_IMPORT',
  'LO_EXPORT',
  'PG_READ_FILE',
  'PG_LS_DIR',
  'DBLINK',
  'UTL_INADDR',
  'XMLTYPE',
  'JSON_EXTRACT',
  'JSON_KEYS',
  'MAKE_SET',
  'ELT',
  'BIN',
  'CONV',
  'MD5',
  'SHA1',
  'UUID',
  'DECODE',
  'ENCODE',
  'REPLACE',
  'REVERSE',
  'LOWER',
  'UPPER',
  'TRIM',
  'NOW',
  'SYSDATE',
  'GETDATE',
  'WAITFOR',
  'SUM',
  'MIN',
  'MAX',
  'AVG',
  'LIKELIHOOD',
  'UNLIKELY',
  'SQLITE_VERSION',
  'TYPEOF',
  'INSTR',
  'LOCATE',
  'POSITION',
  'STRCMP',
  'REGEXP_LIKE',
  'REGEXP_SUBSTR',
  'CTXSYS',
  'ROW',
  'EXISTS',
]);

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;

/** Multi-character operators, longest first. */
const OPERATORS = [
  '<=>',
  '?|',
  '?&',
  '@?',
  '@@',
  '#-',
  '->>',
  '#>>',
  '!~*',
  '<>',
  '!=',
  '<=',
  '>=',
  '==',
  ':=',
  '::',
  '->',
  '#>',
  '@>',
  '<@',
  '<<',
  '>>',
  '~*',
  '!~',
  '&&',
  '||',
];

/** How often (in characters) the lexer looks at the clock. */
const CLOCK_EVERY = 2048;

function isSpace(c: string): boolean {
  // MySQL treats \v, \f and NBSP as whitespace too; attackers use them to split keywords.
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f' || c === '\u00a0';
}

export interface LexOptions {
  /** `performance.now()` value after which lexing stops (`truncated`). */
  deadline?: number;
  maxTokens?: number;
  /**
   * Whether `\` escapes a quote inside strings (MySQL default). PostgreSQL (standard strings),
   * MSSQL, Oracle and SQLite take `\` literally, so `\'` closes the string there.
   */
  backslashEscapes?: boolean;
}

/**
 * Splits `input` into SQL tokens. Linear time; stops at `maxTokens` or when `performance.now()`
 * passes `deadline`, and says so in `truncated`.
 */
export function lexSql(input: string, options: LexOptions = {}): LexResult {
  const deadline = options.deadline ?? Infinity;
  const maxTokens = options.maxTokens ?? 4096;
  const backslash = options.backslashEscapes ?? true;
  const tokens: SqlToken[] = [];
  const n = input.length;
  let i = 0;
  let truncated = false;
  let mysqlExecComment = false;
  let nextClock = CLOCK_EVERY;
  /** Inside `/*! … *\/`: its closing `*\/` is skipped like whitespace. */
  let inExecComment = false;

  const push = (type: SqlTokenType, text: string, pos: number, extra?: Partial<SqlToken>): void => {
    tokens.push(extra ? { type, text, pos, ...extra } : { type, text, pos });
  };

  while (i < n) {
    if (tokens.length >= maxTokens) {
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
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    // Comments.
    if (c === '/' && c2 === '*') {
      if (input[i + 2] === '!') {
        // MySQL executable comment: `/*!50000 union */` runs its content.
        mysqlExecComment = true;
        inExecComment = true;
        i += 3;
        while (i < n && DIGIT.test(input[i]!)) i++;
        continue;
      }
      const end = input.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      push('c', input.slice(start, i), start);
      continue;
    }
    if (c === '*' && c2 === '/' && inExecComment) {
      inExecComment = false;
      i += 2;
      continue;
    }
    // `#>` / `#>>` are PostgreSQL JSON path operators, not MySQL comments.
    if ((c === '-' && c2 === '-') || (c === '#' && c2 !== '>')) {
      const end = input.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
      push('c', input.slice(start, i), start);
      continue;
    }
    // Strings, including prefixed forms N'…' X'…' B'…' E'…' and Oracle q'[…]'.
    if (c === "'" || c === '"') {
      i = lexQuoted(input, i, c, push, start, backslash);
      continue;
    }
    if (
      (c === 'N' || c === 'n' || c === 'X' || c === 'x' || c === 'B' || c === 'b' || c === 'E' || c === 'e') &&
      c2 === "'"
    ) {
      i = lexQuoted(input, i + 1, "'", push, start, backslash);
      continue;
    }
    if ((c === 'q' || c === 'Q') && c2 === "'" && i + 2 < n) {
      const open = input[i + 2]!;
      const close = open === '[' ? ']' : open === '(' ? ')' : open === '{' ? '}' : open === '<' ? '>' : open;
      const end = input.indexOf(close + "'", i + 3);
      i = end < 0 ? n : end + 2;
      push('s', input.slice(start, i), start, { closed: end >= 0, quote: "'" });
      continue;
    }
    // PostgreSQL dollar quoting: $$…$$ or $tag$…$tag$.
    if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(input.slice(i, i + 64));
      if (m) {
        const tag = m[0];
        const end = input.indexOf(tag, i + tag.length);
        i = end < 0 ? n : end + tag.length;
        push('s', input.slice(start, i), start, { closed: end >= 0, quote: tag });
        continue;
      }
      if (DIGIT.test(c2)) {
        i++;
        while (i < n && DIGIT.test(input[i]!)) i++;
        push('v', input.slice(start, i), start);
        continue;
      }
    }
    // Quoted identifiers: `name` (MySQL) and [name] (MSSQL).
    if (c === '`') {
      const end = input.indexOf('`', i + 1);
      i = end < 0 ? n : end + 1;
      push('n', input.slice(start, i), start);
      continue;
    }
    if (c === '[') {
      // Bounded search: a bracket name is short, and `[[[[…` must stay linear.
      const k = input.slice(i + 1, i + 130).indexOf(']');
      const end = k < 0 ? -1 : i + 1 + k;
      if (end > 0 && !/[\s'"]/.test(input.slice(i + 1, end))) {
        i = end + 1;
        push('n', input.slice(start, i), start);
        continue;
      }
      // `;truncate [users`: an unterminated identifier runs to the end, like an unterminated string.
      if (end < 0 && n - i < 130 && /^[A-Za-z_][A-Za-z0-9_$]*$/.test(input.slice(i + 1))) {
        i = n;
        push('n', input.slice(start), start);
        continue;
      }
      i++;
      push('o', '[', start);
      continue;
    }
    // Numbers.
    if (DIGIT.test(c) || (c === '.' && DIGIT.test(c2))) {
      i = lexNumber(input, i);
      // `1e1union` and `0x41select`: MySQL ends a number where the letters start.
      push('1', input.slice(start, i), start);
      continue;
    }
    // Variables.
    if (c === '@') {
      i++;
      if (input[i] === '@') i++;
      if (input[i] === '`' || input[i] === "'" || input[i] === '"') {
        const q = input[i]!;
        const end = input.indexOf(q, i + 1);
        i = end < 0 ? n : end + 1;
      } else {
        while (i < n && (WORD_PART.test(input[i]!) || input[i] === '.')) i++;
      }
      if (i - start === 1) {
        push('o', '@', start);
      } else {
        push('v', input.slice(start, i), start);
      }
      continue;
    }
    if (c === ':' && WORD_START.test(c2) && tokens.length > 0) {
      i++;
      while (i < n && WORD_PART.test(input[i]!)) i++;
      push('v', input.slice(start, i), start);
      continue;
    }
    // Words.
    if (WORD_START.test(c)) {
      while (i < n && WORD_PART.test(input[i]!)) i++;
      const word = input.slice(start, i).toUpperCase();
      push(classifyWord(word, input, i), word, start);
      continue;
    }
    // Punctuation and operators.
    if (c === '(' || c === ')' || c === ',' || c === ';' || c === '.') {
      i++;
      push(c, c, start);
      continue;
    }
    const op = OPERATORS.find((o) => input.startsWith(o, i));
    if (op) {
      i += op.length;
      push(op === '&&' || op === '||' ? '&' : 'o', op, start);
      continue;
    }
    i++;
    push('o', c, start);
  }
  return { tokens, truncated, mysqlExecComment };
}

/**
 * Fast path for the pre-filter: if `input` is made only of `[A-Za-z0-9 _.,:@/-]`, calls `visit`
 * with every word (upper-cased) the lexer could produce from it and returns true unless `visit`
 * returns false; returns false at the first other character. Numbers are skipped exactly as
 * `lexSql` skips them (so `0x41select` visits `SELECT`); words inside `--` comments and
 * `@`/`:` variables are visited too, so the words visited are a superset of the lexer's words.
 */
export function visitPlainWords(input: string, visit: (word: string) => boolean): boolean {
  const n = input.length;
  let i = 0;
  while (i < n) {
    const c = input.charCodeAt(i);
    const isDigit = c >= 48 && c <= 57;
    if (isDigit || (c === 46 /* . */ && i + 1 < n && DIGIT.test(input[i + 1]!))) {
      i = lexNumber(input, i);
      continue;
    }
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 /* _ */) {
      const start = i;
      i++;
      while (i < n) {
        const d = input.charCodeAt(i);
        if ((d >= 65 && d <= 90) || (d >= 97 && d <= 122) || (d >= 48 && d <= 57) || d === 95) i++;
        else break;
      }
      if (!visit(input.slice(start, i).toUpperCase())) return false;
      continue;
    }
    if (!PLAIN_PUNCTUATION.has(c)) return false;
    i++;
  }
  return true;
}

/** ` .,:@/-` (char codes): the punctuation the plain fast path accepts besides word characters. */
const PLAIN_PUNCTUATION: ReadonlySet<number> = new Set([...' .,:@/-'].map((ch) => ch.charCodeAt(0)));

type Push = (type: SqlTokenType, text: string, pos: number, extra?: Partial<SqlToken>) => void;

/** Lexes a string opened by `q` at `i`; doubled quotes and backslash escapes stay inside. */
function lexQuoted(input: string, i: number, q: string, push: Push, start: number, backslash: boolean): number {
  const n = input.length;
  let j = i + 1;
  while (j < n) {
    const ch = input.charCodeAt(j);
    if (backslash && ch === 92 /* \ */) {
      j += 2;
      continue;
    }
    if (input[j] === q) {
      if (input[j + 1] === q) {
        j += 2;
        continue;
      }
      push('s', input.slice(start, j + 1), start, { closed: true, quote: q });
      return j + 1;
    }
    j++;
  }
  push('s', input.slice(start), start, { closed: false, quote: q });
  return n;
}

function lexNumber(input: string, i: number): number {
  const n = input.length;
  if (input[i] === '0' && (input[i + 1] === 'x' || input[i + 1] === 'X') && /[0-9a-fA-F]/.test(input[i + 2] ?? '')) {
    i += 2;
    while (i < n && /[0-9a-fA-F]/.test(input[i]!)) i++;
    return i;
  }
  if (input[i] === '0' && (input[i + 1] === 'b' || input[i + 1] === 'B') && /[01]/.test(input[i + 2] ?? '')) {
    i += 2;
    while (i < n && (input[i] === '0' || input[i] === '1')) i++;
    return i;
  }
  while (i < n && DIGIT.test(input[i]!)) i++;
  if (input[i] === '.') {
    i++;
    while (i < n && DIGIT.test(input[i]!)) i++;
  }
  if ((input[i] === 'e' || input[i] === 'E') && /[-+0-9]/.test(input[i + 1] ?? '')) {
    const save = i;
    i++;
    if (input[i] === '+' || input[i] === '-') i++;
    if (DIGIT.test(input[i] ?? '')) {
      while (i < n && DIGIT.test(input[i]!)) i++;
    } else {
      i = save;
    }
  } else if ((input[i] === 'e' || input[i] === 'E') && input[i - 1] === '.' && !WORD_PART.test(input[i + 1] ?? '')) {
    // MySQL reads `1.e` as a number; `1.e(select …)` is a known keyword-splitting trick.
    i++;
  }
  return i;
}

function classifyWord(word: string, input: string, end: number): SqlTokenType {
  if (SET_OPERATORS.has(word)) return 'U';
  if (LOGIC_WORDS.has(word)) return '&';
  if (LITERAL_WORDS.has(word)) return '1';
  if (OPERATOR_WORDS.has(word)) return 'o';
  const glued = input[end] === '(';
  if (glued && !STATEMENT_KEYWORDS.has(word) && word !== 'IN' && word !== 'VALUES') return 'f';
  if (STATEMENT_KEYWORDS.has(word)) return 'E';
  if (KEYWORDS.has(word)) return 'k';
  if (SQL_FUNCTIONS.has(word)) {
    let j = end;
    while (j < input.length && isSpace(input[j]!)) j++;
    if (input[j] === '(') return 'f';
  }
  return 'n';
}
