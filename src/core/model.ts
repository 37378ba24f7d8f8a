/**
 * The records that flow through the pipeline, one way:
 * ingest → CapturedExchange → admission → (worker) decode → Point[] → detect → Finding[]
 * → publish → Detection (proto).
 *
 * Everything here is plain data: it crosses worker boundaries and is easy to test.
 */

/** Where an exchange came from. */
export type SourceName = 'mirror' | 'ext_proc' | 'replay';

/** Ordered severities; compare with SEVERITY_RANK. */
export type SeverityName = 'info' | 'low' | 'medium' | 'high' | 'critical';

export const SEVERITY_RANK: Readonly<Record<SeverityName, number>> = Object.freeze({
  info: 1,
  low: 2,
  medium: 3,
  high: 4,
  critical: 5,
});

/** Header list as received: lower-cased names, original order, duplicates kept. */
export type HeaderList = Array<[name: string, value: string]>;

/** The response half of an exchange, when ext_proc saw it. */
export interface CapturedResponse {
  status: number;
  headers: HeaderList;
  /** First bytes of the response body (capped). */
  body: Uint8Array;
  bodyTruncated: boolean;
  /** Who produced the response: 'shadowtap' when ext_proc blocking mode answered it. Default 'upstream'. */
  origin?: 'upstream' | 'shadowtap';
}

/** One HTTP request (and maybe its response) as seen by an ingest. */
export interface CapturedExchange {
  /** shadowtap's own id for this exchange. */
  id: string;
  /** x-request-id when present, else `id`. The correlation key with Envoy and app logs. */
  requestId: string;
  source: SourceName;
  /** Epoch milliseconds when the request head arrived. */
  receivedAt: number;
  clientIp: string;
  /** Authority with Envoy's `-shadow` suffix removed (port kept). */
  host: string;
  method: string;
  /** Request target exactly as sent (path + query), e.g. `/a/b?x=1`. */
  target: string;
  /** "1.1" or "2". */
  httpVersion: string;
  headers: HeaderList;
  /** First bytes of the request body, up to the configured cap. */
  body: Uint8Array;
  /** True when the body was longer than the cap (only the head is analysed). */
  bodyTruncated: boolean;
  /** Total body bytes seen on the wire (also past the cap). */
  bodyBytesSeen: number;
  response?: CapturedResponse;
}

/** One value an attacker controls, fully decoded. */
export interface Point {
  /** Stable path: `query.id`, `body.json.user.name`, `header.user-agent`, `path.2`, … */
  location: string;
  value: string;
  /** Decodings applied to reach `value`, outermost first: ['gzip', 'json', 'base64']. */
  chain: string[];
  /** 'key' when the value is a parameter or JSON key name, else 'value'. */
  kind: 'value' | 'key';
}

/** A limit or oddity met while decoding; itself a signal (evasion by oversize, bombs…). */
export interface Anomaly {
  /** Stable code, e.g. 'body_truncated', 'decompression_ratio', 'json_depth'. */
  code: string;
  location: string;
  detail: string;
}

/** The decoded view of one request that detectors inspect. */
export interface DecodedRequest {
  method: string;
  host: string;
  /** Raw path without the query string. */
  path: string;
  /** Normalised path (dot segments resolved, decoded once). */
  normalizedPath: string;
  headers: HeaderList;
  points: Point[];
  anomalies: Anomaly[];
  /**
   * Request-level numbers measured while decoding, for detectors of abuse patterns, e.g.
   * `graphql.depth`, `graphql.aliases`, `graphql.batch` (see docs/decoding.md).
   */
  facts?: Record<string, number>;
}

export type Sensitivity = 'low' | 'default' | 'high';

/** What one detector says about one point (or the whole request). */
export interface Hit {
  /** Attack class: 'sqli', 'xss', 'rce', 'path_traversal', 'ssrf', … */
  attackType: string;
  /** Stable rule id, e.g. 'ST-SQLI-001'. */
  ruleId: string;
  severity: SeverityName;
  /** 0..1 */
  confidence: number;
  /** The part of the value that matched (untruncated here; publish truncates/redacts). */
  fragment: string;
  /** Short human reason. */
  reason: string;
}

/** What the response says about a finding (ext_proc exchanges only). */
export interface ResponseCorrelation {
  /** True when the response suggests the attack reached its target. */
  suggestsSuccess: boolean;
  /** Short human reason, e.g. 'HTTP 200 with database error text'. */
  reason: string;
}

/** A hit bound to the value it was found in. */
export interface Finding extends Hit {
  location: string;
  chain: string[];
  tags?: string[];
  /** Set by analysis when the exchange carries a response. */
  correlation?: ResponseCorrelation;
}

/** Context handed to detectors. */
export interface DetectContext {
  sensitivity: Sensitivity;
  request: DecodedRequest;
  /** performance.now() value after which detectors must stop and return what they have. */
  deadline: number;
}

/** The response as response-side detectors see it: body decompressed and decoded to text once. */
export interface ResponseView {
  status: number;
  headers: HeaderList;
  /** Lower-cased media type without parameters, '' when absent. */
  contentType: string;
  /** Body as text (decompressed when content-encoding allows, capped). */
  text: string;
  /** True when the body was cut (capture cap, decompression cap or a decode failure). */
  truncated: boolean;
}

/** Context handed to `inspectResponse`. */
export interface ResponseContext extends DetectContext {
  response: ResponseView;
  /** National id formats to look for in responses (e.g. 'us_ssn'), from analysis.response. */
  nationalIds: readonly string[];
}

/**
 * A detector is one module exporting one of these. `inspectPoint` sees each point;
 * `inspectRequest` (optional) sees the whole request once (scanners, protocol anomalies).
 */
export interface Detector {
  /** Short id, e.g. 'sqli'. */
  id: string;
  inspectPoint?(point: Point, ctx: DetectContext): Hit[];
  inspectRequest?(req: DecodedRequest, ctx: DetectContext): Finding[];
  /** Sees the response once, when the exchange has one (ext_proc); leaks, errors, PII. */
  inspectResponse?(exchange: CapturedExchange, ctx: ResponseContext): Finding[];
}

/** What analysis returns for one exchange. */
export interface AnalysisResult {
  exchangeId: string;
  findings: Finding[];
  anomalies: Anomaly[];
  /** Wall time spent in decode + detect, ms. */
  durationMs: number;
  /** True when the per-request budget cut analysis short. */
  budgetExceeded: boolean;
}
