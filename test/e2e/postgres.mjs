// A fresh PostgreSQL database for the e2e suite's step 7: on the machine's server at
// 127.0.0.1:5432 when one answers (database nautilus_e2e_<random>, dropped afterwards), else on a
// PGlite socket server started here on a free port. Returns undefined with a reason when neither works.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';

function reachable(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function machineServer(log) {
  if (!(await reachable('127.0.0.1', 5432))) {
    return undefined;
  }
  const name = `nautilus_e2e_${randomBytes(4).toString('hex')}`;
  for (const user of [process.env.NAUTILUS_E2E_PGUSER, 'postgres', 'root'].filter(Boolean)) {
    const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user, database: 'postgres', connectionTimeoutMillis: 5000 });
    try {
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      log(`PostgreSQL 127.0.0.1:5432: created database ${name} (role ${user})`);
      return {
        kind: 'machine PostgreSQL',
        url: `postgres://${user}@127.0.0.1:5432/${name}`,
        async dispose() {
          const c = new pg.Client({ host: '127.0.0.1', port: 5432, user, database: 'postgres' });
          await c.connect();
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await c.end();
          log(`dropped database ${name}`);
        },
      };
    } catch (err) {
      await admin.end().catch(() => {});
      log(`PostgreSQL role ${user}: ${err.message}`);
    }
  }
  return undefined;
}

async function pgliteServer(log) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  const addr = server.getServerConn?.() ?? '';
  const port = Number(String(addr).split(':').pop());
  if (!port) {
    await server.stop();
    await db.close();
    throw new Error(`PGlite socket server gave no port (${addr})`);
  }
  log(`PGlite socket server on 127.0.0.1:${port} (no PostgreSQL at 127.0.0.1:5432, or NAUTILUS_E2E_PGLITE set)`);
  return {
    kind: 'PGlite',
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async dispose() {
      await server.stop();
      await db.close();
    },
  };
}

/** @returns {Promise<{kind: string, url: string, dispose(): Promise<void>} | {skip: string}>} */
export async function freshDatabase(log) {
  // NAUTILUS_E2E_PGLITE=1 takes the newcomer's path (PGlite) even where a server runs.
  const machine = process.env.NAUTILUS_E2E_PGLITE ? undefined : await machineServer(log);
  if (machine) {
    return machine;
  }
  try {
    return await pgliteServer(log);
  } catch (err) {
    return { skip: `no PostgreSQL at 127.0.0.1:5432 and PGlite could not start: ${err.message}` };
  }
}
