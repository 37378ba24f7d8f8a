import { ERR_CONFIG_INVALID } from '../core/errors.js';

/** Turns repeated `--set KEY=VALUE` flags into dotted config overrides. */
export function setOverrides(pairs: readonly string[] | undefined): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const kv of pairs ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw ERR_CONFIG_INVALID(`  - --set: expected KEY=VALUE, got ${JSON.stringify(kv)}`);
    overrides[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return overrides;
}
