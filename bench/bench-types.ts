/** What each `bench/bench-<name>.ts` default-exports a function returning. */
export interface BenchReport {
  /** Section title in the markdown report. */
  name: string;
  /** One row per measurement; every row of one report should have the same keys. */
  rows: Array<Record<string, string | number>>;
  /** How it was measured (inputs, counts, caveats). */
  notes?: string[];
}
