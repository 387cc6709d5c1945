/**
 * A PostgreSQL for tests, e2e scripts and benchmarks.
 *
 * - NAUTILUS_TEST_POSTGRES_URL set: that server; each run gets a fresh database
 *   (nautilus_test_<pid>_<random>) that close() drops.
 * - Otherwise: PGlite (Postgres compiled to WASM) served over the wire protocol by
 *   @electric-sql/pglite-socket on 127.0.0.1 and a free port, so `pg` talks to it as to a server.
 *   Facts: pglite-socket accepts 1 connection unless told more (maxConnections is raised here);
 *   it runs one transaction at a time across all connections; every connection is the same
 *   backend (one pid, no pg_terminate_backend, NOTIFY only reaches the connection that caused it).
 *
 * `sharedTestPostgres()` starts one per mocha run on first use; the root hooks
 * (test/support/hooks.ts) close it at the end. Scripts call `startTestPostgres()` directly.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { Client } from 'pg';

export interface TestPostgres {
  kind: 'server' | 'pglite';
  /** postgres:// URL of this run's own database. */
  url: string;
  /** One line for logs: which server, which database. */
  label: string;
  /** Runs one SQL statement on the run's database (a short-lived admin connection). */
  sql<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /**
   * Cuts the connections whose application_name is `applicationName` (server: pg_terminate_backend;
   * PGlite: the socket server is restarted, which cuts every connection). Returns how many.
   */
  terminate(applicationName: string): Promise<number>;
  close(): Promise<void>;
}

/** The same server URL with another database. */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = '/' + db;
  return u.toString();
}

/** One query on its own short connection (creating and dropping databases, settings). */
export async function adminQuery<R = Record<string, unknown>>(url: string, text: string, values?: unknown[]): Promise<R[]> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'nautilus-test-admin' });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query(text, values)).rows as R[];
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function startServer(baseUrl: string): Promise<TestPostgres> {
  const db = `nautilus_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(baseUrl, `CREATE DATABASE ${db}`); // db is [a-z0-9_] only
  const url = withDatabase(baseUrl, db);
  const u = new URL(url);
  return {
    kind: 'server',
    url,
    label: `PostgreSQL server at ${u.host}, fresh database ${db}`,
    sql: (text, values) => adminQuery(url, text, values),
    async terminate(applicationName) {
      const rows = await adminQuery<{ n: number }>(
        url,
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()`,
        [applicationName],
      );
      return rows[0].n;
    },
    async close() {
      // WITH (FORCE) (PostgreSQL 13+) ends connections a failed test may have left open.
      await adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(async () => {
        await adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${db}`);
      });
    },
  };
}

async function startPglite(): Promise<TestPostgres> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const makeServer = (port: number) => new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 200 });
  let server = makeServer(0);
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    kind: 'pglite',
    url,
    label: `PGlite ${(await db.query<{ v: string }>('SELECT version() AS v')).rows[0].v.split(' on ')[0]} over pglite-socket at 127.0.0.1:${port}`,
    // In-process queries go straight to PGlite, bypassing the socket server's queue: keep them
    // on a connection instead, so that they respect its one-transaction-at-a-time order.
    sql: (text, values) => adminQuery(url, text, values),
    async terminate() {
      const n = server.getStats().activeConnections;
      const restart = async () => {
        await server.stop();
        server = makeServer(port);
        await server.start();
      };
      queue = queue.then(restart, restart);
      await queue;
      return n;
    },
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

/** Starts the test PostgreSQL this environment provides (see the file comment) and prints which. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const env = process.env.NAUTILUS_TEST_POSTGRES_URL;
  const t0 = Date.now();
  const pg = env ? await startServer(env) : await startPglite();
  console.log(`  [postgres] using ${pg.label} (ready in ${Date.now() - t0} ms)${env ? '' : '; set NAUTILUS_TEST_POSTGRES_URL to use a real server'}`);
  return pg;
}

let shared: Promise<TestPostgres> | undefined;

/** The run's one test PostgreSQL, started on first use and closed by the root hooks. */
export function sharedTestPostgres(): Promise<TestPostgres> {
  shared ??= startTestPostgres();
  return shared;
}

/** Closes the shared instance if one was started (root afterAll). */
export async function closeSharedTestPostgres(): Promise<void> {
  const s = shared;
  shared = undefined;
  if (s) {
    await (await s).close();
  }
}

/** A unique, valid table name for one test. */
let tableSeq = 0;
export function freshTableName(stem = 't'): string {
  return `${stem}_${process.pid}_${++tableSeq}_${randomBytes(3).toString('hex')}`;
}

/**
 * A TCP relay between a client and the test server whose `down()` refuses and cuts every
 * connection (as a server that went away) and `up()` accepts again on the same port: an outage
 * that works the same against a real server and PGlite.
 */
export interface TcpRelay {
  /** `url` with host and port replaced by the relay's. */
  url: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpRelay(targetUrl: string): Promise<TcpRelay> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((inbound) => {
        const outbound = net.connect(targetPort, target.hostname);
        sockets.add(inbound);
        sockets.add(outbound);
        const drop = () => {
          inbound.destroy();
          outbound.destroy();
          sockets.delete(inbound);
          sockets.delete(outbound);
        };
        inbound.on('error', drop).on('close', drop);
        outbound.on('error', drop).on('close', drop);
        inbound.pipe(outbound);
        outbound.pipe(inbound);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const stop = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) {
      sock.destroy();
    }
    sockets.clear();
    if (s) {
      await new Promise<void>((r) => s.close(() => r()));
    }
  };
  await listen();
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { url: url.toString(), down: stop, up: listen, close: stop };
}
