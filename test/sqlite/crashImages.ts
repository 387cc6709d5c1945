/**
 * The check shared by the simulated-crash suites (durability.test.ts on the Node file seam,
 * webFiles.test.ts on the web one): a crash image must reopen holding every acknowledged write, and
 * the files recovery leaves must take a new write that survives the next crash.
 */
import * as assert from 'node:assert/strict';
import type { RegistryStorage } from '../../src/registry';

/** Value of a key: a string, or null when absent. */
export type State = Map<string, string | null>;

export interface Checkpoint<Image> {
  label: string;
  image: Image;
  /** What every acknowledged write left. */
  acked: State;
  /** Writes started and not acknowledged at the crash: either outcome is allowed. */
  inflight: State;
}

/** A simulated file system that can start from a crash image and give the image a crash now would leave. */
export interface CrashSim<Image> {
  crashImage(): Image;
}

/** Every key and value of a registry, read by pages. */
export async function contents(r: RegistryStorage): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let after: string | undefined;
  for (;;) {
    const page = await r.list({ after, limit: 500 });
    const values = await r.retrieveMany(page.keys);
    page.keys.forEach((k, i) => out.set(k, values[i]!));
    if (page.next === undefined) {
      return out;
    }
    after = page.next;
  }
}

/**
 * Opens a crash image and checks that it holds every acknowledged write (in-flight ones may go
 * either way); then writes once more and crashes again (no close), and checks that image too:
 * recovery must leave files that the next writer can append to.
 */
export async function verifyCrashImage<Image, Sim extends CrashSim<Image>>(
  cp: Checkpoint<Image>,
  simulate: (image: Image) => Sim,
  open: (sim: Sim) => Promise<RegistryStorage>,
): Promise<void> {
  const sim = simulate(cp.image);
  const r = await open(sim);
  let found: Map<string, string>;
  try {
    const actual = await contents(r);
    for (const k of new Set([...cp.acked.keys(), ...cp.inflight.keys(), ...actual.keys()])) {
      const got = actual.get(k) ?? null;
      const allowed = [cp.acked.get(k) ?? null];
      if (cp.inflight.has(k)) {
        allowed.push(cp.inflight.get(k)!);
      }
      assert.ok(allowed.includes(got), `crash image "${cp.label}": key ${k} holds ${JSON.stringify(got)}, expected one of ${JSON.stringify(allowed)}`);
    }
    found = actual;
    await r.store('after/recovery', cp.label);
  } catch (err) {
    await r.close();
    throw err;
  }
  const again = await open(simulate(sim.crashImage()));
  try {
    const actual = await contents(again);
    assert.equal(actual.get('after/recovery'), cp.label, `crash image "${cp.label}": a write after recovery survives the next crash`);
    actual.delete('after/recovery');
    assert.deepEqual(actual, found, `crash image "${cp.label}": the second recovery finds the same data`);
  } finally {
    await again.close();
    await r.close();
  }
}
