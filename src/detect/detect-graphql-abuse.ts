import type { DecodedRequest, DetectContext, Detector, Finding } from '../core/model.js';
import { addFinding, type Rule } from './detect-kit.js';

/*
 * GraphQL abuse, judged once per request from the shape the decode stage measured
 * (`request.facts['graphql.*']`, see src/decode/decode-graphql.ts): schema introspection
 * (reconnaissance), selection depth (resource exhaustion), aliases of one field (brute force
 * in one request), batched operations, directive overloading. When the decoder could not
 * parse the document, introspection is still recognised from the raw points.
 */

const R = {
  introspection: { id: 'ST-GQL-001', attackType: 'graphql_abuse', severity: 'medium' },
  depth: { id: 'ST-GQL-002', attackType: 'graphql_abuse', severity: 'high' },
  aliases: { id: 'ST-GQL-003', attackType: 'graphql_abuse', severity: 'high' },
  batch: { id: 'ST-GQL-004', attackType: 'graphql_abuse', severity: 'high' },
  directives: { id: 'ST-GQL-005', attackType: 'graphql_abuse', severity: 'medium' },
  fields: { id: 'ST-GQL-006', attackType: 'graphql_abuse', severity: 'medium' },
} satisfies Record<string, Rule>;

/**
 * Thresholds above which a document is abuse. Public APIs (GitHub, Shopify) cap depth around
 * 10–15 and document a handful of aliases; these sit above what clients generate.
 */
export const GRAPHQL_LIMITS = Object.freeze({
  depth: 12,
  aliases: 20,
  batch: 10,
  directives: 30,
  fields: 1500,
});

type Facts = Record<string, number>;

function factsOf(req: DecodedRequest): Facts | undefined {
  return req.facts && Object.keys(req.facts).some((k) => k.startsWith('graphql.')) ? req.facts : undefined;
}

function graphqlPoint(loc: string): boolean {
  return loc.startsWith('body.graphql') || loc === 'query.query' || loc.startsWith('body.json.query');
}

/** GraphQL abuse detector (request-level). */
export const graphqlAbuseDetector: Detector = {
  id: 'graphql_abuse',
  inspectRequest(req: DecodedRequest, ctx: DetectContext): Finding[] {
    const out: Finding[] = [];
    const facts = factsOf(req);
    let introspected = (facts?.['graphql.introspection'] ?? 0) > 0;
    if (!introspected) {
      for (const p of req.points) {
        if (!graphqlPoint(p.location)) continue;
        if (
          (p.kind === 'key' && (p.value === '__schema' || p.value === '__type')) ||
          (p.kind === 'value' && /\b__schema\s*\{|\b__type\s*\(/.test(p.value))
        ) {
          introspected = true;
          break;
        }
      }
    }
    if (introspected)
      addFinding(out, ctx, R.introspection, 0.75, '__schema', 'GraphQL schema introspection', 'body.graphql');
    // Most requests carry no GraphQL document: the helpers below are made only for those that do.
    if (!facts) return out;
    const add = (rule: Rule, conf: number, fragment: string, reason: string): void =>
      addFinding(out, ctx, rule, conf, fragment, reason, 'body.graphql');
    const n = (k: string): number => facts[`graphql.${k}`] ?? 0;
    const L = GRAPHQL_LIMITS;
    if (n('depth') > L.depth)
      add(
        R.depth,
        n('depth') > L.depth * 2 ? 0.9 : 0.75,
        `depth ${n('depth')}`,
        `selection depth ${n('depth')} > ${L.depth}`,
      );
    if (n('aliases') > L.aliases)
      add(
        R.aliases,
        n('aliases') > L.aliases * 5 ? 0.9 : 0.75,
        `${n('aliases')} aliases`,
        `${n('aliases')} aliased fields > ${L.aliases} (batching in one document)`,
      );
    if (n('batch') > L.batch)
      add(
        R.batch,
        n('batch') > L.batch * 5 ? 0.9 : 0.75,
        `${n('batch')} operations`,
        `batched request of ${n('batch')} operations > ${L.batch}`,
      );
    if (n('directives') > L.directives)
      add(
        R.directives,
        0.7,
        `${n('directives')} directives`,
        `${n('directives')} directives > ${L.directives} (directive overloading)`,
      );
    if (n('fields') > L.fields)
      add(R.fields, 0.7, `${n('fields')} fields`, `${n('fields')} fields selected > ${L.fields}`);
    return out;
  },
};
