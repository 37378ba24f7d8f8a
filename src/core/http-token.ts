/**
 * An HTTP token (RFC 9110 §5.6.2): the grammar of methods and field names. The ingest parser
 * rejects field names that are not tokens; the protocol detector reports methods and names
 * that are not (from ext_proc, where Envoy's own parser came first).
 */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
