/**
 * Entry of the sqlite worker thread on Node (dist/sqliteThread.js; out/…/sqliteThread.js in tests):
 * wires the worker's port, the engine and Node's file seam to serveSqlite. Everything else about the
 * worker is free of Node APIs (sqliteServe.ts, sqliteProtocol.ts).
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RegistryFileSystem } from './sqliteFiles';
import { parentPort } from 'node:worker_threads';
import { openSqliteRegistry } from './sqlite';
import { nodeFileSystem } from './sqliteNodeFiles';
import type { FromEngine, ToEngine } from './sqliteProtocol';
import { serveSqlite } from './sqliteServe';

const port = parentPort;
if (port) {
  const gc = collectGarbageWhenIdle();
  // The engine thread runs at normal priority. It ran at nice 10 once, so that a busy machine would
  // take CPU from it rather than from the extension host; but every call of the registry waits for
  // this thread, and on a loaded 2-core machine the niced thread made a children page through the
  // worker ~20x slower (median 3.4 ms against 0.16 ms at nice 0, measured in one run).
  serveSqlite(
    {
      post: (message: FromEngine) => port.postMessage(message),
      onMessage: (handler: (message: ToEngine) => void) =>
        port.on('message', (message: ToEngine) => {
          gc?.busy();
          handler(message);
        }),
    },
    { open: openSqliteRegistry, localFiles: () => syncAppends(nodeFileSystem()), afterOpen: gc?.collectSoon, afterClose: gc?.collectSoon, defer: (fn) => void setImmediate(fn) },
  );
}

/** The thread counts as idle once no message came for this long. */
const GC_IDLE_MS = 300;
/** Collect at the latest this long after open, even if calls keep coming. */
const GC_LATEST_MS = 10_000;

/**
 * A full garbage collection of this thread once it is idle after a registry opened or closed: what
 * the open read besides the database image (which sql.js keeps as its own: the journal, up to
 * maxJournalBytes), or the closed registry's database (as large as the file), is garbage then, and an idle thread would hold it for a long time (a worker kept for reuse would
 * otherwise collect it during the next open). Not right after open: the caller's first calls (the
 * view's first page and its value previews) come then, and a full collection (tens of ms after a
 * large file) held them up.
 */
function collectGarbageWhenIdle(): { collectSoon(): void; busy(): void } | undefined {
  let gc: () => void;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
  let lastMessage = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    busy: () => {
      lastMessage = performance.now();
    },
    collectSoon: () => {
      clearTimeout(timer);
      const since = performance.now();
      const check = (): void => {
        const now = performance.now();
        const quiet = now - lastMessage;
        if (quiet < GC_IDLE_MS && now - since < GC_LATEST_MS) {
          timer = setTimeout(check, GC_IDLE_MS - quiet);
        } else {
          timer = undefined;
          gc();
        }
      };
      timer = setTimeout(check, GC_IDLE_MS);
    },
  };
}

/**
 * Node's file seam, with the journal appended and synced by blocking calls: this thread exists to
 * wait for the disk, and a write plus fdatasync without two hops through libuv's thread pool made
 * durable single stores about twice as fast (bench/worker.mjs). Everything else is unchanged.
 */
function syncAppends(base: RegistryFileSystem): RegistryFileSystem {
  return {
    ...base,
    async openAppender(path) {
      const fd = openSync(path, 'a');
      return {
        async append(data) {
          // Let the calls already queued on the port join the next batch (group commit) before
          // this thread blocks in write and fdatasync.
          await new Promise((resolve) => setImmediate(resolve));
          let off = 0;
          while (off < data.length) {
            off += writeSync(fd, data, off, data.length - off);
          }
        },
        async sync() {
          fdatasyncSync(fd);
        },
        async close() {
          closeSync(fd);
        },
      };
    },
  };
}
