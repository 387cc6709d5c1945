/**
 * The crash test: a child process writes continuously (several writers at once, so journal
 * records are group-committed) and is SIGKILLed at a random moment. After every kill the registry
 * opens and holds every write the child had acknowledged. Rounds alternate between checking in
 * place (which takes over the dead child's lock) and checking a copy (so that the next child starts
 * from the raw crashed files). The later rounds use a tiny compactBytes over a larger registry, so
 * that kills land during compactions.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openRegistry } from '../../src/registry';
import { contents } from './crashImages';

const WRITER = path.join(__dirname, 'fixtures', 'crashWriter.js');

interface Op {
  /** key -> value (null: removed) */
  changes: [string, string | null][];
}

interface RoundResult {
  begun: Map<number, Op>;
  acked: Set<number>;
  order: number[];
  compactions: number;
  stderr: string;
}

/**
 * Runs the writer and SIGKILLs it `killAfterMs` after the moment `armOn` names: its start
 * ('spawn': the kill may land while it opens and recovers the previous crash), its first
 * acknowledged write ('ack'), or its first completed compaction ('compaction'). Arming on an ack
 * or a compaction keeps the round meaningful however slow a loaded machine makes the writer.
 */
function runAndKill(file: string, compactBytes: number, seed: number, killAfterMs: number, armOn: 'spawn' | 'ack' | 'compaction'): Promise<RoundResult> {
  return new Promise((resolve, reject) => {
    // What the writer did is read from its protocol file after the kill: its stdout only arms the
    // kill, since a pipe write is asynchronous once the pipe is full and the SIGKILL drops it.
    const protocolFile = `${file}.protocol-${seed}`;
    writeFileSync(protocolFile, '');
    const child = spawn(process.execPath, [WRITER, file, String(compactBytes), String(seed), '6', protocolFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const res: RoundResult = { begun: new Map(), acked: new Set(), order: [], compactions: 0, stderr: '' };
    let buf = '';
    let killed = false;
    const kill = () => {
      killed = true;
      child.kill('SIGKILL');
    };
    let armed = false;
    const arm = () => {
      if (!armed) {
        armed = true;
        setTimeout(kill, killAfterMs);
      }
    };
    if (armOn === 'spawn') {
      arm();
    }
    const timer = setTimeout(() => {
      if (!killed) {
        child.kill('SIGKILL');
        reject(new Error(`the writer did not reach its ${armOn} in 30 s: ${res.stderr}`));
      }
    }, 30_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (res.stderr += d));
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if ((line.startsWith('a ') && armOn === 'ack') || (line.startsWith('log ') && /Compacted/.test(line) && armOn === 'compaction')) {
          arm();
        } else if (line.startsWith('error ')) {
          res.stderr += line;
        }
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Every whole line in the protocol file was written before the writer went on.
      const lines = readFileSync(protocolFile, 'utf8').split('\n').slice(0, -1);
      rmSync(protocolFile, { force: true });
      for (const line of lines) {
        if (line.startsWith('b ')) {
          const sp = line.indexOf(' ', 2);
          const n = Number(line.slice(2, sp));
          const op = JSON.parse(line.slice(sp + 1)) as { k?: string; v?: string | null; m?: [string, string][] };
          res.begun.set(n, { changes: op.m ? op.m.map(([k, v]) => [k, v]) : [[op.k!, op.v ?? null]] });
          res.order.push(n);
        } else if (line.startsWith('a ')) {
          res.acked.add(Number(line.slice(2)));
          res.order.push(-1 - Number(line.slice(2)));
        } else if (line.startsWith('log ') && /Compacted/.test(line)) {
          res.compactions++;
        } else if (line.startsWith('error ')) {
          res.stderr += line;
        }
      }
      if (signal === 'SIGKILL' && killed) {
        resolve(res);
      } else {
        reject(new Error(`the writer exited on its own (code ${code}, signal ${signal}): ${res.stderr}`));
      }
    });
  });
}

describe('sqlite crash test (SIGKILL)', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    assert.ok(existsSync(WRITER), `${WRITER} is missing: run npm run build:tests`);
    dir = mkdtempSync(path.join(tmpdir(), 'nautilus-crash-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('after each of 24 kills at random moments, the registry holds every acknowledged write', async () => {
    const seed = Number(process.env.NAUTILUS_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
    let s = seed;
    const rand = () => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s / 2 ** 31;
    };
    const file = path.join(dir, 'crash.db');
    /** What the registry must hold: key -> value, for keys whose state is known. */
    const model = new Map<string, string>();
    let totalAcked = 0;
    let roundsWithAcks = 0;
    let compactions = 0;
    for (let round = 0; round < 24; round++) {
      const tiny = round >= 14;
      if (round === 14) {
        // A larger registry, so that each compaction takes a while and kills land inside them.
        const r = await openRegistry({ backend: 'sqlite', file });
        const entries = Array.from({ length: 5000 }, (_, i) => ({ key: `pre/${i}`, value: 'p'.repeat(300) }));
        await r.storeMany(entries);
        entries.forEach((e) => model.set(e.key, e.value));
        await r.close();
      }
      // Every fifth round the kill may land while the writer opens and recovers the last crash.
      const fromSpawn = round % 5 === 4;
      const killAfter = fromSpawn ? 50 + Math.floor(rand() * 300) : 20 + Math.floor(rand() * 250);
      const res = await runAndKill(file, tiny ? 2048 : 64 * 1024, Math.floor(rand() * 2 ** 31), killAfter, fromSpawn ? 'spawn' : tiny ? 'compaction' : 'ack');
      compactions += res.compactions;
      // Expected state per key: the last acknowledged write, or any write begun after it.
      const last = new Map<string, string | null>();
      const maybe = new Map<string, (string | null)[]>();
      const ackedOrder = res.order.filter((x) => x < 0).map((x) => -1 - x);
      for (const n of ackedOrder) {
        for (const [k, v] of res.begun.get(n)!.changes) {
          last.set(k, v);
          maybe.delete(k); // one operation per key at a time: an ack settles what came before
        }
      }
      for (const [n, op] of res.begun) {
        if (!res.acked.has(n)) {
          for (const [k, v] of op.changes) {
            maybe.set(k, [...(maybe.get(k) ?? []), v]);
          }
        }
      }
      totalAcked += res.acked.size;
      roundsWithAcks += res.acked.size > 0 ? 1 : 0;
      // Check in place (taking over the dead writer's lock) or on a copy (leaving the crashed files for the next writer).
      const inPlace = round % 2 === 0;
      let checkFile = file;
      if (!inPlace) {
        const copyDir = mkdtempSync(path.join(dir, 'copy-'));
        checkFile = path.join(copyDir, 'crash.db');
        for (const suffix of ['', '.nautilus-log']) {
          if (existsSync(file + suffix)) {
            copyFileSync(file + suffix, checkFile + suffix);
          }
        }
      }
      const r = await openRegistry({ backend: 'sqlite', file: checkFile, lockTimeoutMs: 5000 });
      const actual = await contents(r);
      await r.close();
      const keys = new Set([...model.keys(), ...last.keys(), ...maybe.keys(), ...actual.keys()]);
      for (const k of keys) {
        const got = actual.get(k) ?? null;
        const known = last.has(k) ? last.get(k)! : (model.get(k) ?? null);
        const allowed = [known, ...(maybe.get(k) ?? [])];
        assert.ok(
          allowed.includes(got),
          `round ${round} (killed ${killAfter} ms after ready, seed ${seed}): key ${k} holds ${JSON.stringify(got)?.slice(0, 40)}, expected one of ${JSON.stringify(allowed.map((a) => a?.slice(0, 40)))}`,
        );
        // What was found is now known (the next writer starts from it).
        if (got === null) {
          model.delete(k);
        } else {
          model.set(k, got);
        }
      }
    }
    console.log(
      `      crash test: 24 kills, ${totalAcked} acknowledged operations checked (${roundsWithAcks} rounds acknowledged some), ${compactions} compactions completed before kills (seed ${seed})`,
    );
    // Not vacuous: most rounds got writes acknowledged before the kill (a slow disk may stall a few).
    assert.ok(roundsWithAcks >= 8 && totalAcked >= 100, `only ${roundsWithAcks} of 24 rounds (${totalAcked} operations) acknowledged writes before the kill`);
    assert.ok(compactions > 0, 'compactions ran during the rounds with a tiny compactBytes');
  });
});
