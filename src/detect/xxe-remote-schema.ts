import type { Rule } from './detect-kit.js';

/*
 * XML markup in a value that makes a validating parser fetch a schema from a host the attacker
 * names: `<x xmlns="http://a.b/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 * xsi:schemaLocation="http://a.b/ http://probe.attacker.example/x.xsd">`. Parsers that honour
 * `xsi:schemaLocation` / `xsi:noNamespaceSchemaLocation` (Xerces with schema validation,
 * .NET XmlReader with ProcessSchemaLocation, libxml2-based validators) request that URL: an
 * out-of-band interaction or SSRF, with `file:`/`jar:` a local read. It is Burp Scanner's
 * out-of-band XML injection probe (CRS files it under 941130). Documented in Späth et al.,
 * "SoK: XML Parser Vulnerabilities" (WOOT 2016), as the schemaLocation attack.
 *
 * Real documents carry schema locations too (a pom.xml or Spring config pasted in a comment),
 * but they publish the schema next to its namespace (`http://maven.apache.org/POM/4.0.0
 * http://maven.apache.org/xsd/maven-4.0.0.xsd`). So: the `xsi` prefix must be bound to the
 * XMLSchema-instance namespace in the value, and a schema counts at the default sensitivity
 * when it is local (`file:`, `jar:`, `netdoc:`) or lives under a different domain than the
 * namespace it is declared for; a remote schema without a namespace to compare with only at
 * high sensitivity. XML bodies are decoded into attribute points, so they never reach this as
 * markup; this reads XML carried inside a parameter, a JSON string or an unparsed body.
 *
 * Rule id: ST-XXE-008.
 */

export const REMOTE_SCHEMA_RULE = {
  id: 'ST-XXE-008',
  attackType: 'xxe',
  severity: 'high',
} as const satisfies Rule;

const XSI_BINDING = /\bxmlns:([\w.-]+)\s*=\s*["']\s*http:\/\/www\.w3\.org\/2001\/XMLSchema-instance\s*["']/gi;
const LOCAL_SCHEME = /^(?:file|jar|netdoc):/i;

/** The registrable part of a URL's host (last two labels; an IP address whole), or undefined. */
function siteOf(uri: string): string | undefined {
  const m = /^[a-z][\w+.-]*:\/\/(?:[^/?#@\s]*@)?(\[[^\]]*\]|[^/?#:\s]+)/i.exec(uri);
  if (!m) return undefined;
  const host = m[1]!.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[') || /^[\d.]+$/.test(host)) return host;
  return host.split('.').slice(-2).join('.');
}

export interface RemoteSchemaFinding {
  confidence: number;
  fragment: string;
  reason: string;
}

/** Schema locations in XML markup carried by `value` that a validating parser would fetch. */
export function remoteSchemaLocations(value: string): RemoteSchemaFinding[] {
  if (!value.includes('chemaLocation') || !value.includes('<')) return [];
  const out: RemoteSchemaFinding[] = [];
  for (const binding of value.matchAll(XSI_BINDING)) {
    const prefix = binding[1]!.replace(/[.-]/g, '\\$&');
    const attr = new RegExp(
      `\\b${prefix}:(schemaLocation|noNamespaceSchemaLocation)\\s*=\\s*(["'])([^"'<>]{1,2000})\\2`,
      'gi',
    );
    for (const m of value.matchAll(attr)) {
      const parts = m[3]!.trim().split(/\s+/);
      const pairs: Array<[string | undefined, string]> =
        m[1]!.toLowerCase() === 'nonamespaceschemalocation'
          ? [[undefined, parts[0]!]]
          : parts.flatMap((p, i) => (i % 2 === 1 ? [[parts[i - 1], p] as [string, string]] : []));
      for (const [ns, schema] of pairs) {
        const site = siteOf(schema);
        let confidence = 0;
        if (LOCAL_SCHEME.test(schema)) confidence = 0.8;
        else if (site === undefined) continue;
        else if (ns === undefined || siteOf(ns) === undefined) confidence = 0.5;
        else if (siteOf(ns) !== site) confidence = 0.7;
        if (confidence === 0) continue;
        out.push({
          confidence,
          fragment: m[0].slice(0, 300),
          reason: `XML schema location ${schema.slice(0, 120)} for a validating parser to fetch`,
        });
      }
    }
  }
  return out;
}
