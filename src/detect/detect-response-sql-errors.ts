import type { Detector } from '../core/model.js';
import { matchResponseRules } from './detect-response-view.js';

/*
 * Database error text in a response: the classic sign that an injection reached the query
 * (error-based SQLi) and an information leak on its own (engine, query shape, paths).
 * One pattern per engine message family; the first match per engine is reported.
 */

interface SqlErrorRule {
  engine: string;
  ruleId: string;
  pattern: RegExp;
}

const RULES: readonly SqlErrorRule[] = [
  {
    engine: 'MySQL',
    ruleId: 'ST-RESP-SQL-MYSQL',
    pattern:
      /You have an error in your SQL syntax|MySQL server version for the right syntax|\bWarning: mysqli?_\w+\(\)|\bmysqli?_(?:query|fetch_\w+|num_rows|connect)\(\)|\bERROR \d{4} \([0-9A-Z]{5}\)|\bcom\.mysql\.jdbc\.|\bMySqlException\b|Unknown column '[^']{1,64}' in '/,
  },
  {
    engine: 'PostgreSQL',
    ruleId: 'ST-RESP-SQL-PGSQL',
    pattern:
      /\bpg_(?:query|exec|execute|prepare|connect|fetch_\w+)\(\)|\bERROR:\s+(?:syntax error at or near|invalid input syntax for|unterminated quoted string|column "[^"]{1,64}" does not exist|relation "[^"]{1,64}" does not exist)|\bPSQLException\b|\borg\.postgresql\.|\bPG::\w+Error\b|\bNpgsql\.\w*Exception\b/,
  },
  {
    engine: 'Microsoft SQL Server',
    ruleId: 'ST-RESP-SQL-MSSQL',
    pattern:
      /Unclosed quotation mark after the character string|Incorrect syntax near\b|\[Microsoft\]\[ODBC SQL Server Driver\]|\[SQL Server\]|System\.Data\.SqlClient\.SqlException|Microsoft\.Data\.SqlClient\.SqlException|Conversion failed when converting the \w+ value|\bmssql_(?:query|execute)\(\)|OLE DB Provider for SQL Server/,
  },
  {
    engine: 'Microsoft Access',
    ruleId: 'ST-RESP-SQL-ACCESS',
    pattern:
      /Microsoft (?:Access|JET) (?:Database Engine|Driver)|ODBC Microsoft Access Driver|Syntax error \(missing operator\) in query expression/,
  },
  {
    engine: 'Oracle',
    ruleId: 'ST-RESP-SQL-ORACLE',
    pattern:
      /\bORA-\d{5}\b|\bOracle (?:error|ODBC|Driver)\b|\boci_(?:parse|execute)\(\)|quoted string not properly terminated/,
  },
  {
    engine: 'IBM DB2',
    ruleId: 'ST-RESP-SQL-DB2',
    pattern: /\bDB2 SQL [Ee]rror\b|\bSQLCODE=-?\d+|\[IBM\]\[CLI Driver\]/,
  },
  {
    engine: 'SQLite',
    ruleId: 'ST-RESP-SQL-SQLITE',
    pattern:
      /\bSQLite3?::\w+\(\)|\bsqlite3\.(?:Operational|Programming)Error\b|\bSQLITE_ERROR\b|\bSQLiteException\b|unrecognized token: "|near "[^"\n]{1,40}": syntax error/,
  },
  {
    engine: 'Sybase',
    ruleId: 'ST-RESP-SQL-SYBASE',
    pattern: /\bSybase(?: message)?: Server message|\bsybase_query\(\)|\bSybSQLException\b/,
  },
  {
    engine: 'Informix',
    ruleId: 'ST-RESP-SQL-INFORMIX',
    pattern: /\bInformix ODBC Driver\b|\bifx_(?:query|prepare)\(\)|\bcom\.informix\.jdbc\b/,
  },
  { engine: 'Ingres', ruleId: 'ST-RESP-SQL-INGRES', pattern: /\[Ingres(?: ODBC Driver)?\]|\bingres_query\(\)/ },
  {
    engine: 'InterBase/Firebird',
    ruleId: 'ST-RESP-SQL-FIREBIRD',
    pattern: /\bDynamic SQL Error\b|\bibase_query\(\)|\bFirebirdSql\.\w+Exception\b/,
  },
  { engine: 'FrontBase', ruleId: 'ST-RESP-SQL-FRONTBASE', pattern: /\[FrontBase(?: Inc\.)?\]|\[FrontBase ODBC\]/ },
  {
    engine: 'HSQLDB',
    ruleId: 'ST-RESP-SQL-HSQLDB',
    pattern: /\borg\.hsqldb\.jdbc\b|Unexpected end of command in statement \[/,
  },
  { engine: 'MaxDB', ruleId: 'ST-RESP-SQL-MAXDB', pattern: /\bmaxdb(?:_|::)query\(\)|\bSQL error -\d+ POS\(\d+\)/ },
  { engine: 'Documentum', ruleId: 'ST-RESP-SQL-DOCUMENTUM', pattern: /\[DM_QUERY_E_\w+\]/ },
  { engine: 'JDBC', ruleId: 'ST-RESP-SQL-JDBC', pattern: /\bjava\.sql\.SQL\w*Exception\b|\bSQLSTATE\[[0-9A-Z]{5}\]/ },
];

/** Database error messages in responses (error-based SQL injection, information leak). */
export const responseSqlErrorsDetector: Detector = {
  id: 'response-sql-errors',
  inspectResponse(_exchange, ctx) {
    return matchResponseRules(ctx.response.text, RULES, {
      attackType: 'leak_sql_error',
      severity: 'high',
      confidence: 0.9,
      reason: (rule) => `${rule.engine} error message in the response`,
    });
  },
};
