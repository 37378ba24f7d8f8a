import { type DirectiveNode, type DocumentNode, Kind, parse, type SelectionSetNode, type ValueNode } from 'graphql';
import { ANOMALY } from './anomaly-codes.js';
import { addAnomaly, childLocation, type DecodeContext, emitKey, emitValue } from './decode-context.js';

/**
 * Shape of GraphQL documents in one request, for abuse detectors (deep queries, alias
 * batching, introspection). Summed over a batch except `depth` (the maximum).
 */
export interface GraphqlFacts {
  /** Operations in the request (over all batch entries). */
  operations: number;
  /** Deepest selection-set nesting. */
  depth: number;
  /** Aliased fields (`a1: login(...) a2: login(...)` brute force). */
  aliases: number;
  /** Fields selected. */
  fields: number;
  /** Fragment definitions. */
  fragments: number;
  /** Directives used. */
  directives: number;
  /** 1 when `__schema` or `__type` is selected. */
  introspection: number;
  /** Entries of a batched (array) request; 1 for a single document. */
  batch: number;
}

export function emptyFacts(): GraphqlFacts {
  return { operations: 0, depth: 0, aliases: 0, fields: 0, fragments: 0, directives: 0, introspection: 0, batch: 0 };
}

/** Facts as flat `graphql.<name>` numbers for DecodedRequest.facts. */
export function factsRecord(f: GraphqlFacts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(f)) out[`graphql.${k}`] = v;
  return out;
}

/** True when `s` plausibly is a GraphQL document (cheap gate before parsing). */
export function looksLikeGraphql(s: string): boolean {
  const t = s.trimStart();
  return t.startsWith('{') || /^(?:query|mutation|subscription|fragment)\b/.test(t);
}

interface Pending {
  set: SelectionSetNode;
  location: string;
  depth: number;
}

function emitLiteral(
  ctx: DecodeContext,
  location: string,
  node: ValueNode,
  chain: readonly string[],
  depth: number,
): void {
  if (depth > ctx.limits.maxDepth || ctx.stopped) return;
  switch (node.kind) {
    case Kind.STRING:
      emitValue(ctx, location, node.value, chain);
      return;
    case Kind.INT:
    case Kind.FLOAT:
    case Kind.ENUM:
      emitValue(ctx, location, node.value, chain, false);
      return;
    case Kind.BOOLEAN:
      emitValue(ctx, location, String(node.value), chain, false);
      return;
    case Kind.LIST:
      node.values.forEach((v, i) => emitLiteral(ctx, `${location}[${i}]`, v, chain, depth + 1));
      return;
    case Kind.OBJECT:
      for (const f of node.fields) {
        const loc = childLocation(location, f.name.value);
        emitKey(ctx, loc, f.name.value, chain);
        emitLiteral(ctx, loc, f.value, chain, depth + 1);
      }
      return;
    default:
      // Variables and null carry no literal text; variables come from the `variables` JSON.
      return;
  }
}

function emitDirectives(
  ctx: DecodeContext,
  location: string,
  directives: readonly DirectiveNode[] | undefined,
  chain: readonly string[],
  facts: GraphqlFacts,
): void {
  for (const d of directives ?? []) {
    facts.directives++;
    const loc = `${location}.@${d.name.value}`;
    for (const a of d.arguments ?? []) emitLiteral(ctx, childLocation(loc, a.name.value), a.value, chain, 0);
  }
}

/**
 * Parses one GraphQL document (graphql-js, bounded by limits.maxGraphqlTokens) and emits
 * `prefix.<op>.<field>…` key points for fields and aliases and `prefix.<op>.<field>.<arg>`
 * points for argument literals. Adds its shape to `facts`. Returns false when it does not parse.
 */
export function walkGraphql(
  ctx: DecodeContext,
  source: string,
  prefix: string,
  chain: readonly string[],
  facts: GraphqlFacts,
): boolean {
  let doc: DocumentNode;
  try {
    doc = parse(source, { noLocation: true, maxTokens: ctx.limits.maxGraphqlTokens });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const tooLong = message.includes('tokens');
    addAnomaly(
      ctx,
      tooLong ? ANOMALY.graphqlTokens : ANOMALY.graphqlInvalid,
      prefix,
      tooLong ? `more than ${ctx.limits.maxGraphqlTokens} tokens` : message.slice(0, 200),
    );
    return false;
  }
  const gchain = [...chain, 'graphql'];
  const pending: Pending[] = [];
  for (const def of doc.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION) {
      facts.operations++;
      const name = def.name?.value ?? def.operation;
      const location = childLocation(prefix, name);
      if (def.name) emitKey(ctx, location, def.name.value, gchain);
      for (const v of def.variableDefinitions ?? []) {
        const loc = `${location}.$${v.variable.name.value}`;
        emitKey(ctx, loc, v.variable.name.value, gchain);
        if (v.defaultValue) emitLiteral(ctx, loc, v.defaultValue, gchain, 0);
      }
      emitDirectives(ctx, location, def.directives, gchain, facts);
      pending.push({ set: def.selectionSet, location, depth: 1 });
    } else if (def.kind === Kind.FRAGMENT_DEFINITION) {
      facts.fragments++;
      const location = childLocation(prefix, `...${def.name.value}`);
      emitKey(ctx, location, def.name.value, gchain);
      pending.push({ set: def.selectionSet, location, depth: 1 });
    }
  }
  // Iterative, breadth-first walk (points follow the document's order level by level):
  // graphql-js already bounded the document by tokens; depth here only bounds emission.
  for (let k = 0; k < pending.length && !ctx.stopped; k++) {
    const p = pending[k]!;
    facts.depth = Math.max(facts.depth, p.depth);
    const emit = p.depth <= ctx.limits.maxDepth;
    for (const sel of p.set.selections) {
      if (sel.kind === Kind.FIELD) {
        facts.fields++;
        const fname = sel.name.value;
        if (fname === '__schema' || fname === '__type') facts.introspection = 1;
        const location = childLocation(p.location, fname);
        if (emit) {
          emitKey(ctx, location, fname, gchain);
          if (sel.alias) {
            facts.aliases++;
            emitKey(ctx, location, sel.alias.value, gchain);
          }
          for (const a of sel.arguments ?? []) {
            const loc = childLocation(location, a.name.value);
            emitKey(ctx, loc, a.name.value, gchain);
            emitLiteral(ctx, loc, a.value, gchain, 0);
          }
          emitDirectives(ctx, location, sel.directives, gchain, facts);
        } else if (sel.alias) {
          facts.aliases++;
        }
        if (sel.selectionSet) pending.push({ set: sel.selectionSet, location, depth: p.depth + 1 });
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        pending.push({ set: sel.selectionSet, location: p.location, depth: p.depth });
      }
    }
  }
  return true;
}
