/**
 * Shared set-up of the Redis tests: the server comes from NAUTILUS_TEST_REDIS_URL (without it the
 * Redis tests are skipped with a printed reason), every registry gets a fresh key prefix under the
 * run's own prefix, and everything under the run's prefix is deleted afterwards.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { createClient } from 'redis';
import { openRegistry } from '../../src/registry';
import { redisGlobEscape } from '../../src/registry/backends/redis';
import type { RedisConfig, RegistryStorage } from '../../src/registry/types';

export const redisUrl = process.env.NAUTILUS_TEST_REDIS_URL || undefined;
export const redisSkipReason = redisUrl ? undefined : 'NAUTILUS_TEST_REDIS_URL is not set (no Redis server)';

/** The prefix every key of this test run lives under. */
export const runPrefix = `nautilus-test:${randomBytes(4).toString('hex')}:`;
let counter = 0;

export function freshPrefix(): string {
  return `${runPrefix}${++counter}:`;
}

export async function rawClient(url = redisUrl!) {
  const c = createClient({ url, socket: { reconnectStrategy: false } });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

export type RawClient = Awaited<ReturnType<typeof rawClient>>;

export async function openRedis(config: Partial<RedisConfig> = {}, url = redisUrl!): Promise<RegistryStorage> {
  return openRegistry({ backend: 'redis', url, keyPrefix: freshPrefix(), ...config });
}

/** Deletes every key under `prefix` (matched literally), the index sorted sets included. */
export async function deleteUnder(prefix: string, url = redisUrl!): Promise<number> {
  const c = await rawClient(url);
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = (await c.sendCommand(['SCAN', cursor, 'MATCH', redisGlobEscape(prefix) + '*', 'COUNT', '1000'])) as unknown as [string, string[]];
      cursor = String(next);
      if (keys.length > 0) {
        n += Number(await c.sendCommand(['UNLINK', ...keys]));
      }
    } while (cursor !== '0');
  } finally {
    await c.close();
  }
  return n;
}

/** A free TCP port on 127.0.0.1 (closed again, so nothing listens there). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * A private, throw-away redis-server (no persistence) with the given extra arguments, when the
 * `redis-server` binary is installed: lets a test use server settings (keyspace notifications)
 * without touching the shared server's configuration. Undefined when it cannot be started.
 */
export async function startPrivateRedis(args: string[]): Promise<PrivateRedis | undefined> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const failed = new Promise<undefined>((resolve) => child.once('error', () => resolve(undefined)));
  const url = `redis://127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      const open = await new Promise<boolean>((resolve) => {
        const sock = connect(port, '127.0.0.1', () => {
          sock.destroy();
          resolve(true);
        });
        sock.once('error', () => resolve(false));
      });
      if (open) {
        return url;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  })();
  const got = await Promise.race([ready, failed]);
  if (!got) {
    child.kill('SIGKILL');
    return undefined;
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
