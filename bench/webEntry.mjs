// The browser side of bench/web.mjs: the core (browser build) on the web file seam over the origin
// private file system (OPFS), its engine in a Web Worker, exposed to the page as window.benchWeb(sizes).
import { openRegistry, webFileSystem } from '../src/registry/index';
import { measure } from './webProcedure.mjs';

/** The BasicFileSystem of the web seam over OPFS ('/'-separated paths below the origin's root). */
function opfsFiles() {
  const dirOf = async (dir, create) => {
    let d = await navigator.storage.getDirectory();
    for (const part of dir.split('/').filter(Boolean)) {
      d = await d.getDirectoryHandle(part, { create });
    }
    return d;
  };
  const split = (p) => [p.slice(0, p.lastIndexOf('/')) || '/', p.slice(p.lastIndexOf('/') + 1)];
  const missing = (err) => err?.name === 'NotFoundError';
  return {
    async readFile(p) {
      const [dir, name] = split(p);
      try {
        const file = await (await (await dirOf(dir, false)).getFileHandle(name)).getFile();
        return new Uint8Array(await file.arrayBuffer());
      } catch (err) {
        if (missing(err)) {
          return undefined;
        }
        throw err;
      }
    },
    async writeFile(p, data) {
      const [dir, name] = split(p);
      const w = await (await (await dirOf(dir, true)).getFileHandle(name, { create: true })).createWritable();
      await w.write(data);
      await w.close();
    },
    async delete(p) {
      const [dir, name] = split(p);
      try {
        await (await dirOf(dir, false)).removeEntry(name);
      } catch (err) {
        if (!missing(err)) {
          throw err;
        }
      }
    },
    async readDirectory(dir) {
      try {
        const out = [];
        for await (const [name, handle] of (await dirOf(dir, false)).entries()) {
          if (handle.kind === 'file') {
            out.push(name);
          }
        }
        return out;
      } catch (err) {
        if (missing(err)) {
          return [];
        }
        throw err;
      }
    },
  };
}

window.benchWeb = async (sizes, minMs, inline = false) => {
  const wasmBinary = new Uint8Array(await (await fetch('/sql-wasm.wasm')).arrayBuffer());
  const root = await navigator.storage.getDirectory();
  await root.removeEntry('bench', { recursive: true }).catch(() => undefined);
  // Without the script the engine runs on the page's thread (bench/web.mjs: BENCH_WEB_ENGINE=inline).
  const engineWorkerScript = inline ? undefined : await (await fetch('/sqliteThread.js')).text();
  const fileSystem = webFileSystem(opfsFiles());
  const lines = [];
  const engines = new Set();
  const open = async (config) => {
    const r = await openRegistry(config);
    // sqliteProxy's test hook: a Web Worker has kind 'web'; the inline fallback has no worker.
    engines.add(r.workerForTests?.kind === 'web' ? 'a Web Worker (blob: URL)' : 'the page thread (inline fallback)');
    return r;
  };
  const rows = await measure(open, (n) => ({ backend: 'sqlite', file: `/bench/n${n}/registry.sqlite`, fileSystem, wasmBinary, engineWorkerScript }), sizes, { minMs, log: (l) => lines.push(l) });
  await root.removeEntry('bench', { recursive: true }).catch(() => undefined);
  return { rows, lines, userAgent: navigator.userAgent, locks: typeof navigator.locks === 'object', engine: [...engines].join(' and ') };
};
