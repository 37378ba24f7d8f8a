/**
 * Stable anomaly codes raised by the decode stage. Detectors, dashboards and exclusions match
 * on these strings: never rename one, only add. docs/decoding.md lists each with its limit.
 */
export const ANOMALY = Object.freeze({
  // --- budget and volume -------------------------------------------------------------
  /** The ingest cap (or limits.maxBodyBytes) cut the body; only its head is analysed. */
  bodyTruncated: 'body_truncated',
  /** limits.maxPoints reached: later values are not analysed. */
  maxPoints: 'max_points',
  /** The per-request deadline passed while decoding: decoding stopped there. */
  decodeDeadline: 'decode_deadline',
  /** A decoder failed unexpectedly (a bug): the points found before it are kept. */
  decodeError: 'decode_error',
  /** limits.maxAnomalies reached: later anomalies are dropped. */
  anomaliesCapped: 'anomalies_capped',
  /** One value was longer than limits.maxValueBytes and was cut. */
  valueTruncated: 'value_truncated',
  /** A value contains a NUL character (classic truncation evasion). */
  nulByte: 'nul_byte',
  /** Bytes that are not valid UTF-8 (kept byte for byte as latin1). */
  invalidUtf8: 'invalid_utf8',
  // --- headers -------------------------------------------------------------------------
  /** More than limits.maxHeaderCount header lines. */
  headerCount: 'header_count',
  /** One header value longer than limits.maxValueBytes. */
  headerTooLarge: 'header_too_large',
  // --- transport -----------------------------------------------------------------------
  /** Decompressed body reached limits.maxDecompressedBytes. */
  decompressionLimit: 'decompression_limit',
  /** Decompressed/compressed ratio reached limits.maxDecompressionRatio (zip bomb). */
  decompressionRatio: 'decompression_ratio',
  /** Compressed stream ended early; what decompressed is analysed. */
  decompressionTruncated: 'decompression_truncated',
  /** Content-Encoding claimed but the bytes do not decompress; analysed as sent. */
  decompressionFailed: 'decompression_failed',
  /** Content-Encoding this Node version cannot decode (e.g. zstd before Node 22.15). */
  encodingUnsupported: 'content_encoding_unsupported',
  /** Body is gzip without a Content-Encoding header. */
  encodingSniffed: 'content_encoding_sniffed',
  /** Transfer-Encoding: chunked framing that does not parse. */
  chunkedMalformed: 'chunked_malformed',
  /** Charset in Content-Type that cannot be decoded; UTF-8 used. */
  charsetUnsupported: 'charset_unsupported',
  /** Body content does not match its Content-Type; decoded as what it looks like. */
  contentTypeMismatch: 'content_type_mismatch',
  // --- formats -------------------------------------------------------------------------
  /** JSON / JSON lines nested deeper than limits.maxDepth. */
  jsonDepth: 'json_depth',
  /** JSON syntax error; values before the error are analysed. */
  jsonInvalid: 'json_invalid',
  /** Query / form bracket keys nested deeper than limits.maxDepth. */
  queryDepth: 'query_depth',
  /** XML nested deeper than limits.maxDepth. */
  xmlDepth: 'xml_depth',
  /** XML syntax error; what was read before it is analysed. */
  xmlInvalid: 'xml_invalid',
  /** DOCTYPE declares entities; never expanded (XXE / billion laughs refused). */
  xmlEntitiesDeclared: 'xml_entities_declared',
  /** More than limits.maxMultipartParts parts. */
  multipartParts: 'multipart_parts',
  /** Boundary missing, unusable or never found. */
  multipartMalformed: 'multipart_malformed',
  /** Body ends before the closing boundary. */
  multipartUnterminated: 'multipart_unterminated',
  /** GraphQL document that does not parse. */
  graphqlInvalid: 'graphql_invalid',
  /** GraphQL document longer than limits.maxGraphqlTokens tokens. */
  graphqlTokens: 'graphql_tokens',
  /** Nested decodings deeper than limits.maxDecodeDepth. */
  decodeDepth: 'decode_depth',
  // --- path ----------------------------------------------------------------------------
  /** Overlong UTF-8 sequence in the path (%c0%af …). */
  pathOverlongUtf8: 'path_overlong_utf8',
  /** Path still percent-encoded after one decoding (%252e …). */
  pathDoubleEncoded: 'path_double_encoded',
  /** Dot segments climb above the root. */
  pathAboveRoot: 'path_above_root',
});

export type AnomalyCode = (typeof ANOMALY)[keyof typeof ANOMALY];
