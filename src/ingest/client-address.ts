import type { HeaderList } from '../core/model.js';

/** Removes the IPv4-mapped IPv6 prefix so that 10.0.0.1 is one address, not two. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function header(headers: HeaderList, name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

/**
 * The client address of a mirrored request. Envoy's `x-envoy-external-address` wins (set by
 * Envoy when it trusts itself as the edge); otherwise X-Forwarded-For read from the right
 * with Envoy's own semantics: `trustedHops` additional proxies are skipped, so with 0 the
 * rightmost entry (appended by the proxy that mirrored to us) is the client.
 */
export function clientAddress(headers: HeaderList, socketAddress: string | undefined, trustedHops: number): string {
  const external = header(headers, 'x-envoy-external-address')?.trim();
  if (external) return normalizeIp(external);
  const xff: string[] = [];
  for (const [n, v] of headers) {
    if (n === 'x-forwarded-for') for (const part of v.split(',')) if (part.trim()) xff.push(part.trim());
  }
  if (xff.length > 0) {
    const idx = Math.max(0, xff.length - 1 - trustedHops);
    return normalizeIp(xff[idx]!);
  }
  return normalizeIp(socketAddress ?? '');
}

/**
 * Envoy appends `-shadow` to the host of a mirrored request, before the port
 * (`api.example.com-shadow:8443`). The analysed host is the one the client asked for.
 */
export function stripShadowSuffix(authority: string): string {
  const m = /^(.*?)-shadow(:\d+)?$/i.exec(authority);
  return m ? `${m[1]}${m[2] ?? ''}` : authority;
}
