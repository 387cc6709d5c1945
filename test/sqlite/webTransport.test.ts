/**
 * The Web Worker side of the sqlite proxy's transport (sqliteTransport.ts) over a fake Web Worker:
 * a Web Worker has no 'exit' event, so an error or a message that cannot be read counts as its
 * death; terminate() fires 'exit' before it settles, as Node's does; a file image the seam let go of
 * moves instead of being copied. Also the lock probe a read-only registry uses to become writable.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openRegistry, sqliteLockIsFree } from '../../src/registry';
import { markHandedOver } from '../../src/registry/backends/sqliteFiles';
import type { FromEngine, ToEngine } from '../../src/registry/backends/sqliteProtocol';
import { WEB_ENGINE_READY, webEngineWorker } from '../../src/registry/backends/sqliteTransport';
import type { WebWorkerLike } from '../../src/registry/backends/sqliteTransport';

class FakeWebWorker implements WebWorkerLike {
  posted: { message: unknown; transfer?: unknown[] }[] = [];
  terminated = 0;
  onmessage: WebWorkerLike['onmessage'] = null;
  onerror: WebWorkerLike['onerror'] = null;
  onmessageerror: WebWorkerLike['onmessageerror'] = null;
  postMessage(message: unknown, transfer?: unknown[]): void {
    this.posted.push({ message, transfer });
  }
  terminate(): void {
    this.terminated++;
  }
}

function watch(w: ReturnType<typeof webEngineWorker>) {
  const seen: string[] = [];
  w.on('message', (m: FromEngine) => seen.push(`message:${m.t}`));
  w.on('error', (e) => seen.push(`error:${(e as Error).message}`));
  w.on('exit', (c) => seen.push(`exit:${c}`));
  return seen;
}

describe('sqlite engine over a Web Worker (transport)', () => {
  it('delivers messages, swallows the ready signal, and calls back when the script is ready', () => {
    const fake = new FakeWebWorker();
    let ready = 0;
    const w = webEngineWorker(fake, () => ready++);
    const seen = watch(w);
    fake.onmessage!({ data: WEB_ENGINE_READY });
    fake.onmessage!({ data: { t: 'log', level: 'info', text: 'hi' } });
    assert.equal(ready, 1);
    assert.deepEqual(seen, ['message:log']);
    assert.equal(w.kind, 'web');
  });

  it('an uncaught error in the worker is its death: terminated, then error and exit; nothing after', () => {
    const fake = new FakeWebWorker();
    const w = webEngineWorker(fake);
    const seen = watch(w);
    let prevented = false;
    fake.onerror!({ message: 'Uncaught RuntimeError: unreachable', preventDefault: () => (prevented = true) });
    fake.onmessage!({ data: { t: 'log', level: 'info', text: 'late' } });
    fake.onerror!({ message: 'again' });
    assert.ok(prevented, 'the error is handled here, not reported as uncaught');
    assert.equal(fake.terminated, 1);
    assert.deepEqual(seen, ["error:the engine's Web Worker failed: Uncaught RuntimeError: unreachable", 'exit:1']);
  });

  it('a message that cannot be read (messageerror) is its death too', () => {
    const fake = new FakeWebWorker();
    const seen = watch(webEngineWorker(fake));
    fake.onmessageerror!({});
    assert.equal(fake.terminated, 1);
    assert.match(seen[0], /^error:a message from the engine could not be read/);
    assert.equal(seen[1], 'exit:1');
  });

  it('terminate() fires exit before it settles, once; removeAllListeners silences it', async () => {
    const fake = new FakeWebWorker();
    const w = webEngineWorker(fake);
    const seen = watch(w);
    const done = w.terminate().then(() => seen.push('settled'));
    assert.deepEqual(seen, ['exit:1']);
    await done;
    await w.terminate();
    assert.deepEqual(seen, ['exit:1', 'settled']);
    assert.equal(fake.terminated, 1);

    const quiet = new FakeWebWorker();
    const q = webEngineWorker(quiet);
    const heard = watch(q);
    q.removeAllListeners();
    await q.terminate();
    assert.deepEqual(heard, []);
  });

  it('moves a large file image the seam let go of; copies everything else', () => {
    const fake = new FakeWebWorker();
    const w = webEngineWorker(fake);
    const big = markHandedOver(new Uint8Array(1 << 20));
    const kept = new Uint8Array(1 << 20); // not marked: the seam may still hold it
    const small = markHandedOver(new Uint8Array(16));
    const send = (v: unknown): void => w.postMessage({ t: 'fsReply', id: 1, ok: true, v } satisfies ToEngine);
    send(big);
    send(kept);
    send(small);
    w.postMessage({ t: 'close', id: 2 });
    assert.deepEqual(
      fake.posted.map((p) => p.transfer?.length ?? 0),
      [1, 0, 0, 0],
    );
    assert.equal(fake.posted[0].transfer?.[0], big.buffer);
  });
});

describe('sqliteLockIsFree (a read-only registry looks whether it can write again)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nautilus-lock-probe-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is false while another registry has the file open, true once it closed; the probe leaves the lock free', async () => {
    const file = path.join(dir, 'r.sqlite');
    assert.equal(await sqliteLockIsFree({ file }), true);
    const holder = await openRegistry({ backend: 'sqlite', file });
    try {
      assert.equal(await sqliteLockIsFree({ file }), false);
      const reader = await openRegistry({ backend: 'sqlite', file, readOnlyIfLocked: true, lockTimeoutMs: 0 });
      assert.equal(reader.describe().readOnly, true);
      await reader.close();
    } finally {
      await holder.close();
    }
    assert.equal(await sqliteLockIsFree({ file }), true);
    const writer = await openRegistry({ backend: 'sqlite', file, lockTimeoutMs: 0 });
    assert.equal(writer.describe().readOnly, false);
    await writer.close();
  });
});
