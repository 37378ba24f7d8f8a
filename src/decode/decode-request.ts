import type { Limits } from '../config/config.js';
import type { CapturedExchange, DecodedRequest } from '../core/model.js';
import { ANOMALY } from './anomaly-codes.js';
import { decodeBody, graphqlInQuery } from './decode-body.js';
import { addAnomaly, createContext, timeUp } from './decode-context.js';
import { factsRecord, type GraphqlFacts } from './decode-graphql.js';
import { walkHeaders } from './decode-headers.js';
import { isJsonContainer } from './decode-json.js';
import { decodeNested } from './decode-nested.js';
import { decodePath, splitTarget } from './decode-path.js';
import { walkForm } from './decode-query.js';

/**
 * Decodes one exchange into the canonical, ordered list of points (path, query, headers,
 * cookies, body), each with its location and decoding chain, plus the anomalies met.
 * Bounded by `limits` and by `deadline` (a performance.now() value). Never throws: an
 * unexpected failure is reported as a `decode_error` anomaly with the points found so far.
 */
export function decodeRequest(exchange: CapturedExchange, limits: Limits, deadline: number): DecodedRequest {
  const ctx = createContext(limits, deadline, decodeNested);
  let path = '';
  let normalizedPath = '';
  let graphql: GraphqlFacts | undefined;
  try {
    const target = splitTarget(exchange.target);
    const query = target.query;
    path = target.path;
    normalizedPath = path; // kept if path decoding fails
    normalizedPath = decodePath(ctx, path);
    if (query.length > 0) {
      walkForm(ctx, query, 'query', []);
      graphql = graphqlFromQuery(ctx, path);
    }
    // Stage boundaries check the clock too: a small request never reaches the per-emit check.
    if (!timeUp(ctx)) walkHeaders(ctx, exchange.headers);
    if (exchange.bodyTruncated) {
      addAnomaly(
        ctx,
        ANOMALY.bodyTruncated,
        'body',
        `body of ${exchange.bodyBytesSeen} bytes cut at ${exchange.body.byteLength}`,
      );
    }
    if (!timeUp(ctx)) graphql = decodeBody(ctx, exchange.body, exchange.headers, path).graphql ?? graphql;
  } catch (err) {
    // Decoders are written not to throw; this keeps a bug from costing the worker or the
    // rest of the batch, and makes it visible.
    addAnomaly(ctx, ANOMALY.decodeError, 'request', err instanceof Error ? err.message.slice(0, 200) : 'unknown');
  }
  const request: DecodedRequest = {
    method: exchange.method,
    host: exchange.host,
    path,
    normalizedPath,
    headers: exchange.headers,
    points: ctx.points,
    anomalies: ctx.anomalies,
  };
  if (graphql !== undefined) request.facts = factsRecord(graphql);
  return request;
}

/** GET /graphql?query={…}: the `query` parameter parsed as GraphQL when the route says so. */
function graphqlFromQuery(ctx: ReturnType<typeof createContext>, path: string): GraphqlFacts | undefined {
  const point = ctx.points.find((p) => p.location === 'query.query' && p.kind === 'value');
  if (point === undefined) return undefined;
  // Off a /graphql route, only a `{…}` that is not JSON is taken for a GraphQL document.
  if (!path.toLowerCase().includes('graphql')) {
    const value = point.value.trimStart();
    if (value.charCodeAt(0) !== 123 /* { */ || isJsonContainer(value)) return undefined;
  }
  return graphqlInQuery(ctx, point.value, point.chain);
}
