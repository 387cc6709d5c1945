/**
 * The lock file under races: many processes started at once over a stale lock (a crashed window
 * restored together with others), repeated; and every interleaving the seam's steps allow, driven
 * by a seeded scheduler over simulated files, with holders that die at any step.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireLock } from '../../src/registry/backends/sqliteLock';
import type { LockInfo, LockPrimitives } from '../../src/registry/backends/sqliteLock';
import { rng } from '../support/random';

const RACER = path.join(__dirname, 'fixtures', 'lockRace.js');

function deadPid(): number {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(dead.stdout);
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RACER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`racer exited with ${code}: ${out}`))));
  });
}

/** Checks that holds never overlap: the log alternates `+ pid` and `- pid` of the same pid. */
function checkLog(log: string, expected: number, round: number): void {
  const lines = log.trim().split('\n');
  assert.equal(lines.length, expected * 2, `round ${round}: every process took and released the lock once:\n${log}`);
  for (let i = 0; i < lines.length; i += 2) {
    const [a, b] = [lines[i], lines[i + 1]];
    assert.ok(a.startsWith('+ ') && b === `- ${a.slice(2)}`, `round ${round}: two holders at once at line ${i + 1}:\n${log}`);
  }
}

describe('sqlite lock races', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'nautilus-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('many processes started at once over a stale lock: exactly one holder at a time, every round', async () => {
    assert.ok(existsSync(RACER), `${RACER} is missing: run npm run build:tests`);
    const processes = 8;
    const rounds = Number(process.env.NAUTILUS_LOCK_ROUNDS ?? 6);
    const lockPath = path.join(dir, 'registry.db.nautilus-lock');
    for (let round = 0; round < rounds; round++) {
      const logPath = path.join(dir, `holds-${round}.log`);
      writeFileSync(logPath, '');
      writeFileSync(lockPath, JSON.stringify({ app: 'nautilus-registry', pid: deadPid(), host: os.hostname(), nonce: `0dead${round}`, since: 'a crash' }));
      const startAt = Date.now() + 800;
      await Promise.all(Array.from({ length: processes }, () => run([lockPath, logPath, String(startAt), '20'])));
      checkLog(readFileSync(logPath, 'utf8'), processes, round);
      assert.equal(existsSync(lockPath), false, 'the last holder released the lock');
    }
    console.log(`      ${rounds} rounds of ${processes} processes started at once over a stale lock: one holder at a time`);
  });

  it('every interleaving of the protocol steps (seeded scheduler), with processes dying at any step: never two live holders, every survivor gets the lock', async () => {
    const seed = Number(process.env.NAUTILUS_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const runs = 400;
    let steps = 0;
    let deaths = 0;
    let takeovers = 0;
    for (let run = 0; run < runs; run++) {
      const next = rng(seed + run);
      const LOCK = '/sim/registry.db.nautilus-lock';
      const files = new Map<string, { text: string; fileId: string; mtime: number }>();
      let clock = 0;
      let ids = 0;
      const dead = new Set<number>([999]);
      files.set(LOCK, { text: JSON.stringify({ app: 'nautilus-registry', pid: 999, host: 'h', nonce: 'deadbeef00', since: 'a crash' }), fileId: 'f0', mtime: 0 });
      /** Steps waiting for their turn: one per process at most. */
      const waiting: { pid: number; go: () => void }[] = [];
      const holders = new Set<number>();
      const primitives = (pid: number): LockPrimitives => {
        const turn = () => new Promise<void>((go) => waiting.push({ pid, go }));
        return {
          async create(p, content) {
            await turn();
            if (files.has(p)) {
              return false;
            }
            files.set(p, { text: content, fileId: `f${++ids}`, mtime: clock });
            return true;
          },
          async read(p) {
            await turn();
            const f = files.get(p);
            return f && { text: f.text, fileId: f.fileId, ageMs: clock - f.mtime };
          },
          async remove(p) {
            await turn();
            files.delete(p);
          },
          alive: (info) => !dead.has(info.pid),
          sleep: () => turn(),
          now: () => clock,
        };
      };
      const n = 3 + Math.floor(next() * 4);
      const got = new Set<number>();
      const procs = Array.from({ length: n }, async (_, i) => {
        const pid = i + 1;
        const info: LockInfo = { app: 'nautilus-registry', pid, host: 'h', nonce: `00c0ffee${pid}`, since: 'now' };
        const p = primitives(pid);
        const held = await acquireLock(p, LOCK, info, 1e12, () => 'someone');
        const others = [...holders].filter((h) => !dead.has(h));
        assert.deepEqual(others, [], `seed ${seed + run}: process ${pid} took the lock while ${others.join(', ')} held it`);
        holders.add(pid);
        got.add(pid);
        for (let k = Math.floor(next() * 4); k > 0; k--) {
          await p.sleep(1);
        }
        holders.delete(pid);
        await held.release();
      });
      let settled = 0;
      procs.forEach((pr) => void pr.then(() => settled++));
      let failure: unknown;
      procs.forEach((pr) => pr.catch((err: unknown) => (failure ??= err)));
      while (settled + dead.size - 1 < n && failure === undefined) {
        await new Promise((resolve) => setImmediate(resolve));
        if (waiting.length === 0) {
          continue;
        }
        assert.ok(++steps < 1e7);
        clock++;
        const step = waiting.splice(Math.floor(next() * waiting.length), 1)[0];
        if (next() < 0.02 && dead.size - 1 < n - 1) {
          dead.add(step.pid); // killed: this step and everything after it never happen
          deaths++;
          if (holders.has(step.pid)) {
            takeovers++;
          }
          continue;
        }
        step.go();
      }
      if (failure !== undefined) {
        throw failure;
      }
      for (let pid = 1; pid <= n; pid++) {
        assert.ok(dead.has(pid) || got.has(pid), `seed ${seed + run}: process ${pid} never got the lock`);
      }
    }
    console.log(`      ${runs} seeded runs (seed ${seed}), ${steps} steps, ${deaths} processes killed mid-protocol (${takeovers} while holding): never two live holders`);
  });

  it('a lock whose read-back fails right after it was created is removed again (this live process would otherwise wait for itself)', async () => {
    const files = new Map<string, string>();
    let failReads = 1;
    const p: LockPrimitives = {
      async create(path, content) {
        if (files.has(path)) {
          return false;
        }
        files.set(path, content);
        return true;
      },
      async read(path) {
        if (failReads-- > 0) {
          throw Object.assign(new Error('too many open files'), { code: 'EMFILE' });
        }
        const text = files.get(path);
        return text === undefined ? undefined : { text, fileId: 'f1', ageMs: 0 };
      },
      async remove(path) {
        files.delete(path);
      },
      alive: () => true,
      sleep: async () => undefined,
      now: () => 0,
    };
    const info: LockInfo = { app: 'nautilus-registry', pid: 1, host: 'h', nonce: '0123456789ab', since: 'now' };
    await assert.rejects(acquireLock(p, '/l', info, 0, () => 'x'), /too many open files/);
    assert.equal(files.size, 0);
    const held = await acquireLock(p, '/l', info, 0, () => 'x');
    await held.release();
    assert.equal(files.size, 0);
  });
});
