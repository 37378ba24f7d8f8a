import { isIP } from 'node:net';
import protobuf from 'protobufjs';
import { parseAllDocuments } from 'yaml';
import { ERR_ENVOY_INVALID } from '../core/errors.js';
import { loadEnvoyProtos } from './envoy-protos.js';

/*
 * A strict proto3-JSON walker over Envoy's own API protos. Envoy turns YAML into JSON and then
 * into protos with the protobuf JSON parser, then runs protoc-gen-validate rules and its own
 * checks; a config passes here when it would pass those steps: every key is a field of the
 * message (snake_case or lowerCamel json name), every value has the field's JSON type, enums
 * name defined values, oneofs hold one member, well-known types use their JSON forms, every
 * Any's @type names a loaded message, the PGV rules we implement hold (message.required,
 * string/bytes lengths, repeated/map sizes, enum defined_only/in/not_in, numeric and duration
 * bounds, oneof required) and every cluster a route, mirror policy or gRPC service names is
 * defined. Paths are reported with the keys as written in the document.
 */

/** One problem found, at a JSON path such as `static_resources.clusters[1].connect_timeout`. */
export interface EnvoyIssue {
  readonly path: string;
  readonly message: string;
}

export interface EnvoyValidation {
  readonly ok: boolean;
  /** Full proto name validated against (or `snippet`). */
  readonly type: string;
  readonly errors: readonly EnvoyIssue[];
  /** Accepted but worth knowing: deprecated fields, newer fields allowed by envoyVersion, unchecked references. */
  readonly warnings: readonly EnvoyIssue[];
}

export interface ValidateEnvoyOptions {
  /** A key of ENVOY_RESOURCE_TYPES or a full message name; default `bootstrap`. */
  type?: string;
  /**
   * Envoy version the config targets (default 1.31, the shipped protos). Fields that Envoy
   * added later (NEWER_FIELDS) are errors below their version and warnings (unchecked) from it.
   */
  envoyVersion?: string;
  /** Cluster names defined elsewhere (e.g. by CDS or by Istio); references to them are fine. */
  knownClusters?: readonly string[];
  /** Stop collecting after this many errors (default 100). */
  maxErrors?: number;
}

/** Short names accepted by `validate-envoy --type`. */
export const ENVOY_RESOURCE_TYPES: Readonly<Record<string, string>> = {
  bootstrap: 'envoy.config.bootstrap.v3.Bootstrap',
  cluster: 'envoy.config.cluster.v3.Cluster',
  listener: 'envoy.config.listener.v3.Listener',
  route: 'envoy.config.route.v3.RouteConfiguration',
  route_configuration: 'envoy.config.route.v3.RouteConfiguration',
  virtual_host: 'envoy.config.route.v3.VirtualHost',
  route_entry: 'envoy.config.route.v3.Route',
  mirror_policy: 'envoy.config.route.v3.RouteAction.RequestMirrorPolicy',
  endpoint: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
  cluster_load_assignment: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
  http_filter: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter',
  http_connection_manager: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  ext_proc: 'envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
  health_check: 'envoy.config.core.v3.HealthCheck',
  snippet: 'snippet',
};

/**
 * The pseudo-type of `gen-envoy --output snippet`: the pieces to paste, keyed by the Envoy field
 * they go into.
 */
const SNIPPET_KEYS: Readonly<Record<string, string>> = {
  clusters: 'envoy.config.cluster.v3.Cluster',
  request_mirror_policies: 'envoy.config.route.v3.RouteAction.RequestMirrorPolicy',
  http_filters: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter',
};

/** Fields Envoy added after the shipped protos (about 1.31), with the version that added them. */
export const NEWER_FIELDS: Readonly<Record<string, string>> = {
  'envoy.config.route.v3.RouteAction.RequestMirrorPolicy.host_rewrite_literal': '1.36',
  'envoy.config.route.v3.RouteAction.RequestMirrorPolicy.request_headers_mutations': '1.36',
};

/** Envoy version the shipped protos correspond to. */
export const PROTOS_ENVOY_VERSION = '1.31';

/** Fields whose string value names a cluster. */
const CLUSTER_REFS: ReadonlySet<string> = new Set([
  'envoy.config.route.v3.RouteAction.cluster',
  'envoy.config.route.v3.RouteAction.RequestMirrorPolicy.cluster',
  'envoy.config.route.v3.WeightedCluster.ClusterWeight.name',
  'envoy.config.core.v3.GrpcService.EnvoyGrpc.cluster_name',
  'envoy.config.core.v3.HttpUri.cluster',
  'envoy.config.bootstrap.v3.ClusterManager.local_cluster_name',
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.cluster',
  'envoy.config.trace.v3.ZipkinConfig.collector_cluster',
  'envoy.config.trace.v3.DatadogConfig.collector_cluster',
  'envoy.config.trace.v3.LightstepConfig.collector_cluster',
  'envoy.config.metrics.v3.StatsdSink.tcp_cluster_name',
  'envoy.config.core.v3.ApiConfigSource.cluster_names',
]);

const ROUTER_TYPE = 'envoy.extensions.filters.http.router.v3.Router';

/** Compares dotted versions numerically ('1.31' < '1.36' < '1.100'). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

type Rules = Record<string, unknown>;

interface Ref {
  readonly path: string;
  readonly name: string;
  readonly via: string;
}

interface Ctx {
  readonly root: protobuf.Root;
  readonly errors: EnvoyIssue[];
  readonly warnings: EnvoyIssue[];
  readonly maxErrors: number;
  readonly envoyVersion: string;
  readonly refs: Ref[];
  readonly clusters: Array<{ name: string; path: string }>;
  readonly listeners: Array<{ name: string; path: string }>;
}

interface FieldIndex {
  readonly byKey: Map<string, protobuf.Field>;
  readonly fields: readonly protobuf.Field[];
}

const indexCache = new WeakMap<protobuf.Type, FieldIndex>();

/** proto3 default json_name: drop underscores, upper-case the letter after each. */
function lowerCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function fieldIndex(type: protobuf.Type): FieldIndex {
  let idx = indexCache.get(type);
  if (!idx) {
    const byKey = new Map<string, protobuf.Field>();
    for (const f of type.fieldsArray) {
      byKey.set(f.name, f);
      byKey.set(lowerCamel(f.name), f);
      const jsonName = f.options?.['json_name'];
      if (typeof jsonName === 'string') byKey.set(jsonName, f);
    }
    idx = { byKey, fields: type.fieldsArray };
    indexCache.set(type, idx);
  }
  return idx;
}

function nameOf(t: protobuf.ReflectionObject): string {
  return t.fullName.replace(/^\./, '');
}

function joinPath(path: string, key: string): string {
  const seg = /^[A-Za-z_@][\w@]*$/.test(key) ? key : JSON.stringify(key);
  if (!path) return seg.startsWith('"') ? `[${seg}]` : seg;
  return seg.startsWith('"') ? `${path}[${seg}]` : `${path}.${seg}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The closest candidate within a third of the word's length, for "did you mean" hints. */
function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  const lw = word.toLowerCase();
  for (const c of candidates) {
    const d = levenshtein(lw, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function err(ctx: Ctx, path: string, message: string): void {
  if (ctx.errors.length < ctx.maxErrors) ctx.errors.push({ path: path || '(root)', message });
}

function warn(ctx: Ctx, path: string, message: string): void {
  ctx.warnings.push({ path: path || '(root)', message });
}

/** The `(validate.rules)` of a field, from protobufjs' parsed options. */
function fieldRules(field: protobuf.Field): Rules | undefined {
  const parsed: unknown = field.parsedOptions;
  if (!Array.isArray(parsed)) return undefined;
  for (const o of parsed as unknown[]) {
    const r = (o as Record<string, unknown>)['(validate.rules)'];
    if (isObject(r)) return r;
  }
  return undefined;
}

// --- well-known types -------------------------------------------------------------------------

const DURATION_RE = /^(-)?(\d{1,12})(?:\.(\d{1,9}))?s$/;

/** Duration JSON ("1.5s") → nanoseconds as bigint, or undefined when malformed. */
function durationNanos(s: string): bigint | undefined {
  const m = DURATION_RE.exec(s);
  if (!m) return undefined;
  const secs = BigInt(m[2]!);
  if (secs > 315576000000n) return undefined;
  const nanos = BigInt((m[3] ?? '').padEnd(9, '0'));
  const total = secs * 1_000_000_000n + nanos;
  return m[1] ? -total : total;
}

function ruleDurationNanos(v: unknown): bigint {
  if (!isObject(v)) return 0n;
  return BigInt(Number(v['seconds'] ?? 0)) * 1_000_000_000n + BigInt(Number(v['nanos'] ?? 0));
}

function formatNanos(n: bigint): string {
  const neg = n < 0n;
  const a = neg ? -n : n;
  const s = a / 1_000_000_000n;
  const frac = (a % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${s}${frac ? `.${frac}` : ''}s`;
}

const WRAPPERS: Readonly<Record<string, string>> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

const NUMERIC_WRAPPERS = new Set(Object.keys(WRAPPERS).filter((t) => !/Bool|String|Bytes/.test(t)));

/** Message types whose proto3 JSON form is not an object of their fields. */
const SPECIAL_JSON = new Set([
  'google.protobuf.Duration',
  'google.protobuf.Timestamp',
  'google.protobuf.FieldMask',
  'google.protobuf.Struct',
  'google.protobuf.Value',
  'google.protobuf.ListValue',
  ...Object.keys(WRAPPERS),
]);

const INT_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

/** Validates a scalar JSON value; returns its numeric value (for range rules) when numeric. */
function checkScalar(ctx: Ctx, scalar: string, value: unknown, path: string): number | undefined {
  const range = INT_RANGES[scalar];
  if (range) {
    let n: bigint | undefined;
    if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
    else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = BigInt(value);
    if (n === undefined) {
      err(ctx, path, `expected an integer (${scalar}), got ${describe(value)}`);
      return undefined;
    }
    if (n < range[0] || n > range[1]) {
      err(ctx, path, `${n} is out of range for ${scalar}`);
      return undefined;
    }
    return Number(n);
  }
  switch (scalar) {
    case 'double':
    case 'float':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && /^(NaN|-?Infinity|-?\d+(\.\d+)?([eE][-+]?\d+)?)$/.test(value))
        return Number(value);
      err(ctx, path, `expected a number (${scalar}), got ${describe(value)}`);
      return undefined;
    case 'bool':
      if (typeof value !== 'boolean') err(ctx, path, `expected true or false, got ${describe(value)}`);
      return undefined;
    case 'string':
      if (typeof value !== 'string') err(ctx, path, `expected a string, got ${describe(value)}`);
      return undefined;
    case 'bytes':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
        err(ctx, path, `expected base64-encoded bytes, got ${describe(value)}`);
      }
      return undefined;
    default:
      err(ctx, path, `unsupported scalar type ${scalar}`);
      return undefined;
  }
}

function checkNumericRules(ctx: Ctx, rules: Rules | undefined, n: number, path: string): void {
  if (!rules) return;
  const num = (k: string): number | undefined => (rules[k] === undefined ? undefined : Number(rules[k]));
  const gt = num('gt');
  const gte = num('gte');
  const lt = num('lt');
  const lte = num('lte');
  const cnst = num('const');
  if (gt !== undefined && !(n > gt)) err(ctx, path, `must be greater than ${gt}, got ${n}`);
  if (gte !== undefined && !(n >= gte)) err(ctx, path, `must be at least ${gte}, got ${n}`);
  if (lt !== undefined && !(n < lt)) err(ctx, path, `must be less than ${lt}, got ${n}`);
  if (lte !== undefined && !(n <= lte)) err(ctx, path, `must be at most ${lte}, got ${n}`);
  if (cnst !== undefined && n !== cnst) err(ctx, path, `must be ${cnst}, got ${n}`);
}

function checkStringRules(ctx: Ctx, rules: Rules | undefined, s: string, path: string): void {
  if (!rules) return;
  const chars = [...s].length;
  const bytes = Buffer.byteLength(s);
  const n = (k: string): number | undefined => (rules[k] === undefined ? undefined : Number(rules[k]));
  const minLen = n('min_len');
  const maxLen = n('max_len');
  const minBytes = n('min_bytes');
  const maxBytes = n('max_bytes');
  if (minLen !== undefined && chars < minLen) {
    err(ctx, path, minLen === 1 ? 'must not be empty' : `must be at least ${minLen} characters`);
  }
  if (maxLen !== undefined && chars > maxLen) err(ctx, path, `must be at most ${maxLen} characters`);
  if (minBytes !== undefined && bytes < minBytes) {
    err(ctx, path, minBytes === 1 ? 'must not be empty' : `must be at least ${minBytes} bytes`);
  }
  if (maxBytes !== undefined && bytes > maxBytes) err(ctx, path, `must be at most ${maxBytes} bytes`);
  if (typeof rules['prefix'] === 'string' && !s.startsWith(rules['prefix'])) {
    err(ctx, path, `must start with ${JSON.stringify(rules['prefix'])}`);
  }
  const wk = rules['well_known_regex'];
  const strict = rules['strict'] !== false;
  if (wk === 'HTTP_HEADER_NAME' && strict && !/^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/.test(s)) {
    err(ctx, path, `${JSON.stringify(s)} is not a valid HTTP header name`);
  }
  if (Array.isArray(rules['in']) && !rules['in'].includes(s)) {
    err(ctx, path, `must be one of ${rules['in'].map((x) => JSON.stringify(x)).join(', ')}`);
  }
}

function checkDuration(ctx: Ctx, value: unknown, path: string, rules: Rules | undefined): void {
  if (typeof value !== 'string') {
    err(ctx, path, `expected a duration string such as "0.25s", got ${describe(value)}`);
    return;
  }
  const nanos = durationNanos(value);
  if (nanos === undefined) {
    err(ctx, path, `invalid duration ${JSON.stringify(value)}: use seconds with an "s" suffix, e.g. "0.25s" or "30s"`);
    return;
  }
  checkDurationBounds(ctx, nanos, value, path, rules);
}

function checkDurationBounds(ctx: Ctx, nanos: bigint, value: string, path: string, rules: Rules | undefined): void {
  if (!rules) return;
  const bound = (k: string): bigint | undefined => (rules[k] === undefined ? undefined : ruleDurationNanos(rules[k]));
  const gt = bound('gt');
  const gte = bound('gte');
  const lt = bound('lt');
  const lte = bound('lte');
  if (gt !== undefined && !(nanos > gt))
    err(ctx, path, `duration must be greater than ${formatNanos(gt)}, got ${value}`);
  if (gte !== undefined && !(nanos >= gte))
    err(ctx, path, `duration must be at least ${formatNanos(gte)}, got ${value}`);
  if (lt !== undefined && !(nanos < lt)) err(ctx, path, `duration must be less than ${formatNanos(lt)}, got ${value}`);
  if (lte !== undefined && !(nanos <= lte))
    err(ctx, path, `duration must be at most ${formatNanos(lte)}, got ${value}`);
}

function checkStructValue(ctx: Ctx, value: unknown, path: string): void {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    err(ctx, path, `not a JSON value`);
  } else if (typeof value === 'number' && !Number.isFinite(value)) {
    err(ctx, path, `numbers in a Struct must be finite`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkStructValue(ctx, v, `${path}[${i}]`));
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) checkStructValue(ctx, v, joinPath(path, k));
  }
}

/** Validates a value of a message type with a special JSON form; true when handled. */
/**
 * Envoy's YAML loader also takes the plain message form of these types (`{seconds: 2}` for a
 * Duration, `{value: 5}` for a wrapper), and Envoy's own example configs use it.
 */
const OBJECT_FORM_OK = new Set([
  'google.protobuf.Duration',
  'google.protobuf.Timestamp',
  'google.protobuf.FieldMask',
  ...Object.keys(WRAPPERS),
]);

/** Validates a value of a message type with a special JSON form; false when it must be checked as a plain message. */
function checkSpecial(ctx: Ctx, typeName: string, value: unknown, path: string, rules: Rules | undefined): boolean {
  if (isObject(value) && OBJECT_FORM_OK.has(typeName)) return false;
  const wrapped = WRAPPERS[typeName];
  if (wrapped) {
    const n = checkScalar(ctx, wrapped, value, path);
    if (n !== undefined) checkNumericRules(ctx, rules, n, path);
    return true;
  }
  switch (typeName) {
    case 'google.protobuf.Duration':
      checkDuration(ctx, value, path, rules);
      return true;
    case 'google.protobuf.Timestamp':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value)) || !/^\d{4}-\d\d-\d\dT/.test(value)) {
        err(ctx, path, `expected an RFC 3339 timestamp, got ${describe(value)}`);
      }
      return true;
    case 'google.protobuf.FieldMask':
      if (typeof value !== 'string')
        err(ctx, path, `expected a comma-separated field mask string, got ${describe(value)}`);
      return true;
    case 'google.protobuf.Struct':
      if (!isObject(value)) err(ctx, path, `expected a mapping (google.protobuf.Struct), got ${describe(value)}`);
      else checkStructValue(ctx, value, path);
      return true;
    case 'google.protobuf.ListValue':
      if (!Array.isArray(value)) err(ctx, path, `expected a list (google.protobuf.ListValue), got ${describe(value)}`);
      else checkStructValue(ctx, value, path);
      return true;
    case 'google.protobuf.Value':
      checkStructValue(ctx, value, path);
      return true;
    default:
      return false;
  }
}

// --- messages -----------------------------------------------------------------------------------

function resolveAny(ctx: Ctx, typeUrl: string): protobuf.Type | undefined {
  const slash = typeUrl.lastIndexOf('/');
  const name = typeUrl.slice(slash + 1);
  if (slash < 0 || !name) return undefined;
  const found = ctx.root.lookup(name);
  return found instanceof protobuf.Type ? found : undefined;
}

let typeNamesCache: string[] | undefined;

function allTypeNames(root: protobuf.Root): string[] {
  if (typeNamesCache) return typeNamesCache;
  const out: string[] = [];
  const walk = (ns: protobuf.NamespaceBase): void => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Type) out.push(nameOf(child));
      if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) walk(child);
    }
  };
  walk(root);
  typeNamesCache = out;
  return out;
}

function checkAny(ctx: Ctx, value: unknown, path: string): protobuf.Type | undefined {
  if (!isObject(value)) {
    err(ctx, path, `expected a mapping with an "@type" (google.protobuf.Any), got ${describe(value)}`);
    return undefined;
  }
  const typeUrl = value['@type'];
  if (typeof typeUrl !== 'string' || typeUrl === '') {
    err(ctx, path, `missing "@type" (google.protobuf.Any needs "@type: type.googleapis.com/<message>")`);
    return undefined;
  }
  const typePath = joinPath(path, '@type');
  if (!typeUrl.includes('/')) {
    err(ctx, typePath, `"@type" must be a type URL such as "type.googleapis.com/${typeUrl}"`);
    return undefined;
  }
  const type = resolveAny(ctx, typeUrl);
  if (!type) {
    const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    const hint = closest(name, allTypeNames(ctx.root));
    const v2 = /\.v2(alpha\d*)?\./.test(name)
      ? ' (v2 API types were removed from Envoy; use the v3 type)'
      : /\.v3alpha\./.test(name)
        ? ' (contrib extensions, built only into envoyproxy/envoy-contrib, are not in the shipped protos)'
        : '';
    err(
      ctx,
      typePath,
      `unknown @type ${JSON.stringify(typeUrl)}: no such message in Envoy's v3 API protos${v2}${hint && !v2 ? `; did you mean type.googleapis.com/${hint}?` : ''}`,
    );
    return undefined;
  }
  const typeName = nameOf(type);
  if (SPECIAL_JSON.has(typeName)) {
    for (const k of Object.keys(value)) {
      if (k !== '@type' && k !== 'value')
        err(ctx, joinPath(path, k), `unknown field ${JSON.stringify(k)}: an Any of ${typeName} holds only "value"`);
    }
    if (!('value' in value)) err(ctx, path, `an Any of ${typeName} needs "value"`);
    else checkValue(ctx, type, value['value'], joinPath(path, 'value'), undefined);
  } else {
    checkMessage(ctx, type, value, path, new Set(['@type']));
  }
  return type;
}

/** Validates `value` as a message of `type` (or its special JSON form). */
function checkValue(ctx: Ctx, type: protobuf.Type, value: unknown, path: string, rules: Rules | undefined): void {
  const typeName = nameOf(type);
  const errorsBefore = ctx.errors.length;
  if (typeName === 'google.protobuf.Any') {
    checkAny(ctx, value, path);
    return;
  }
  if (checkSpecial(ctx, typeName, value, path, rules)) return;
  checkMessage(ctx, type, value, path);
  if (isObject(value) && typeName === 'google.protobuf.Duration' && ctx.errors.length === errorsBefore) {
    const secs = get(value, 'seconds') ?? 0;
    const nanos = get(value, 'nanos') ?? 0;
    const total = BigInt(String(secs)) * 1_000_000_000n + BigInt(String(nanos));
    checkDurationBounds(ctx, total, formatNanos(total), path, rules);
  } else if (isObject(value) && NUMERIC_WRAPPERS.has(typeName) && ctx.errors.length === errorsBefore) {
    const inner = get(value, 'value');
    if (typeof inner === 'number' || typeof inner === 'string') checkNumericRules(ctx, rules, Number(inner), path);
  }
}

function checkField(
  ctx: Ctx,
  owner: protobuf.Type,
  field: protobuf.Field,
  value: unknown,
  path: string,
  single = false,
): void {
  const rules = fieldRules(field);
  if (field instanceof protobuf.MapField) {
    if (!isObject(value)) {
      err(ctx, path, `expected a mapping for map field ${field.name}, got ${describe(value)}`);
      return;
    }
    const minPairs = (rules?.['map'] as Rules | undefined)?.['min_pairs'];
    if (minPairs !== undefined && Object.keys(value).length < Number(minPairs)) {
      err(ctx, path, `needs at least ${String(minPairs)} entries`);
    }
    for (const [k, v] of Object.entries(value)) {
      const p = joinPath(path, k);
      if (field.keyType !== 'string') {
        if (field.keyType === 'bool') {
          if (k !== 'true' && k !== 'false') err(ctx, p, `map key must be "true" or "false"`);
        } else checkScalar(ctx, field.keyType, /^-?\d+$/.test(k) ? k : NaN, p);
      }
      checkElement(
        ctx,
        field,
        v,
        p,
        rules?.['map'] && isObject((rules['map'] as Rules)['values'])
          ? ((rules['map'] as Rules)['values'] as Rules)
          : undefined,
      );
    }
    return;
  }
  if (field.repeated) {
    if (value === null) return;
    if (!Array.isArray(value)) {
      // Envoy's JSON loader takes a single value as a one-item list (its own examples rely on it).
      if (isObject(value) || typeof value !== 'object') {
        warn(ctx, path, `a single value for repeated field ${field.name} is read as a one-item list; write a list`);
        checkField(ctx, owner, field, [value], path, true);
        return;
      }
      err(ctx, path, `expected a list for repeated field ${field.name}, got ${describe(value)}`);
      return;
    }
    const rep = rules?.['repeated'] as Rules | undefined;
    if (rep?.['min_items'] !== undefined && value.length < Number(rep['min_items'])) {
      err(
        ctx,
        path,
        Number(rep['min_items']) === 1
          ? 'must have at least one item'
          : `must have at least ${String(rep['min_items'])} items`,
      );
    }
    if (rep?.['max_items'] !== undefined && value.length > Number(rep['max_items'])) {
      err(ctx, path, `must have at most ${String(rep['max_items'])} items`);
    }
    const itemRules = isObject(rep?.['items']) ? (rep['items'] as Rules) : undefined;
    const refs = CLUSTER_REFS.has(`${nameOf(owner)}.${field.name}`);
    value.forEach((v, i) => {
      const p = single ? path : `${path}[${i}]`;
      if (v === null) err(ctx, p, 'null is not allowed in a list');
      else checkElement(ctx, field, v, p, itemRules);
      if (refs && typeof v === 'string' && v !== '') ctx.refs.push({ path: p, name: v, via: field.name });
    });
    return;
  }
  checkElement(ctx, field, value, path, rules);
  if (CLUSTER_REFS.has(`${nameOf(owner)}.${field.name}`) && typeof value === 'string' && value !== '') {
    ctx.refs.push({ path, name: value, via: field.name });
  }
}

/** Validates one value (a singular field, or one item of a repeated or map field). */
function checkElement(ctx: Ctx, field: protobuf.Field, value: unknown, path: string, rules: Rules | undefined): void {
  if (value === null) return;
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Enum) {
    checkEnum(ctx, rt, value, path, rules?.['enum'] as Rules | undefined);
    return;
  }
  if (rt instanceof protobuf.Type) {
    const typeName = nameOf(rt);
    const kindRules =
      typeName === 'google.protobuf.Duration'
        ? (rules?.['duration'] as Rules | undefined)
        : WRAPPERS[typeName]
          ? (rules?.[WRAPPERS[typeName]!] as Rules | undefined)
          : undefined;
    checkValue(ctx, rt, value, path, kindRules);
    return;
  }
  const n = checkScalar(ctx, field.type, value, path);
  const scalarRules = rules?.[field.type] as Rules | undefined;
  if (n !== undefined) checkNumericRules(ctx, scalarRules, n, path);
  if (typeof value === 'string' && (field.type === 'string' || field.type === 'bytes')) {
    checkStringRules(
      ctx,
      scalarRules,
      field.type === 'bytes' ? Buffer.from(value, 'base64').toString('latin1') : value,
      path,
    );
  }
}

function checkEnum(ctx: Ctx, en: protobuf.Enum, value: unknown, path: string, rules: Rules | undefined): void {
  let num: number | undefined;
  if (typeof value === 'string') {
    num = en.values[value];
    // Envoy parses enum names case-insensitively ("strict_dns"), so accept them, with a nudge.
    if (num === undefined && en.values[value.toUpperCase()] !== undefined) {
      num = en.values[value.toUpperCase()];
      warn(
        ctx,
        path,
        `enum value ${JSON.stringify(value)} is accepted case-insensitively; write ${value.toUpperCase()}`,
      );
    }
    if (num === undefined) {
      const hint = closest(value, Object.keys(en.values));
      err(
        ctx,
        path,
        `invalid value ${JSON.stringify(value)} for enum ${nameOf(en)}${hint ? ` (did you mean ${hint}?)` : ''}; expected one of ${Object.keys(en.values).join(', ')}`,
      );
      return;
    }
  } else if (typeof value === 'number' && Number.isInteger(value)) {
    num = value;
    if (rules?.['defined_only'] === true && !Object.values(en.values).includes(value)) {
      err(ctx, path, `${value} is not a defined value of enum ${nameOf(en)}`);
      return;
    }
  } else {
    err(ctx, path, `expected an enum name of ${nameOf(en)}, got ${describe(value)}`);
    return;
  }
  const name = en.valuesById[num] ?? String(num);
  if (Array.isArray(rules?.['in']) && !rules['in'].map(Number).includes(num))
    err(ctx, path, `${name} is not allowed here`);
  if (Array.isArray(rules?.['not_in']) && rules['not_in'].map(Number).includes(num))
    err(ctx, path, `${name} is not allowed here`);
  const valueOptions = en.valuesOptions?.[name];
  if (valueOptions?.['(envoy.annotations.disallowed_by_default_enum)'] === true) {
    err(ctx, path, `enum value ${name} is deprecated and disallowed by default: Envoy rejects it`);
  } else if (valueOptions?.['deprecated'] === true) warn(ctx, path, `enum value ${name} is deprecated`);
}

function isSet(field: protobuf.Field, value: unknown): boolean {
  return value !== undefined && value !== null;
}

function checkMessage(
  ctx: Ctx,
  type: protobuf.Type,
  value: unknown,
  path: string,
  skipKeys?: ReadonlySet<string>,
): void {
  const typeName = nameOf(type);
  if (!isObject(value)) {
    err(ctx, path, `expected a mapping (${typeName}), got ${describe(value)}`);
    return;
  }
  const idx = fieldIndex(type);
  const seen = new Map<protobuf.Field, string>();
  const oneofSet = new Map<string, string>();
  for (const [key, v] of Object.entries(value)) {
    if (skipKeys?.has(key)) continue;
    const p = joinPath(path, key);
    const field = idx.byKey.get(key);
    if (!field) {
      unknownField(ctx, type, key, p);
      continue;
    }
    const prior = seen.get(field);
    if (prior !== undefined) {
      err(ctx, p, `field ${field.name} is set twice (as ${JSON.stringify(prior)} and ${JSON.stringify(key)})`);
      continue;
    }
    seen.set(field, key);
    if (field.partOf && isSet(field, v)) {
      const other = oneofSet.get(field.partOf.name);
      if (other !== undefined) {
        err(
          ctx,
          p,
          `oneof ${field.partOf.name} is already set by ${JSON.stringify(other)}: set only one of ${field.partOf.oneof.join(', ')}`,
        );
        continue;
      }
      oneofSet.set(field.partOf.name, key);
    }
    if (field.options?.['(envoy.annotations.disallowed_by_default)'] === true) {
      err(ctx, p, `field ${field.name} of ${typeName} is deprecated and disallowed by default: Envoy rejects it`);
    } else if (field.options?.['deprecated'] === true) {
      const since = field.options['(envoy.annotations.deprecated_at_minor_version)'];
      warn(ctx, p, `field ${field.name} of ${typeName} is deprecated${since ? ` (since API ${String(since)})` : ''}`);
    }
    checkField(ctx, type, field, v, p);
  }
  for (const field of idx.fields) {
    const rules = fieldRules(field);
    const required =
      (rules?.['message'] as Rules | undefined)?.['required'] === true ||
      (rules?.['duration'] as Rules | undefined)?.['required'] === true ||
      (rules?.['any'] as Rules | undefined)?.['required'] === true;
    if (!required || field.partOf) continue;
    const key = seen.get(field);
    if (key === undefined || value[key] === null) {
      err(ctx, joinPath(path, key ?? field.name), `required field ${field.name} of ${typeName} is missing`);
    }
  }
  // Required scalar fields: min_len / min_items rules also apply to absent (default) values.
  for (const field of idx.fields) {
    if (seen.has(field) || field.partOf) continue;
    const rules = fieldRules(field);
    const minLen =
      (rules?.['string'] as Rules | undefined)?.['min_len'] ?? (rules?.['string'] as Rules | undefined)?.['min_bytes'];
    const minItems = (rules?.['repeated'] as Rules | undefined)?.['min_items'];
    if (minLen !== undefined && Number(minLen) > 0) {
      err(
        ctx,
        joinPath(path, field.name),
        `required field ${field.name} of ${typeName} is missing (must not be empty)`,
      );
    } else if (minItems !== undefined && Number(minItems) > 0) {
      err(
        ctx,
        joinPath(path, field.name),
        `required field ${field.name} of ${typeName} is missing (needs at least ${String(minItems)} item)`,
      );
    }
  }
  for (const oneof of type.oneofsArray) {
    if (oneof.options?.['(validate.required)'] === true && !oneofSet.has(oneof.name)) {
      err(ctx, path, `one of ${oneof.oneof.join(', ')} is required (${typeName}.${oneof.name})`);
    }
  }
  semanticChecks(ctx, typeName, value, path);
}

function unknownField(ctx: Ctx, type: protobuf.Type, key: string, path: string): void {
  const typeName = nameOf(type);
  const newer = NEWER_FIELDS[`${typeName}.${key}`];
  if (newer) {
    if (compareVersions(ctx.envoyVersion, newer) >= 0) {
      warn(
        ctx,
        path,
        `field ${key} (Envoy ${newer}+) is newer than the shipped protos (Envoy ${PROTOS_ENVOY_VERSION}); its value is not checked`,
      );
    } else {
      err(
        ctx,
        path,
        `field ${key} of ${typeName} needs Envoy ${newer}+ (target is ${ctx.envoyVersion}; raise --envoy-version to allow it)`,
      );
    }
    return;
  }
  const hint = closest(
    key,
    fieldIndex(type).fields.map((f) => f.name),
  );
  err(ctx, path, `unknown field ${JSON.stringify(key)} in ${typeName}${hint ? ` (did you mean ${hint}?)` : ''}`);
}

// --- Envoy's own checks beyond the protos ---------------------------------------------------------

function keyOf(obj: Record<string, unknown>, snake: string): string | undefined {
  if (snake in obj) return snake;
  const camel = lowerCamel(snake);
  return camel in obj ? camel : undefined;
}

function get(obj: unknown, snake: string): unknown {
  if (!isObject(obj)) return undefined;
  const k = keyOf(obj, snake);
  return k === undefined ? undefined : obj[k];
}

function semanticChecks(ctx: Ctx, typeName: string, value: Record<string, unknown>, path: string): void {
  switch (typeName) {
    case 'envoy.config.cluster.v3.Cluster': {
      const name = get(value, 'name');
      if (typeof name === 'string') ctx.clusters.push({ name, path: joinPath(path, keyOf(value, 'name')!) });
      // STATIC (the default type) endpoints are IP addresses; Envoy rejects host names there.
      const kind = get(value, 'type') ?? 'STATIC';
      if (String(kind).toUpperCase() === 'STATIC' || kind === 0) {
        const la = get(value, 'load_assignment');
        const eps = get(la, 'endpoints');
        if (Array.isArray(eps)) {
          eps.forEach((ep, i) => {
            const lbs = get(ep, 'lb_endpoints');
            if (!Array.isArray(lbs)) return;
            lbs.forEach((lb, j) => {
              const addr = get(get(get(get(lb, 'endpoint'), 'address'), 'socket_address'), 'address');
              if (typeof addr === 'string' && addr !== '' && isIP(addr) === 0) {
                err(
                  ctx,
                  `${joinPath(joinPath(path, keyOf(value, 'load_assignment')!), keyOf(la as Record<string, unknown>, 'endpoints')!)}[${i}].lb_endpoints[${j}].endpoint.address.socket_address.address`,
                  `${JSON.stringify(addr)} is not an IP address: a STATIC cluster needs IP endpoints (use type STRICT_DNS for host names)`,
                );
              }
            });
          });
        }
      }
      return;
    }
    case 'envoy.config.listener.v3.Listener': {
      const name = get(value, 'name');
      if (typeof name === 'string' && name !== '')
        ctx.listeners.push({ name, path: joinPath(path, keyOf(value, 'name')!) });
      return;
    }
    case 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager': {
      const k = keyOf(value, 'http_filters');
      const filters = k === undefined ? undefined : value[k];
      if (!Array.isArray(filters) || filters.length === 0) return;
      filters.forEach((f, i) => {
        const t = get(get(f, 'typed_config'), '@type');
        // A filter without typed_config is looked up by name (old style).
        const isRouter =
          typeof t === 'string' ? t.endsWith(`/${ROUTER_TYPE}`) : get(f, 'name') === 'envoy.filters.http.router';
        const last = i === filters.length - 1;
        // An unresolvable @type is already reported; do not guess what the filter was meant to be.
        if (typeof t === 'string' && !resolveAny(ctx, t)) return;
        if (isRouter && !last)
          err(ctx, `${joinPath(path, k!)}[${i}]`, `the router filter is terminal and must be the last HTTP filter`);
        if (!isRouter && last) {
          err(
            ctx,
            `${joinPath(path, k!)}[${i}]`,
            `the last HTTP filter must be the router (envoy.filters.http.router, @type ${ROUTER_TYPE})`,
          );
        }
      });
      return;
    }
    case 'envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor': {
      if (get(value, 'observability_mode') !== true) return;
      const pmKey = keyOf(value, 'processing_mode');
      const pm = pmKey === undefined ? undefined : value[pmKey];
      for (const m of ['request_body_mode', 'response_body_mode']) {
        const mode = get(pm, m);
        const m2 = typeof mode === 'string' ? mode.toUpperCase() : mode;
        if (m2 === 'BUFFERED' || m2 === 'BUFFERED_PARTIAL' || m2 === 2 || m2 === 3) {
          err(
            ctx,
            joinPath(joinPath(path, pmKey!), keyOf(pm as Record<string, unknown>, m)!),
            `observability_mode sends bodies only in STREAMED mode (or NONE), not ${String(mode)}`,
          );
        }
      }
      return;
    }
    default:
      return;
  }
}

function checkDuplicates(ctx: Ctx, items: ReadonlyArray<{ name: string; path: string }>, what: string): void {
  const first = new Map<string, string>();
  for (const { name, path } of items) {
    const prior = first.get(name);
    if (prior !== undefined)
      err(ctx, path, `duplicate ${what} name ${JSON.stringify(name)} (first defined at ${prior})`);
    else first.set(name, path);
  }
}

function checkRefs(ctx: Ctx, known: readonly string[]): void {
  const defined = new Set([...ctx.clusters.map((c) => c.name), ...known]);
  for (const ref of ctx.refs) {
    if (defined.has(ref.name)) continue;
    const hint = closest(ref.name, defined);
    err(
      ctx,
      ref.path,
      `${ref.via} refers to cluster ${JSON.stringify(ref.name)}, which is not defined${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : defined.size ? `; defined clusters: ${[...defined].join(', ')}` : ''}`,
    );
  }
}

/** Resolves a `--type` value (short name or full message name) to the full proto name. */
export function resolveEnvoyType(type: string): string {
  return ENVOY_RESOURCE_TYPES[type] ?? type.replace(/^type\.googleapis\.com\//, '');
}

/**
 * Validates a parsed YAML/JSON document as an Envoy config of the given type (default Bootstrap)
 * against Envoy's v3 API protos. Never throws on bad input: every problem is in `errors`.
 */
export function validateEnvoyConfig(doc: unknown, opts: ValidateEnvoyOptions = {}): EnvoyValidation {
  const { root } = loadEnvoyProtos();
  const typeName = resolveEnvoyType(opts.type ?? 'bootstrap');
  const ctx: Ctx = {
    root,
    errors: [],
    warnings: [],
    maxErrors: opts.maxErrors ?? 100,
    envoyVersion: opts.envoyVersion ?? PROTOS_ENVOY_VERSION,
    refs: [],
    clusters: [],
    listeners: [],
  };
  const known = opts.knownClusters ?? [];
  if (typeName === 'snippet') {
    if (!isObject(doc))
      err(ctx, '', `expected a mapping with ${Object.keys(SNIPPET_KEYS).join(', ')}, got ${describe(doc)}`);
    else {
      for (const [key, v] of Object.entries(doc)) {
        const itemType = SNIPPET_KEYS[key];
        if (!itemType) {
          err(
            ctx,
            key,
            `unknown snippet section ${JSON.stringify(key)}; expected ${Object.keys(SNIPPET_KEYS).join(', ')}`,
          );
          continue;
        }
        if (!Array.isArray(v)) {
          err(ctx, key, `expected a list, got ${describe(v)}`);
          continue;
        }
        const t = root.lookupType(itemType);
        v.forEach((item, i) => checkValue(ctx, t, item, `${key}[${i}]`, undefined));
      }
    }
    checkDuplicates(ctx, ctx.clusters, 'cluster');
    checkRefs(ctx, known);
    return { ok: ctx.errors.length === 0, type: typeName, errors: ctx.errors, warnings: ctx.warnings };
  }
  const found = root.lookup(typeName);
  if (!(found instanceof protobuf.Type)) {
    const hint = closest(typeName, [...Object.keys(ENVOY_RESOURCE_TYPES), ...allTypeNames(root)]);
    err(ctx, '', `unknown config type ${JSON.stringify(typeName)}${hint ? ` (did you mean ${hint}?)` : ''}`);
    return { ok: false, type: typeName, errors: ctx.errors, warnings: ctx.warnings };
  }
  const rootTypeUrl = isObject(doc) ? doc['@type'] : undefined;
  if (rootTypeUrl !== undefined && !SPECIAL_JSON.has(typeName) && typeName !== 'google.protobuf.Any') {
    // A typed_config copied out on its own keeps its @type: it must name the type asked for.
    const named = typeof rootTypeUrl === 'string' ? resolveAny(ctx, rootTypeUrl) : undefined;
    if (named !== found)
      err(ctx, '@type', `"@type" ${JSON.stringify(rootTypeUrl)} does not match the type validated, ${typeName}`);
    checkMessage(ctx, found, doc, '', new Set(['@type']));
  } else {
    checkValue(ctx, found, doc, '', undefined);
  }
  checkDuplicates(ctx, ctx.clusters, 'cluster');
  checkDuplicates(ctx, ctx.listeners, 'listener');
  const isBootstrap = typeName === ENVOY_RESOURCE_TYPES['bootstrap'];
  const dynamic =
    isBootstrap &&
    (get(get(doc, 'dynamic_resources'), 'cds_config') !== undefined ||
      get(get(doc, 'dynamic_resources'), 'ads_config') !== undefined);
  if (dynamic && ctx.refs.length > 0) {
    warn(ctx, 'dynamic_resources', 'clusters come from CDS/ADS: cluster references were not checked');
  } else if (isBootstrap || ctx.clusters.length > 0 || known.length > 0) {
    checkRefs(ctx, known);
  } else if (ctx.refs.length > 0) {
    warn(
      ctx,
      '',
      `cluster references not checked (no clusters in this ${typeName}; pass the known cluster names to check them)`,
    );
  }
  return { ok: ctx.errors.length === 0, type: typeName, errors: ctx.errors, warnings: ctx.warnings };
}

/** Parses YAML or JSON text (one document) into a plain value; throws ST_ERR_ENVOY_INVALID on syntax errors. */
export function parseEnvoyText(text: string, source = '(input)'): unknown {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  if (docs.length !== 1) throw ERR_ENVOY_INVALID(`${source}: expected one YAML/JSON document, found ${docs.length}`);
  const doc = docs[0]!;
  if (doc.errors.length > 0) {
    throw ERR_ENVOY_INVALID(doc.errors.map((e) => `${source}: ${e.message}`).join('\n'));
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/** Formats issues one per line: `path: message`. */
export function formatEnvoyIssues(issues: readonly EnvoyIssue[]): string {
  return issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n');
}

/** Validates and throws ST_ERR_ENVOY_INVALID listing every error (for generators and tests). */
export function assertValidEnvoy(doc: unknown, opts: ValidateEnvoyOptions = {}): EnvoyValidation {
  const result = validateEnvoyConfig(doc, opts);
  if (!result.ok) throw ERR_ENVOY_INVALID(formatEnvoyIssues(result.errors));
  return result;
}
