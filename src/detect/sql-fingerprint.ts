import type { Hit } from '../core/model.js';
import { discountMarkdownCode } from './detect-util.js';
import {
  lexSql,
  RESERVED_WORDS,
  SQL_FUNCTIONS,
  STATEMENT_KEYWORDS,
  visitPlainWords,
  type SqlToken,
} from './sql-lexer.js';
import type { GrammarRule as Rule, RuleCandidate as Candidate } from './detect-util.js';

/**
 * The SQL injection grammar. A value is lexed in each context an injection can land in
 *
 * - `none`: as-is, e.g. after `WHERE id=` (numeric context, or the whole value is SQL),
 * - `'` and `"`: inside a quoted string, so the value's first quote *closes* the string,
 *
 * and the folded token sequence is matched against structural rules: what may follow the point
 * where user data leaves its literal (a logic operator and a comparison, UNION SELECT, `;` and a
 * new statement, ORDER BY, a comment that truncates the query …), plus dangerous functions and
 * system objects. Each rule scores a confidence; callers apply the sensitivity bar.
 *
 * Rule ids (stable, documented in docs/detection.md):
 * ST-SQLI-001 UNION-based · 002 tautology / boolean · 003 stacked query · 004 time-based ·
 * 005 out-of-band / file access · 006 error-based · 007 system catalog / fingerprinting ·
 * 008 comment truncation · 009 clause injection (ORDER BY, HAVING, subquery) · 010 statement ·
 * 011 MySQL number-filler evasion (`1.e(`, `1.e.`).
 */

export type SqlContext = 'none' | "'" | '"' | '`';

const RULES = {
  union: { id: 'ST-SQLI-001', severity: 'critical', reason: 'UNION SELECT appended to the query' },
  tautology: { id: 'ST-SQLI-002', severity: 'high', reason: 'boolean condition injected after the value' },
  stacked: { id: 'ST-SQLI-003', severity: 'critical', reason: 'stacked query: a new statement after ;' },
  time: { id: 'ST-SQLI-004', severity: 'high', reason: 'time-based blind injection (delay function)' },
  oob: { id: 'ST-SQLI-005', severity: 'critical', reason: 'out-of-band / file or command access from SQL' },
  error: { id: 'ST-SQLI-006', severity: 'high', reason: 'error-based extraction function' },
  catalog: { id: 'ST-SQLI-007', severity: 'medium', reason: 'system catalog or server fingerprint access' },
  comment: { id: 'ST-SQLI-008', severity: 'high', reason: 'quote closed and rest of query commented out' },
  clause: { id: 'ST-SQLI-009', severity: 'high', reason: 'SQL clause or subquery injected after the value' },
  statement: { id: 'ST-SQLI-010', severity: 'high', reason: 'value is a complete SQL statement' },
  filler: {
    id: 'ST-SQLI-011',
    severity: 'high',
    reason: 'MySQL number filler (1.e) glued to a call or a qualified name, a WAF evasion',
  },
} as const satisfies Record<string, Rule>;

/** A folded token: comments removed (counted), dotted names joined, unary signs absorbed. */
interface Tok {
  type: SqlToken['type'];
  text: string;
  pos: number;
  closed?: boolean;
}

interface Folded {
  toks: Tok[];
  /** Index in `toks` before which a comment stood (toks.length = trailing comment). */
  commentAt: Set<number>;
  execComment: boolean;
}

const TIME_FUNCS = new Set([
  'SLEEP',
  'BENCHMARK',
  'PG_SLEEP',
  'PG_SLEEP_FOR',
  'PG_SLEEP_UNTIL',
  'RANDOMBLOB',
  'DBMS_LOCK.SLEEP',
  'DBMS_PIPE.RECEIVE_MESSAGE',
  'DBMS_SESSION.SLEEP',
  'SYS.DBMS_LOCK.SLEEP',
]);
const OOB_NAMES = new Set([
  'LOAD_FILE',
  'XP_CMDSHELL',
  'XP_DIRTREE',
  'XP_FILEEXIST',
  'XP_REGREAD',
  'XP_SUBDIRS',
  'XP_AVAILABLEMEDIA',
  'XP_TERMINATE_PROCESS',
  'SP_OACREATE',
  'SP_OAMETHOD',
  'SP_CONFIGURE',
  'SP_EXECUTESQL',
  'SP_EXECUTE_EXTERNAL_SCRIPT',
  'SP_ADDEXTENDEDPROC',
  'SP_MAKEWEBTASK',
  'UTL_HTTP.REQUEST',
  'UTL_INADDR.GET_HOST_ADDRESS',
  'UTL_INADDR.GET_HOST_NAME',
  'UTL_FILE.FOPEN',
  'DBMS_LDAP.INIT',
  'DBMS_JAVA.RUNJAVA',
  'HTTPURITYPE',
  'LO_IMPORT',
  'LO_EXPORT',
  'PG_READ_FILE',
  'PG_READ_BINARY_FILE',
  'PG_LS_DIR',
  'DBLINK',
  'DBLINK_CONNECT',
  'OPENROWSET',
  'OPENDATASOURCE',
  'OPENQUERY',
  'LOAD_EXTENSION',
  'SYS_EXEC',
  'SYS_EVAL',
  'LO_GET',
  'LO_FROM_BYTEA',
  'SP_PASSWORD',
  'UTL_HTTP',
  'MSDASQL',
  'SQLOLEDB',
]);
const ERROR_FUNCS = new Set([
  'EXTRACTVALUE',
  'UPDATEXML',
  'NAME_CONST',
  'GEOMETRYCOLLECTION',
  'MULTIPOINT',
  'POLYGON',
  'MULTIPOLYGON',
  'LINESTRING',
  'MULTILINESTRING',
  'GTID_SUBSET',
  'JSON_KEYS',
  'XMLTYPE',
  'CTXSYS.DRITHSX.SN',
  'DBMS_XMLGEN.GETXML',
  'DBMS_UTILITY.SQLID_TO_SQLHASH',
  'ST_LATFROMGEOHASH',
  'ST_POINTFROMGEOHASH',
]);
const CATALOG_NAMES = [
  'INFORMATION_SCHEMA',
  'SYSOBJECTS',
  'SYSCOLUMNS',
  'SYSUSERS',
  'SYSDATABASES',
  'SYS.OBJECTS',
  'SYS.TABLES',
  'SYS.COLUMNS',
  'SYS.DATABASES',
  'SYS.SQL_LOGINS',
  'MASTER..SYSDATABASES',
  'PG_CATALOG',
  'PG_SHADOW',
  'PG_USER',
  'PG_TABLES',
  'PG_DATABASE',
  'PG_NAMESPACE',
  'SQLITE_MASTER',
  'SQLITE_SCHEMA',
  'SQLITE_TEMP_MASTER',
  'MYSQL.USER',
  'MYSQL.DB',
  'ALL_TABLES',
  'ALL_TAB_COLUMNS',
  'USER_TABLES',
  'USER_TAB_COLUMNS',
  'DBA_USERS',
  'V$VERSION',
  'V$INSTANCE',
  'SYS.USER$',
  'MSYSOBJECTS',
  'MSYSACCESSOBJECTS',
  'DUAL',
];
/**
 * OLE DB / ODBC provider names. As a string literal (`'MSDASQL'`) they are the first argument of
 * `OPENROWSET` / `OPENDATASOURCE`, i.e. MSSQL reaching another data source; no other text quotes them.
 */
const OLEDB_PROVIDERS = new Set([
  'MSDASQL',
  'SQLOLEDB',
  'SQLNCLI',
  'SQLNCLI10',
  'SQLNCLI11',
  'MSOLEDBSQL',
  'MICROSOFT.JET.OLEDB.4.0',
  'MICROSOFT.ACE.OLEDB.12.0',
]);
/** Columns that hold credentials: selecting one by a condition is what an extraction query does. */
const CREDENTIAL_COLUMNS = new Set([
  'PASSWORD',
  'PASSWORDS',
  'PASSWD',
  'PWD',
  'PASS',
  'PASSWORD_HASH',
  'PASSWORDHASH',
  'PASS_HASH',
  'PWHASH',
  'USER_PASS',
  'USER_PASSWORD',
  'USERPASSWORD',
  'HASHED_PASSWORD',
  'ENCRYPTED_PASSWORD',
  'AUTHENTICATION_STRING',
]);
/**
 * What MySQL accepts after the `1.e.` filler: catalog tables and columns (`information_schema
 * 1.e.tables` reads as `information_schema.tables`).
 */
const FILLER_QUALIFIED = new Set([
  'TABLES',
  'COLUMNS',
  'SCHEMATA',
  'ROUTINES',
  'VIEWS',
  'TRIGGERS',
  'PROCESSLIST',
  'USER_PRIVILEGES',
  'STATISTICS',
  'USER',
  'TABLE_NAME',
  'COLUMN_NAME',
  'TABLE_SCHEMA',
  'SCHEMA_NAME',
]);
const FINGERPRINT_VARS =
  /^@@(?:VERSION|DATADIR|HOSTNAME|BASEDIR|SERVERNAME|SERVICENAME|SPID|LANGUAGE|TMPDIR|PLUGIN_DIR|SECURE_FILE_PRIV|GLOBAL\.|SESSION\.)/i;
const FINGERPRINT_FUNCS = new Set([
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
  'SQLITE_VERSION',
  'CURRENT_DATABASE',
  'CONNECTION_ID',
  'LAST_INSERT_ID',
  'SUSER_NAME',
  'SUSER_SNAME',
  'IS_SRVROLEMEMBER',
  'HAS_DBACCESS',
]);
const DROP_OBJECTS = new Set([
  'TABLE',
  'DATABASE',
  'SCHEMA',
  'PROCEDURE',
  'USER',
  'VIEW',
  'INDEX',
  'FUNCTION',
  'TRIGGER',
  'LOGIN',
  'COLUMN',
  'TEMPORARY',
  'IF',
]);

const NAME_LIKE_KEYWORDS = new Set([
  'DATA',
  'TIME',
  'LOCAL',
  'MODE',
  'SHARE',
  'LINES',
  'FIELDS',
  'COLUMNS',
  'DELAY',
  'NEXT',
  'ONLY',
  'ROWS',
  'START',
  'PROGRAM',
  'DUAL',
  'LEFT',
  'RIGHT',
  'WINDOW',
  'OVER',
  'PARTITION',
  'TABLE',
  'DATABASE',
  'SCHEMA',
  'LOCK',
  'PRIOR',
  'OUTFILE',
  'DUMPFILE',
  'INFILE',
  'TERMINATED',
  'SET',
  'TOP',
  'BEGIN',
  'FETCH',
  'ASC',
  'DESC',
]);

/** Removes comments (remembering where), joins `a.b` names, absorbs unary signs into numbers. */
function fold(tokens: SqlToken[], execComment: boolean): Folded {
  const toks: Tok[] = [];
  const commentAt = new Set<number>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = toks[toks.length - 1];
    if (t.type === 'c') {
      // `DR/**/OP`, `UN/**/ION`: a keyword split by a comment with no space around it, aimed at
      // filters (and applications) that strip comments before the query reaches the database.
      const next = tokens[i + 1];
      const joined = prev && next ? prev.text + next.text : '';
      if (
        prev?.type === 'n' &&
        next?.type === 'n' &&
        prev.pos + prev.text.length === t.pos &&
        t.pos + t.text.length === next.pos &&
        (STATEMENT_KEYWORDS.has(joined) || joined === 'UNION' || joined === 'SELECT')
      ) {
        prev.text = joined;
        prev.type = joined === 'UNION' ? 'U' : 'E';
        i++;
      } else {
        commentAt.add(toks.length);
      }
      continue;
    }
    // a.b / a..b / a.b( : qualified names and package functions (utl_http.request).
    if (
      t.type === '.' &&
      prev &&
      (prev.type === 'n' || prev.type === 'f' || prev.type === 'k' || prev.type === 'v' || prev.type === '.')
    ) {
      prev.text += '.';
      prev.type = 'n';
      const next = tokens[i + 1];
      if (
        next &&
        (next.type === 'n' ||
          next.type === 'f' ||
          next.type === 'k' ||
          next.type === 'E' ||
          (next.type === 'o' && next.text === '*'))
      ) {
        prev.text += next.text;
        prev.type = next.type === 'f' ? 'f' : 'n';
        i++;
      } else if (next && next.type === '.') {
        continue;
      }
      continue;
    }
    // Unary sign/negation before a number: -1, +1, ~0, !1.
    if (
      t.type === '1' &&
      prev &&
      prev.type === 'o' &&
      (prev.text === '-' || prev.text === '+' || prev.text === '~' || prev.text === '!')
    ) {
      const before = toks[toks.length - 2];
      if (
        !before ||
        before.type === 'o' ||
        before.type === '&' ||
        before.type === '(' ||
        before.type === ',' ||
        before.type === 'E' ||
        before.type === 'k'
      ) {
        prev.type = '1';
        prev.text += t.text;
        continue;
      }
    }
    // Adjacent string literals concatenate ('a' 'b').
    if (t.type === 's' && prev && prev.type === 's' && prev.closed) {
      prev.text += t.text;
      prev.closed = t.closed === true;
      continue;
    }
    // Keywords that are also common column names (data, time, mode …) act as names.
    const tok: Tok = {
      type: t.type === 'k' && NAME_LIKE_KEYWORDS.has(t.text) ? 'n' : t.type,
      text: t.text,
      pos: t.pos,
    };
    if (t.closed !== undefined) tok.closed = t.closed;
    toks.push(tok);
  }
  return { toks, commentAt, execComment };
}

const isOperand = (t: Tok | undefined): boolean =>
  !!t && (t.type === '1' || t.type === 's' || t.type === 'v' || t.type === 'n');
const isLiteral = (t: Tok | undefined): boolean => !!t && (t.type === '1' || t.type === 's');
const word = (t: Tok | undefined, ...words: string[]): boolean => !!t && words.includes(t.text);

/** Index just past the `)` matching the `(` at `i` (or the end). Iterative, linear. */
function skipParens(toks: Tok[], i: number): number {
  let depth = 0;
  for (let j = i; j < toks.length; j++) {
    if (toks[j]!.type === '(') depth++;
    else if (toks[j]!.type === ')') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return toks.length;
}

/** End of one operand starting at i (a literal, a name, a call, a parenthesised expression), or -1. */
function operandEnd(toks: Tok[], i: number): number {
  const t = toks[i];
  if (!t) return -1;
  if (t.type === 'o' && (t.text === '-' || t.text === '+' || t.text === '~' || t.text === '!' || t.text === 'NOT')) {
    return operandEnd(toks, i + 1);
  }
  if (isOperand(t)) return i + 1;
  if (t.type === 'f') return toks[i + 1]?.type === '(' ? skipParens(toks, i + 1) : i + 1;
  if (t.type === '(') return skipParens(toks, i);
  return -1;
}

/**
 * Does a SELECT list start at i? Literals, calls, `*`, variables, `a,b`, `a.b` and
 * `col FROM` qualify; English (`select the best option`) does not.
 */
function selectListAt(toks: Tok[], i: number): { ok: boolean; strong: boolean } {
  let j = i;
  while (word(toks[j], 'ALL', 'DISTINCT', 'TOP') || (toks[j]?.type === '1' && word(toks[j - 1], 'TOP'))) j++;
  const t = toks[j];
  if (!t) return { ok: false, strong: false };
  if (
    t.type === '1' ||
    t.type === 's' ||
    t.type === 'v' ||
    t.type === 'f' ||
    t.type === '(' ||
    (t.type === 'o' && t.text === '*')
  ) {
    return { ok: true, strong: true };
  }
  if (t.type === 'n') {
    const next = toks[j + 1];
    if (!next) return { ok: true, strong: false };
    if (next.type === ',' || next.type === ')' || next.type === ';' || t.text.includes('.'))
      return { ok: true, strong: true };
    if (word(next, 'FROM', 'INTO')) return { ok: true, strong: false };
    if (next.type === 'k' && word(next, 'AS')) return { ok: true, strong: true };
    if (next.type === 'n' && (word(toks[j + 2], 'FROM') || !toks[j + 2])) return { ok: true, strong: false };
    return { ok: false, strong: false };
  }
  return { ok: false, strong: false };
}

/** What a statement keyword at i must be followed by to be SQL rather than English. */
function statementShape(toks: Tok[], i: number): number {
  const t = toks[i]!;
  const a = toks[i + 1];
  const b = toks[i + 2];
  switch (t.text) {
    case 'SELECT': {
      const s = selectListAt(toks, i + 1);
      return s.strong ? 0.9 : s.ok ? 0.7 : 0;
    }
    case 'DROP':
    case 'CREATE':
    case 'ALTER':
    case 'TRUNCATE':
      if (
        a &&
        DROP_OBJECTS.has(a.text) &&
        (isOperand(b) || word(b, 'EXISTS', 'TABLE', 'IF') || t.text === 'TRUNCATE')
      ) {
        // `drop table tennis practice` is English: SQL ends the statement after the name.
        const c = toks[i + 3];
        if (!c) return 0.6;
        // A quoted identifier (`name`, [name]) is SQL whatever follows.
        if (/^[`[]/.test(b?.text ?? '')) return 0.9;
        return c.type === 'n' || c.type === '1' || c.type === 's' ? 0 : 0.9;
      }
      return t.text === 'TRUNCATE' && a?.type === 'n' && (!b || b.type === ';') ? 0.7 : 0;
    case 'INSERT':
      return word(a, 'INTO') && (isOperand(b) || b?.type === 'f') ? 0.9 : 0;
    case 'DELETE':
      return word(a, 'FROM') && isOperand(b) ? 0.9 : 0;
    case 'UPDATE':
      return a?.type === 'n' && word(b, 'SET') ? 0.9 : 0;
    case 'EXEC':
    case 'EXECUTE':
      if (
        a?.type === 'f' ||
        a?.type === 'v' ||
        (a?.type === '(' && (b?.type === 's' || b?.type === 'v' || b?.text === '@'))
      )
        return 0.9;
      if (a?.type === 'n' && (a.text.includes('.') || /^(?:XP_|SP_|MASTER)/.test(a.text) || word(a, 'IMMEDIATE')))
        return 0.9;
      return 0;
    case 'VALUES':
      return a?.type === '(' && isLiteral(b) && (toks[i + 3]?.type === ',' || toks[i + 3]?.type === ')') ? 0.7 : 0;
    case 'DECLARE':
      return a?.type === 'v' ? 0.9 : 0;
    case 'SHUTDOWN':
      return !a || word(a, 'WITH') || a.type === ';' ? 0.8 : 0;
    case 'WAITFOR':
      return word(a, 'DELAY', 'TIME') && b?.type === 's' ? 0.95 : 0;
    case 'CALL':
      return a?.type === 'f' ? 0.7 : 0;
    case 'GRANT':
    case 'REVOKE':
      return (a?.type === 'n' || a?.type === 'k') && (word(b, 'ON', 'TO') || b?.type === ',') ? 0.7 : 0;
    case 'LOAD':
      return word(a, 'DATA') ? 0.9 : 0;
    case 'COPY':
      return a?.type === 'n' && toks.some((x, k) => k > i && word(x, 'PROGRAM'))
        ? 0.95
        : a?.type === 'n' && word(b, 'FROM', 'TO')
          ? 0.8
          : 0;
    case 'ATTACH':
      return word(a, 'DATABASE') ? 0.9 : 0;
    case 'PRAGMA':
      return a?.type === 'n' || a?.type === 'f' ? 0.6 : 0;
    case 'BACKUP':
    case 'RESTORE':
      return word(a, 'DATABASE', 'LOG') ? 0.8 : 0;
    case 'RENAME':
      return word(a, 'TABLE') ? 0.8 : 0;
    case 'DBCC':
      return a?.type === 'n' || a?.type === 'f' ? 0.6 : 0;
    default:
      return 0;
  }
}

/**
 * Where user data ends its literal in this context: the index of the first token after the
 * break-out (closing quote and any closing parentheses), or -1 if this context does not apply.
 */
function breakIndex(toks: Tok[], context: SqlContext): { at: number; lead: 'string' | 'number' | 'name' | 'none' } {
  let i = 0;
  let lead: 'string' | 'number' | 'name' | 'none' = 'none';
  if (context === '`') {
    // Inside a MySQL backtick identifier: the value's backtick closes it.
    const t = toks[0];
    if (!t || t.type !== 'n' || t.text.length < 2 || !t.text.startsWith('`') || !t.text.endsWith('`'))
      return { at: -1, lead };
    lead = 'string';
    i = 1;
  } else if (context !== 'none') {
    if (toks[0]?.type !== 's' || !toks[0].closed) return { at: -1, lead };
    lead = 'string';
    i = 1;
  } else if (toks[0] && (toks[0].type === '1' || toks[0].type === 'v')) {
    lead = 'number';
    i = 1;
  } else if (toks[0]?.type === 'n') {
    lead = 'name';
    i = 1;
  }
  while (toks[i]?.type === ')') i++;
  return { at: i, lead };
}

/** Operators that make a comparison (a truth value) between two operands. */
const COMPARISONS = new Set([
  '=',
  '==',
  '!=',
  '<>',
  '<',
  '>',
  '<=',
  '>=',
  '<=>',
  '^',
  '|',
  '&',
  '-',
  '+',
  '%',
  'LIKE',
  'ILIKE',
  'RLIKE',
  'REGEXP',
  'SIMILAR',
  'GLOB',
  'MATCH',
  'IS',
  'IN',
  'BETWEEN',
  'SOUNDS',
  'NOT',
  'NOTNULL',
  'ISNULL',
  'DIV',
  'MOD',
  'COLLATE',
  '->',
  '->>',
  '#>',
  '#>>',
  '@>',
  '<@',
  '?|',
  '?&',
  '?',
  '@?',
  '@@',
  '#-',
  '~',
  '~*',
  '!~',
  '!~*',
]);

/** Scores the comparison / boolean expression starting at i (just after AND/OR). */
function booleanScore(toks: Tok[], i: number, commentAt: Set<number>): { conf: number; end: number } {
  let j = i;
  while (
    toks[j]?.type === '(' ||
    word(toks[j], 'NOT', '{') ||
    (toks[j]?.type === 'o' && (toks[j]?.text === '!' || toks[j]?.text === '{'))
  ) {
    // MySQL reads `{identifier expr}` (the ODBC escape syntax) as `expr`: `or {if length(…)>0}`.
    if (toks[j]!.text === '{' && toks[j + 1]?.type === 'n' && toks[j + 2] && toks[j + 2]!.type !== 'o') j++;
    j++;
  }
  const a = toks[j];
  if (!a) return { conf: 0, end: j };
  if (a.type === 'E' && a.text === 'SELECT') return { conf: 0.9, end: j + 1 };
  // SQLite and MySQL (IGNORE_SPACE) allow `json (id)`, `glob (id,id)`: a call with a space before `(`.
  if (
    (a.type === 'n' || word(a, 'GLOB', 'LIKE', 'MATCH', 'REGEXP')) &&
    toks[j + 1]?.type === '(' &&
    /^[A-Z_]+$/.test(a.text)
  ) {
    const end = skipParens(toks, j + 1);
    if (end >= toks.length || toks[end]?.type === ';' || commentAt.has(end)) return { conf: 0.75, end };
  }
  if (a.type === 'f' && toks[j + 1]?.type === '(') {
    const end = skipParens(toks, j + 1);
    const op = toks[end];
    if (op?.type === 'o' && op.text !== '}' && operandEnd(toks, end + 1) > 0)
      return { conf: 0.9, end: operandEnd(toks, end + 1) };
    // `' and exists(select …)`, `' and ascii(…)` on its own is a boolean probe.
    return { conf: word(a, 'EXISTS') || toks.slice(j, end).some((x) => x.type === 'E') ? 0.85 : 0.65, end };
  }
  const aEnd = operandEnd(toks, j);
  if (aEnd < 0) return { conf: 0, end: j };
  const op = toks[aEnd];
  if (op?.type === 'o' && COMPARISONS.has(op.text)) {
    if (word(op, 'NOTNULL', 'ISNULL')) return { conf: 0.8, end: aEnd + 1 };
    // BETWEEN x AND y, IS NULL, IN (…), LIKE …
    let bStart = aEnd + 1;
    if (word(toks[bStart], 'NOT')) bStart++;
    const bEnd = operandEnd(toks, bStart);
    if (bEnd < 0) {
      if (word(op, 'IS') || word(op, 'IN')) return { conf: 0.8, end: bStart };
      // `test' or 1=` : a comparison cut where the application's own text continues.
      return { conf: bStart >= toks.length && isLiteral(a) ? 0.6 : 0, end: bStart };
    }
    const b = toks[bStart]!;
    const aTok = toks[aEnd - 1]!;
    if (isLiteral(a) && isLiteral(b)) return { conf: 0.9, end: bEnd };
    if (a.type === 'n' && b.type === 'n' && a.text === b.text) return { conf: 0.85, end: bEnd };
    if (a.type === '(' || b.type === '(' || b.type === 'f' || aTok.type === ')') return { conf: 0.85, end: bEnd };
    if (a.type === 'n' && isLiteral(b)) return { conf: 0.75, end: bEnd };
    if (isLiteral(a) && b.type === 'n') return { conf: 0.7, end: bEnd };
    return { conf: 0.6, end: bEnd };
  }
  // `' or 1--`, `' or true#`: a bare truth value, then the rest of the query commented out.
  if ((a.type === '1' || a.type === 's') && (aEnd >= toks.length || commentAt.has(aEnd) || toks[aEnd]?.type === ';')) {
    return { conf: commentAt.has(aEnd) || toks[aEnd]?.type === ';' ? 0.85 : 0.55, end: aEnd };
  }
  return { conf: 0, end: j };
}

/** `1.e`: a number MySQL ends at the `e` (no exponent digits), used as filler between tokens. */
const FILLER_NUMBER = /^[-+~!]?\d+\.[eE]$/;

/** The text inside a string literal's quotes (prefixes N/E/X/B dropped). */
function unquote(text: string): string {
  const m = /^[A-Za-z]?(['"])([\s\S]*)\1$/.exec(text);
  return m ? m[2]! : text;
}

/**
 * `SELECT <list with a credential column> FROM <name> … WHERE <a> <cmp> <literal>` (or `LIMIT n`):
 * the statement at toks[0] reads a credential by a condition.
 */
function selectsCredential(toks: Tok[]): boolean {
  const from = toks.findIndex((x) => word(x, 'FROM'));
  if (from < 2 || toks[from + 1]?.type !== 'n') return false;
  const credential = toks
    .slice(1, from)
    .some((x) => x.type === 'n' && CREDENTIAL_COLUMNS.has(x.text.slice(x.text.lastIndexOf('.') + 1)));
  if (!credential) return false;
  for (let k = from + 2; k < toks.length; k++) {
    const x = toks[k]!;
    if (word(x, 'LIMIT') && toks[k + 1]?.type === '1') return true;
    if (!word(x, 'WHERE')) continue;
    // `id=1`, `user='admin'`: a comparison with a literal (`where type = admin` is prose).
    return toks
      .slice(k + 1)
      .some(
        (y, m, a) =>
          y.type === 'o' &&
          COMPARISONS.has(y.text) &&
          isOperand(a[m - 1]) &&
          isOperand(a[m + 1]) &&
          (isLiteral(a[m - 1]) || isLiteral(a[m + 1])),
      );
  }
  return false;
}

/** `the 'select' box`: the keyword at i is a word in quotes glued to it on both sides (prose). */
function quotedKeyword(toks: Tok[], i: number): boolean {
  const prev = toks[i - 1];
  const t = toks[i]!;
  const next = toks[i + 1];
  return (
    prev?.type === 's' &&
    next?.type === 's' &&
    prev.pos + prev.text.length === t.pos &&
    t.pos + t.text.length === next.pos
  );
}

function span(toks: Tok[], from: number, to: number, textLen: number): { from: number; to: number } {
  const a = toks[Math.max(0, Math.min(from, toks.length - 1))];
  const b = toks[Math.min(to, toks.length)];
  return { from: a ? a.pos : 0, to: b ? b.pos : textLen };
}

const SQL_TYPES = new Set([
  'INT',
  'INTEGER',
  'BIGINT',
  'SMALLINT',
  'TEXT',
  'VARCHAR',
  'NVARCHAR',
  'CHAR',
  'NUMERIC',
  'DECIMAL',
  'FLOAT',
  'REAL',
  'DOUBLE',
  'BOOLEAN',
  'BOOL',
  'JSON',
  'JSONB',
  'REGCLASS',
  'OID',
  'BYTEA',
  'DATE',
  'TIMESTAMP',
  'XML',
  'INT4',
  'INT8',
]);
const EQUALITIES = new Set(['=', '==', '!=', '<>', 'LIKE']);
const ORDERINGS = new Set([...EQUALITIES, '<', '>', '<=', '>=']);
const JSON_OPERATORS = new Set(['->', '->>', '#>', '#>>', '@>', '<@', '#-', '@?', '@@', '?|', '?&']);
const CLAUSE_STARTS = new Set(['FROM', 'WHERE', 'HAVING', 'ORDER', 'GROUP']);

/** All rule candidates for one context. */
function evaluate(f: Folded, context: SqlContext, textLen: number): Candidate[] {
  const { toks, commentAt } = f;
  const out: Candidate[] = [];
  const add = (rule: Rule, confidence: number, from: number, to: number): void => {
    if (confidence <= 0) return;
    out.push({ rule, confidence, ...span(toks, from, to, textLen) });
  };
  // Comments *between* tokens (used as whitespace: `UNION/**/SELECT`) only make sense to SQL.
  const inlineComments = [...commentAt].some((k) => k > 0 && k < toks.length);
  const brk = breakIndex(toks, context);
  // Confidence multiplier for the position where the break-out happens.
  const leadWeight = brk.lead === 'string' || brk.lead === 'number' ? 1 : brk.lead === 'name' ? 0.75 : 0.9;
  const endsInComment = commentAt.has(toks.length);

  // Anchored rules: what follows the break-out.
  if (brk.at >= 0) {
    const i = brk.at;
    const t = toks[i];
    const quoted = brk.lead === 'string';
    if (t?.type === '&') {
      const b = booleanScore(toks, i + 1, commentAt);
      let conf = b.conf;
      // `a'or'a`, `'or 1`: logic glued to the closing quote, the application closes the rest.
      const glued = quoted && t.pos === toks[i - 1]!.pos + toks[i - 1]!.text.length;
      // `x\' and 1`: the value's own backslash before the quote is aimed at escaping that doubles
      // quotes (`\'` → `\''`, an escaped quote and a closing one in MySQL): as deliberate as glue.
      const escaped = quoted && context !== '`' && toks[0]!.text.endsWith('\\' + context);
      const last = toks[i + 1];
      if (
        conf < 0.6 &&
        (glued || escaped) &&
        i + 2 === toks.length &&
        (isLiteral(last) || (last?.type === 'n' && last.text.startsWith('`')))
      )
        conf = 0.6;
      // `' and email not similar to id--`: a condition, then the rest of the query cut away.
      if (conf < 0.75 && quoted && endsInComment && toks.length - i <= 10) conf = 0.75;
      add(RULES.tautology, conf * leadWeight, Math.max(0, i - 1), b.end);
    }
    if (quoted && commentAt.has(i)) {
      // `admin'--`: the closing quote, then everything after commented away.
      add(RULES.comment, toks.length - i <= 2 ? 0.8 : 0.7, 0, i);
    }
    if (t?.type === 'k' && brk.lead !== 'none' && brk.lead !== 'name') {
      const a = toks[i + 1];
      if (
        (word(t, 'ORDER', 'GROUP') && word(a, 'BY') && isOperand(toks[i + 2])) ||
        word(t, 'HAVING') ||
        (word(t, 'LIMIT') && a?.type === '1') ||
        (word(t, 'PROCEDURE') && word(a, 'ANALYSE')) ||
        (word(t, 'INTO') && word(a, 'OUTFILE', 'DUMPFILE'))
      ) {
        add(RULES.clause, 0.85, i, Math.min(toks.length, i + 4));
      }
    }
    if (t?.type === 'E' && brk.lead !== 'none' && brk.lead !== 'name' && !quotedKeyword(toks, i)) {
      // MSSQL runs `'waitfor delay '0:0:5'--` and `') select …` without a `;`.
      const shape = statementShape(toks, i);
      add(RULES.stacked, shape >= 0.9 ? shape : quoted && shape > 0 ? 0.6 : 0, i, i + 3);
    }
    if (t?.type === 'U' && quoted && word(toks[i + 1], 'SELECT', 'ALL', 'DISTINCT')) {
      add(RULES.union, 0.8, i, i + 2);
    }
    if (t?.type === 'o' && quoted) {
      const next = toks[i + 1];
      if (t.text !== '=' && next?.type === '(' && toks[i + 2]?.type === 'E') add(RULES.clause, 0.9, i, i + 3);
      else if (t.text !== '=' && next?.type === 'f' && toks[i + 2]?.type === '(')
        add(RULES.clause, 0.65, i, skipParens(toks, i + 2));
      // `user'collate nocase--`, `x'|email--`, `id'is not-id--`: operator expression, rest cut.
      if (endsInComment && toks.length - i <= 8) add(RULES.tautology, 0.75, i - 1, toks.length);
      // `'glob 1;`: a comparison with a literal, then `;` ends the statement (SQLite prepares only
      // the first statement, so the application's closing quote is never parsed).
      else if (COMPARISONS.has(t.text) && isLiteral(next) && toks[i + 2]?.type === ';' && i + 3 === toks.length)
        add(RULES.tautology, 0.7, i - 1, toks.length);
      // `'=' 'or'`: `…='' = ' ' or ''`, a comparison chained into OR/AND; the application closes the rest.
      const rhsEnd = COMPARISONS.has(t.text) ? operandEnd(toks, i + 1) : -1;
      if (rhsEnd > 0 && toks[rhsEnd]?.type === '&') {
        const rest = booleanScore(toks, rhsEnd + 1, commentAt);
        const lone = rhsEnd + 2 === toks.length && isLiteral(toks[rhsEnd + 1]);
        add(RULES.tautology, Math.max(rest.conf, lone ? 0.7 : 0), i - 1, Math.max(rest.end, rhsEnd + 2));
      }
      if (word(t, 'NOTNULL', 'ISNULL')) add(RULES.tautology, 0.7, i - 1, i + 1);
    }
    if (t?.type === ';' && quoted && (i + 1 >= toks.length || commentAt.has(i + 1))) {
      add(RULES.comment, 0.7, 0, i + 1);
    }
  }

  // An identity anywhere in the as-is context: `'admin', '1'='1'`, `b,1=1`.
  if (context === 'none') {
    for (let k = 0; k + 2 < toks.length; k++) {
      const [a, op, b] = [toks[k]!, toks[k + 1]!, toks[k + 2]!];
      const before = toks[k - 1];
      if (
        isLiteral(a) &&
        isLiteral(b) &&
        a.text === b.text &&
        (op.text === '=' || op.text === '==' || word(op, 'LIKE'))
      ) {
        if (k > 0 && (before?.type === ',' || before?.type === '(' || before?.type === '&' || before?.type === 'o')) {
          add(RULES.tautology, 0.65, k, k + 3);
          break;
        }
      }
    }
    // `hash = 'abc', 0x1a`, `product = 'item', (5)`: a whole value that is an SQL expression list
    // (a column compared to a literal, then a literal in SQL-only syntax: hex/binary or parenthesised),
    // which only a select list or ORDER BY accepts.
    const [c0, c1, c2, c3, c4] = toks;
    const sqlOnlyLiteral =
      (toks.length === 5 && c4?.type === '1' && /^0[xXbB]/.test(c4.text)) ||
      (toks.length === 7 && c4?.type === '(' && isLiteral(toks[5]) && toks[6]?.type === ')');
    if (
      c0?.type === 'n' &&
      c1?.type === 'o' &&
      COMPARISONS.has(c1.text) &&
      isLiteral(c2) &&
      c3?.type === ',' &&
      sqlOnlyLiteral
    ) {
      add(RULES.clause, 0.65, 0, toks.length);
    }
    // `) AS alias FROM`, `` ` AS `x` from ``: a select-list fragment closing a column expression.
    const [a0, a1, a2, a3] = toks;
    if (
      a0 &&
      (a0.type === ')' || a0.text.startsWith('`')) &&
      word(a1, 'AS') &&
      (a2?.type === 'n' || a2?.type === 's') &&
      word(a3, 'FROM')
    ) {
      add(RULES.clause, 0.65, 0, 4);
    }
  }

  // Whole-value expressions in the as-is context: `1=1`, `'1'='1`, `x::int`.
  if (context === 'none' && toks.length >= 3 && toks.length <= 6) {
    const [a, op, b] = toks;
    if (
      isLiteral(a) &&
      op?.type === 'o' &&
      isLiteral(b) &&
      (toks.length === 3 || endsInComment || toks[3]?.type === '&')
    ) {
      // `'x'!='y`: the last string is left open for the application's own closing quote.
      const openEnded =
        a!.type === 's' && a!.closed === true && b!.type === 's' && !b!.closed && EQUALITIES.has(op.text);
      add(RULES.tautology, a!.text === b!.text || endsInComment || openEnded ? 0.65 : 0.45, 0, 3);
    }
    // `'{"a":2}' < '$.a' = 7`: two strings compared and the truth value compared again (JSON path probes).
    const [, , , op2, c] = toks;
    if (
      toks.length === 5 &&
      a?.type === 's' &&
      b?.type === 's' &&
      ORDERINGS.has(op?.text ?? '') &&
      ORDERINGS.has(op2?.text ?? '') &&
      isLiteral(c)
    ) {
      add(RULES.tautology, 0.65, 0, 5);
    }
  }

  // Unanchored rules: dangerous structures anywhere in the value.
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const prev = toks[i - 1];
    if (t.type === '1' && FILLER_NUMBER.test(t.text)) {
      const next = toks[i + 1];
      const a = toks[i + 2];
      if (next && a && next.pos === t.pos + t.text.length) {
        // `1.e(ascii …`: MySQL drops the filler before `(`; the call must look like SQL, not `1.e(if any)`.
        const call =
          next.type === '(' &&
          (a.type === 'f' || word(a, 'SELECT') || SQL_FUNCTIONS.has(a.text)) &&
          (!toks[i + 3] || /^[()1,]$/.test(toks[i + 3]!.type));
        if (call) add(RULES.filler, 0.8, i, i + 3);
        else if (next.type === '.' && FILLER_QUALIFIED.has(a.text)) add(RULES.filler, 0.75, i, i + 3);
      }
    }
    if (t.type === 'U') {
      let j = i + 1;
      if (word(toks[j], 'ALL', 'DISTINCT', 'DISTINCTROW')) j++;
      let paren = false;
      while (toks[j]?.type === '(') {
        j++;
        paren = true;
      }
      const lead =
        (!!prev && (prev.type === '1' || prev.type === 's' || prev.type === ')' || prev.type === 'v')) ||
        commentAt.has(i);
      if (toks[j]?.type === 'E' && toks[j]!.text === 'SELECT') {
        const s = selectListAt(toks, j + 1);
        if (s.strong || paren) add(RULES.union, lead || i === 0 ? 0.95 : 0.75, i, j + 2);
        else if (s.ok && toks.some((x, k) => k > j && word(x, 'FROM')))
          add(RULES.union, lead || i === 0 ? 0.8 : 0.6, i, j + 2);
        else if (s.ok || j + 1 >= toks.length) {
          // A whole value of `UNION SELECT` alone is a probe for the column count.
          add(RULES.union, lead ? 0.75 : i === 0 && j + 1 >= toks.length ? 0.6 : 0.5, i, j + 2);
        }
      } else if (word(toks[j], 'VALUES') && toks[j + 1]?.type === '(') {
        // `EXCEPT VALUES(1,2)`, `UNION VALUES(…)`.
        add(RULES.union, 0.7, i, j + 2);
      } else if (j >= toks.length && lead && word(toks[i + 1], 'ALL')) {
        // `2 union all`: the start of a UNION probe after a numeric value.
        add(RULES.union, prev?.type === '1' ? 0.65 : 0.55, i, j);
      }
    } else if (t.type === ';') {
      const next = toks[i + 1];
      if (next?.type === 'E') {
        const shape = statementShape(toks, i + 1);
        // `; insert into`, `;update users`, `;drop`: a statement cut where the payload ends.
        const stub =
          (word(next, 'INSERT') && word(toks[i + 2], 'INTO')) ||
          (word(next, 'UPDATE', 'DELETE', 'DROP', 'TRUNCATE', 'SHUTDOWN') && i + 3 >= toks.length);
        add(RULES.stacked, shape > 0 ? (shape < 0.9 && endsInComment ? 0.85 : shape) : stub ? 0.65 : 0, i, i + 3);
      } else if (word(next, 'SET') && toks[i + 2]?.type === 'v') add(RULES.stacked, 0.8, i, i + 3);
      else if (word(next, 'REPLACE') && toks.slice(i + 2, i + 14).some((x) => word(x, 'VALUES', 'INTO', 'SELECT'))) {
        // MySQL `REPLACE [INTO] t (…) VALUES (…)` after `;`.
        add(RULES.stacked, 0.8, i, i + 3);
      }
    } else if (t.text === 'SELECT' && t.type === 'E' && toks[i + 1] && TIME_FUNCS.has(toks[i + 1]!.text)) {
      add(RULES.time, toks[i + 2]?.type === '(' ? 0.9 : 0.7, i, i + 2);
    } else if (t.type === 'E' && (i === 0 || prev?.type === '(')) {
      // A whole statement as the value, or a parenthesised subquery.
      const shape = statementShape(toks, i);
      const hasFrom = toks.some((x, k) => k > i && word(x, 'FROM', 'INTO', 'WHERE'));
      if (shape > 0) {
        let conf =
          t.text === 'SELECT' ? (shape < 0.9 ? (i > 0 && hasFrom ? 0.75 : 0.5) : hasFrom ? 0.8 : 0.65) : shape - 0.05;
        if (inlineComments || endsInComment) conf += 0.2;
        // `… WHERE id = 1`, `… HAVING COUNT(x) >= 9`: a condition makes the statement complete.
        const cond = toks.findIndex((x, k) => k > i && word(x, 'WHERE', 'HAVING'));
        if (shape >= 0.9 && cond > 0 && toks.slice(cond).some((x) => x.type === 'o' && COMPARISONS.has(x.text)))
          conf += 0.1;
        // `SELECT password FROM users WHERE id=1`: a credential column read by a condition is an
        // extraction query, where `SELECT name FROM products WHERE price < 20` stays a weak signal.
        if (t.text === 'SELECT' && i === 0 && selectsCredential(toks)) conf = Math.max(conf, 0.7);
        add(i === 0 ? RULES.statement : RULES.clause, conf, i, i + 4);
      } else if (
        i === 0 &&
        word(t, 'DROP') &&
        toks[1]?.type === 'n' &&
        (toks[2]?.type === ';' || commentAt.has(2) || commentAt.has(1))
      ) {
        add(RULES.statement, commentAt.has(1) ? 0.8 : 0.7, 0, 2);
      } else if (t.text === 'SELECT' && toks[i + 1] && TIME_FUNCS.has(toks[i + 1]!.text)) {
        add(RULES.time, 0.7, i, i + 2);
      }
    } else if (t.type === 'E' && prev && prev.type !== 'n' && prev.type !== 'E' && prev.type !== 'k') {
      // `a=/CREATE TABLE x`, `1 DROP TABLE users`: a complete statement inside the value. After
      // sentence punctuation (`Forgot password? Select "Reset" from the menu`) it is prose.
      const sentence = prev.type === 'o' && (prev.text === '?' || prev.text === '!') && t.pos > prev.pos + 1;
      if (!sentence && !quotedKeyword(toks, i) && statementShape(toks, i) >= 0.9) add(RULES.stacked, 0.75, i, i + 3);
    } else if (t.type === 'f' || t.type === 'n') {
      const name = t.text;
      const call = toks[i + 1]?.type === '(';
      const exprLead = !prev || prev.type !== 'n';
      if (TIME_FUNCS.has(name) && call && exprLead) {
        const first = toks[i + 2];
        const argsEnd = skipParens(toks, i + 1);
        // `sleep(8 hours)` is English; `sleep(20.to_i)` and `sleep(5)` are not.
        const prose = toks
          .slice(i + 2, argsEnd)
          .some(
            (x, k, a) =>
              x.type === 'n' &&
              (a[k - 1]?.type === 'n' || (a[k - 1]?.type === '1' && x.pos > a[k - 1]!.pos + a[k - 1]!.text.length)),
          );
        if (
          first &&
          !prose &&
          (first.type === '1' ||
            first.type === '(' ||
            first.type === 'f' ||
            first.type === 'v' ||
            first.type === 's' ||
            first.type === 'E')
        ) {
          add(RULES.time, 0.9, i, argsEnd);
        } else if (!first) {
          add(RULES.time, 0.5, i, i + 2);
        }
      } else if (OOB_NAMES.has(name) || OOB_NAMES.has(name.replace(/^(?:MASTER|SYS|DBO)?\.+(?:DBO\.)?/, ''))) {
        // A provider name outside quotes (`the MSDASQL driver`) is prose more often than SQL.
        const conf = call || prev?.type === 'E' ? 0.95 : OLEDB_PROVIDERS.has(name) ? 0.45 : 0.6;
        add(RULES.oob, conf, i, call ? skipParens(toks, i + 1) : i + 1);
      } else if (ERROR_FUNCS.has(name) && call && exprLead) {
        add(RULES.error, 0.9, i, skipParens(toks, i + 1));
      } else if (
        call &&
        exprLead &&
        (name === 'FLOOR' || name === 'EXP') &&
        (word(toks[i + 2], 'RAND') || toks[i + 2]?.text === '~')
      ) {
        add(RULES.error, 0.85, i, skipParens(toks, i + 1));
      } else if (CATALOG_NAMES.some((c) => name === c || name.startsWith(c + '.'))) {
        add(RULES.catalog, word(prev, 'FROM', 'JOIN') || prev?.type === '.' ? 0.9 : 0.5, i, i + 1);
      } else if (
        call &&
        FINGERPRINT_FUNCS.has(name) &&
        toks[i + 2]?.type === ')' &&
        prev &&
        (prev.type === 'o' || prev.type === '&' || prev.type === ',' || prev.type === '(' || prev.type === 'E')
      ) {
        add(RULES.catalog, 0.7, i, i + 3);
      }
    } else if (t.type === 'v' && FINGERPRINT_VARS.test(t.text)) {
      const inExpr =
        !!prev &&
        (prev.type === 'o' || prev.type === '&' || prev.type === ',' || prev.type === '(' || prev.type === 'E');
      add(RULES.catalog, inExpr ? 0.85 : 0.65, i, i + 1);
    } else if (t.type === 's' && t.closed && OLEDB_PROVIDERS.has(unquote(t.text).toUpperCase())) {
      add(RULES.oob, 0.75, i, i + 1);
    } else if (word(t, 'PROCEDURE') && word(toks[i + 1], 'ANALYSE')) {
      add(RULES.clause, 0.8, i, i + 2);
    } else if (t.type === 'k' && word(t, 'INTO') && word(toks[i + 1], 'OUTFILE', 'DUMPFILE')) {
      add(RULES.oob, 0.95, i, i + 3);
    } else if (word(t, 'PROGRAM') && toks[i + 1]?.type === 's' && toks.some((x) => word(x, 'COPY'))) {
      add(RULES.oob, 0.95, i, i + 2);
    } else if (
      t.type === '&' &&
      i > 0 &&
      isLiteral(toks[i + 1]) &&
      toks[i + 2]?.type === 'o' &&
      isLiteral(toks[i + 3]) &&
      !word(toks[i + 2], 'IS')
    ) {
      // Chained condition anywhere: `… AND 2771=1709)` (sqlmap's boolean probes use 3+ digit numbers).
      const a = toks[i + 1]!.text;
      const b = toks[i + 3]!.text;
      const lit = a === b ? 0.75 : /^\d{3,}$/.test(a) && /^\d{3,}$/.test(b) ? 0.7 : 0.45;
      add(RULES.tautology, lit, i, i + 4);
    } else if (
      t.type === 'o' &&
      t.text === '::' &&
      prev &&
      (prev.type === 'n' || prev.type === ')' || prev.type === 's' || prev.type === '1') &&
      SQL_TYPES.has(toks[i + 1]?.text ?? '')
    ) {
      // PostgreSQL casts: `password::int`, `…)::jsonb` (error-based extraction, JSON tricks).
      add(RULES.error, prev.type === ')' ? 0.75 : 0.65, i - 1, i + 2);
    } else if (
      t.type === 'o' &&
      JSON_OPERATORS.has(t.text) &&
      prev?.type === 's' &&
      (toks[i + 1]?.type === 's' || toks[i + 1]?.type === '1')
    ) {
      add(RULES.tautology, 0.6, i - 1, i + 2);
    } else if (i === 0 && t.type === 'k' && CLAUSE_STARTS.has(t.text)) {
      // A bare clause as the value: `FROM t WHERE name="x";`.
      // `HAVING COUNT(CustomerID) > 5` also counts: an aggregate condition is SQL only.
      const having = word(t, 'HAVING') && toks[1]?.type === 'f';
      const cmp = toks.findIndex(
        (x, k) =>
          k > 1 &&
          x.type === 'o' &&
          (x.text === '=' || (having && COMPARISONS.has(x.text))) &&
          (isOperand(toks[k - 1]) || toks[k - 1]?.type === ')') &&
          isOperand(toks[k + 1]),
      );
      if (cmp > 0 && (having || toks.some((x) => word(x, 'WHERE', 'HAVING')))) add(RULES.clause, 0.7, 0, cmp + 2);
    }
  }
  if (out.length > 0 && (f.execComment || inlineComments)) {
    // `/*!50000union*/`, `UNION/**/SELECT`: only SQL (and an attacker) writes comments there.
    for (const c of out) c.confidence = Math.min(1, c.confidence + (f.execComment ? 0.15 : 0.1));
  }
  return out;
}

/**
 * Words that keep a plain value on the slow path: every reserved word, and every part of the
 * names that score on their own, without a call or a keyword around them (OOB procedures such
 * as `xp_cmdshell`, catalog names such as `information_schema.tables`).
 */
const PLAIN_BLOCKERS: ReadonlySet<string> = new Set([
  ...RESERVED_WORDS,
  ...[...OOB_NAMES, ...CATALOG_NAMES].flatMap((name) => name.split(/[.$]+/).filter(Boolean)),
]);

/**
 * A value that starts with a number (any sign, any lexer form: `0x1f`, `1.e`, `2e5`) and an operator
 * the plain set allows: the shape of the whole-value rule (`1-1`). Loose on purpose: it may match
 * more than the lexer would read as `number operator`, never less.
 */
const NUMBER_THEN_OPERATOR = /^[\s-]*(?:0[xX][0-9a-fA-F]+|0[bB][01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d*)?)\s*[-/:@]/;

/**
 * Pre-filter: true when `value` provably yields no hit from `analyzeSql` at any sensitivity, so
 * the lexer can be skipped. Such a value is made only of letters, digits and ` _.,:@/-`
 * (no quote, so only the as-is context applies; no `(`, `;`, `=`, `*`, `#`, `%`, `+`, so no call,
 * stacked query, comparison, block comment or encoded payload), has no reserved word (so every
 * word lexes as a plain name) and no part of a name that scores alone. What is left can still
 * form four rules, which are checked here: `@@version` (fingerprint variables), `x::int`
 * (casts), `1.e.tables` (the MySQL number filler) and a whole value `1-1` / `2/2` (a number, an
 * operator, a number).
 */
export function cannotBeSql(value: string): boolean {
  if (value.includes('@@') || value.includes('::')) return false;
  // `1.e.tables`: the MySQL filler before a qualified name (plain characters, no reserved word).
  if (value.includes('.e.') || value.includes('.E.')) return false;
  if (NUMBER_THEN_OPERATOR.test(value)) return false;
  return visitPlainWords(value, (word) => !PLAIN_BLOCKERS.has(word));
}

export interface SqlAnalysis {
  hits: Hit[];
  /** True when the deadline or token cap stopped lexing. */
  truncated: boolean;
}

/** Look-alike quotes that some back ends (best-fit charset conversion) turn into `'`. */
const QUOTE_LOOKALIKES = /[\u2018\u2019\u201b\u00b4\u02b9\u02bc\uff07]/g;
const HAS_QUOTE_LOOKALIKE = /[\u2018\u2019\u201b\u00b4\u02b9\u02bc\uff07]/;

/**
 * Evaluates `value` in every applicable context and returns every candidate hit (unfiltered by
 * sensitivity; see detect-util.selectHits). Pure; linear in the value.
 */
export function analyzeSql(value: string, deadline = Infinity): SqlAnalysis {
  const hits: Hit[] = [];
  let truncated = false;
  const run = (text: string, context: SqlContext, backslashEscapes: boolean, note: string, penalty: number): void => {
    const prefixed = context === 'none' ? text : context + text;
    const lexed = lexSql(prefixed, { deadline, backslashEscapes });
    truncated ||= lexed.truncated;
    const folded = fold(lexed.tokens, lexed.mysqlExecComment);
    const offset = context === 'none' ? 0 : 1;
    const cands = evaluate(folded, context, prefixed.length).map((c) => ({ ...c, from: c.from - offset }));
    // SQL shown as code in a markdown comment is documentation, not an injection.
    discountMarkdownCode(text, cands);
    for (const c of cands) {
      const fragment = text.slice(Math.max(0, c.from), Math.max(0, c.to - offset)).trim() || text.slice(0, 200);
      const where = context === 'none' ? '' : ` (breaks out of a ${context}-quoted string${note})`;
      hits.push({
        attackType: 'sqli',
        ruleId: c.rule.id,
        severity: c.rule.severity,
        confidence: Math.round(Math.max(0, Math.min(1, c.confidence - penalty)) * 100) / 100,
        fragment,
        reason: c.rule.reason + where,
      });
    }
  };
  const variants: Array<[string, string, number]> = [[value, '', 0]];
  if (HAS_QUOTE_LOOKALIKE.test(value)) {
    variants.push([value.replace(QUOTE_LOOKALIKES, "'"), ', look-alike quotes', 0.1]);
  }
  for (const [text, note, penalty] of variants) {
    run(text, 'none', true, note, penalty);
    for (const q of ["'", '"', '`'] as const) {
      if (!text.includes(q)) continue;
      run(text, q, true, note, penalty);
      // `\'` closes the string on every engine but MySQL.
      if (text.includes('\\' + q)) run(text, q, false, `${note}, backslash taken literally`, penalty);
    }
  }
  return { hits, truncated };
}
