// Writes the measured table of bench/results.json into README.md, between the
// <!-- bench-table --> and <!-- /bench-table --> markers: `node bench/readme.mjs` after `npm run bench`.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { root, fmt } from './lib.mjs';

const data = JSON.parse(readFileSync(path.join(root, 'bench', 'results.json'), 'utf8'));
const start = '<!-- bench-table -->';
const end = '<!-- /bench-table -->';
const lines = [start, ''];
lines.push(`Measured ${data.date.slice(0, 10)} on ${data.cpus} cores, Node ${data.node}. Each ratio compares with the floor in the same row, measured in the same run (for ops/s higher is better; for ms, KiB and MiB the ratio is the registry's size or time over the floor's).`, '');
const targets = data.notes.filter((n) => n.startsWith('target: ')).map((n) => n.slice('target: '.length));
if (targets.length) {
  lines.push('Targets from the issues, as measured in this run:', '');
  for (const t of targets) {lines.push(`- ${t}`);}
  lines.push('');
}
const other = data.notes.filter((n) => !n.startsWith('target: '));
for (const n of other) {lines.push(`- ${n}`);}
if (other.length) {lines.push('');}
lines.push('| backend | operation | keys | result | floor (same run) | vs floor |', '|---|---|---:|---:|---|---:|');
for (const r of data.rows) {
  const floor = r.floor === null ? '' : `${fmt(r.floor)} ${r.unit} (${r.floorName})`;
  lines.push(`| ${r.backend} | ${r.operation} | ${r.n.toLocaleString('en-US')} | ${fmt(r.opsPerSec)} ${r.unit} | ${floor} | ${r.ratioToFloor === null ? '' : r.ratioToFloor + 'x'} |`);
}
lines.push('', end);
const readmePath = path.join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const a = readme.indexOf(start);
if (a < 0) {throw new Error(`README.md has no ${start} marker`);}
const b = readme.indexOf(end);
const next = readme.slice(0, a) + lines.join('\n') + (b < 0 ? readme.slice(a + start.length) : readme.slice(b + end.length));
writeFileSync(readmePath, next);
console.log(`README.md: ${data.rows.length} rows from bench/results.json`);
