import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { hitCollector, type Rule } from './detect-kit.js';

/*
 * NoSQL (MongoDB) operator injection and ORM lookup-operator injection.
 *
 * Operators reach a query as *keys*: `user[$ne]=x` in a query string or form, `{"$gt": ""}`
 * in JSON, or a JSON object smuggled as a string value. Keys are judged from key points and
 * from the location path (whatever bracket syntax the decoder unfolded). `$where`,
 * `$function` and `$accumulator` run JavaScript on the server; a `$ne` mentioned in prose is
 * not a key and is not reported. Django-style `field__startswith` lookups in parameter
 * names expose filters an API never meant to offer (CRS 934210/934220).
 */

const R = {
  operator: { id: 'ST-NOSQL-001', attackType: 'nosql_injection', severity: 'high' },
  jsOperator: { id: 'ST-NOSQL-002', attackType: 'nosql_injection', severity: 'critical' },
  jsBreakout: { id: 'ST-NOSQL-003', attackType: 'nosql_injection', severity: 'high' },
  ormLookup: { id: 'ST-NOSQL-004', attackType: 'nosql_injection', severity: 'medium' },
} satisfies Record<string, Rule>;

const JS_OPS = new Set(['$where', '$function', '$accumulator', '$expr']);
const OPS = new Set([
  '$ne',
  '$eq',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$regex',
  '$options',
  '$exists',
  '$or',
  '$and',
  '$nor',
  '$not',
  '$elemmatch',
  '$size',
  '$all',
  '$type',
  '$mod',
  '$text',
  '$search',
  '$jsonschema',
  '$lookup',
  '$merge',
  '$out',
  '$set',
  '$unset',
  '$rename',
  '$inc',
  '$push',
  '$comment',
  '$natural',
  '$slice',
]);

const ORM_LOOKUPS =
  /__(?:i?exact|i?contains|in|gt|gte|lt|lte|i?startswith|i?endswith|range|isnull|i?regex|search|has_key|has_keys|has_any_keys|contained_by|contains|overlap|year|month|day|week_day|date|len|trigram_similar|unaccent)$/i;

/** Operator names found in a key or a location path segment. */
function operatorsIn(s: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[.[\]"'{,\s])(\$[A-Za-z]+)(?=$|[.[\]"':}\s])/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const op = m[1]!.toLowerCase();
    if (OPS.has(op) || JS_OPS.has(op)) out.push(op);
  }
  return out;
}

type Add = ReturnType<typeof hitCollector>['add'];

function judgeOps(ops: string[], where: string, frag: string, add: Add, base: number): void {
  const js = ops.find((o) => JS_OPS.has(o));
  if (js) add(R.jsOperator, 0.95, frag, `MongoDB ${js} (server-side JavaScript) in ${where}`);
  else if (ops.length > 0) add(R.operator, base, frag, `MongoDB operator ${ops[0]} in ${where}`);
}

/** NoSQL injection detector. */
export const nosqlDetector: Detector = {
  id: 'nosql_injection',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const v = point.value;
    const c = hitCollector(ctx);
    const loc = point.location;
    const inJson = loc.startsWith('body.json') || loc.startsWith('body.graphql');
    if (point.kind === 'key') {
      const ops = operatorsIn(v).concat(v.startsWith('$') ? operatorsIn(` ${v} `) : []);
      // JSON APIs that accept Mongo filters on purpose exist; in a query string or form a
      // `[$ne]` key never is a normal parameter.
      judgeOps(ops, inJson ? 'a JSON key' : 'a parameter name', v, c.add, inJson ? 0.75 : 0.9);
      const lastKey =
        v
          .split(/[.[\]]/)
          .filter(Boolean)
          .pop() ?? v;
      if (ORM_LOOKUPS.test(lastKey) || ORM_LOOKUPS.test(v)) {
        const hops = (v.match(/__/g) ?? []).length;
        c.add(R.ormLookup, hops >= 2 ? 0.75 : 0.65, v, `ORM lookup operator in parameter name ${v}`);
      }
      return c.hits;
    }
    if (v.length < 3 || (!v.includes('$') && !/['"]|\bdb\.|\bthis\./.test(v))) return c.hits;
    // Operators unfolded by the decoder into the location (`query.user.$ne`, `query.user[$ne]`).
    if (v.length < 4096 && /\$[a-z]/i.test(loc))
      judgeOps(operatorsIn(loc), 'the parameter path', `${loc}=${v.slice(0, 60)}`, c.add, inJson ? 0.75 : 0.9);
    const s = v.length > 16384 ? v.slice(0, 16384) : v;
    const bracketOp = /\[\s*(\$[a-z]+)\s*\]\s*=/i.exec(s);
    if (bracketOp && (OPS.has(bracketOp[1]!.toLowerCase()) || JS_OPS.has(bracketOp[1]!.toLowerCase()))) {
      judgeOps([bracketOp[1]!.toLowerCase()], 'a query string inside a value', s.slice(0, 120), c.add, 0.8);
    }
    if (/^\s*[{[]/.test(s) && s.includes('$')) {
      const ops = operatorsIn(s.replace(/"\s*:/g, '" :'));
      if (/"\$[a-z]+"\s*:|\{\s*\$[a-z]+\s*:/i.test(s))
        judgeOps(ops, 'a JSON string value', s.slice(0, 120), c.add, 0.85);
    }
    if (/\$where\s*:/i.test(s) || (/\$where\b/i.test(s) && /['"]\s*[,:]|:\s*['"]|\bfunction\b|\bthis\./.test(s))) {
      c.add(R.jsOperator, 0.85, s.slice(0, 120), '$where clause inside a value');
    }
    // JavaScript breakout inside a $where string: `'; return true; var x='`, `' || '1'=='1`.
    const js =
      /['"]\s*(?:;\s*return\b|\|\|\s*(?:['"]?\w+['"]?\s*={2,3}|true\b|this\.|1\b)|&&\s*this\.|;\s*(?:sleep|while)\s*\()|\bthis\.\w+\.match\s*\(|\bdb\.(?:getCollectionNames|\w+\.find)\s*\(|\btojsononeline\s*\(/i.exec(
        s,
      );
    if (js)
      c.add(
        R.jsBreakout,
        0.8,
        s.slice(Math.max(0, js.index - 10), js.index + 60),
        'JavaScript breakout for a $where query',
      );
    return c.hits;
  },
};
