/**
 * Entry of the sqlite worker thread on Node (dist/sqliteThread.js; out/…/sqliteThread.js in tests):
 * wires the worker's port, the engine and Node's file seam to serveSqlite. Everything else about the
 * worker is free of Node APIs (sqliteServe.ts, sqliteProtocol.ts).
 */
import { parentPort } from 'node:worker_threads';
import { openSqliteRegistry } from './sqlite';
import { nodeFileSystem } from './sqliteNodeFiles';
import type { FromEngine, ToEngine } from './sqliteProtocol';
import { serveSqlite } from './sqliteServe';

const port = parentPort;
if (port) {
  serveSqlite(
    {
      post: (message: FromEngine) => port.postMessage(message),
      onMessage: (handler: (message: ToEngine) => void) => port.on('message', handler),
    },
    { open: openSqliteRegistry, localFiles: nodeFileSystem },
  );
}
