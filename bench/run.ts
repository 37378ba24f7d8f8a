/**
 * `npm run bench [name…]`: runs every bench/bench-*.ts (or the named ones) one after the
 * other, writes bench/results/<name>.json and bench/results/latest.md.
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { BenchReport } from './bench-types.js';

const dir = new URL('.', import.meta.url);
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => /^bench-.*\.ts$/.test(f) && f !== 'bench-types.ts')
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
mkdirSync(new URL('results/', dir), { recursive: true });
const sections: string[] = [`# shadowtap benchmark\n\nMachine: ${machine}. Date: ${new Date().toISOString()}.\n`];

for (const file of files) {
  const mod = (await import(new URL(file, dir).href)) as { default: () => Promise<BenchReport | BenchReport[]> };
  console.error(`bench: ${file}…`);
  const result = await mod.default();
  for (const report of Array.isArray(result) ? result : [result]) {
    const slug = report.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    writeFileSync(
      new URL(`results/${slug}.json`, dir),
      JSON.stringify({ machine, date: new Date().toISOString(), ...report }, null, 2) + '\n',
    );
    sections.push(toMarkdown(report));
  }
}
const md = sections.join('\n');
writeFileSync(new URL('results/latest.md', dir), md);
console.log(md);

function toMarkdown(report: BenchReport): string {
  const keys = [...new Set(report.rows.flatMap((r) => Object.keys(r)))];
  const lines = [`## ${report.name}\n`];
  if (keys.length > 0) {
    lines.push(`| ${keys.join(' | ')} |`, `| ${keys.map(() => '---').join(' | ')} |`);
    for (const r of report.rows) lines.push(`| ${keys.map((k) => String(r[k] ?? '')).join(' | ')} |`);
  }
  for (const n of report.notes ?? []) lines.push('', `- ${n}`);
  return lines.join('\n') + '\n';
}
