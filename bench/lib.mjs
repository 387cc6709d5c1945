// Shared helpers of the benchmark scripts: timing, tables, results file.
import { createRequire } from 'node:module';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const require = createRequire(import.meta.url);
/** The public entry, as other extensions and scripts use it. */
export const registry = require(path.join(root, 'dist', 'registry.js'));

export const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);

/** A ~200-byte value that differs per key. */
export function valueFor(i) {
  return `{"id":${i},"payload":"${'v'.repeat(170)}","n":${i % 97}}`;
}
export function keyFor(i) {
  return `bench/f${String(i % 50).padStart(2, '0')}/k${String(i).padStart(6, '0')}`;
}

/** Runs `op(i)` (sequentially, awaited) until `minMs` passed and at least `minOps` ran; returns ops/s. */
export async function rate(op, { minMs = 300, minOps = 50, maxOps = 1e7 } = {}) {
  // warm-up
  for (let i = 0; i < Math.min(20, minOps); i++) {await op(i);}
  const t0 = performance.now();
  let n = 0;
  while ((n < minOps || performance.now() - t0 < minMs) && n < maxOps) {
    await op(n++);
  }
  return (n * 1000) / (performance.now() - t0);
}

/** Runs `total` calls of `op(i)` with `inFlight` outstanding at a time; returns ops/s. */
export async function rateConcurrent(op, total, inFlight) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {await op(next++);}
    }),
  );
  return (total * 1000) / (performance.now() - t0);
}

/** Time of one call in ms. */
export async function once(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export function pseudoRandom(seed = 42) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

export class Results {
  rows = [];
  notes = [];
  /** opsPerSec and floor are in ops/s (higher is better) unless `unit` says otherwise. */
  add(backend, operation, n, opsPerSec, floor, floorName, unit = 'ops/s') {
    const ratio = floor ? opsPerSec / floor : undefined;
    const row = { backend, operation, n, opsPerSec: round(opsPerSec), floor: floor === undefined ? null : round(floor), floorName, ratioToFloor: ratio === undefined ? null : Math.round(ratio * 1000) / 1000, unit };
    this.rows.push(row);
    const f = floor === undefined ? '' : `  floor ${fmt(floor)} (${floorName})  ratio ${row.ratioToFloor}`;
    console.log(`${backend.padEnd(9)} ${operation.padEnd(26)} n=${String(n).padEnd(7)} ${fmt(opsPerSec)} ${unit}${f}`);
  }
  note(text) {
    this.notes.push(text);
    console.log(`note: ${text}`);
  }
  write(file = path.join(root, 'bench', 'results.json')) {
    mkdirSync(path.dirname(file), { recursive: true });
    const data = { date: new Date().toISOString(), node: process.version, cpus: (require('node:os').cpus() ?? []).length, rows: this.rows, notes: this.notes };
    writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
    console.log(`\nwrote ${path.relative(root, file)}`);
  }
  /** Markdown table for the README. */
  markdown() {
    const lines = ['| backend | operation | n | result | floor | vs floor |', '|---|---|---:|---:|---:|---:|'];
    for (const r of this.rows) {
      lines.push(`| ${r.backend} | ${r.operation} | ${r.n.toLocaleString('en-US')} | ${fmt(r.opsPerSec)} ${r.unit} | ${r.floor === null ? '' : `${fmt(r.floor)} (${r.floorName})`} | ${r.ratioToFloor === null ? '' : r.ratioToFloor + 'x'} |`);
    }
    return lines.join('\n');
  }
}

function round(x) {
  return x >= 100 ? Math.round(x) : Math.round(x * 100) / 100;
}
export function fmt(x) {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : (Math.round(x * 100) / 100).toString();
}
