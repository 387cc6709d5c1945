/**
 * Redis backend beyond the conformance suite: configuration errors, redaction, keys written by
 * other clients, external change events (keyspace notifications and the change channel),
 * connection loss and recovery, and keys/prefixes that look like injections or globs.
 */
import * as assert from 'node:assert/strict';
import { openRegistry } from '../../src/registry';
import type { RedisRegistry } from '../../src/registry/backends/redis';
import { lexLowerBound, redisGlobEscape, redisIndexKey } from '../../src/registry/backends/redis';
import { compareKeys } from '../../src/registry/keys';
import { RegistryError } from '../../src/registry/errors';
import type { RedisConfig, RegistryChange, RegistryStorage } from '../../src/registry/types';
import { expectCode } from '../conformance/suite';
import type { PrivateRedis, RawClient } from '../support/redis';
import { deleteUnder, freePort, freshPrefix, openRedis, rawClient, redisSkipReason, runPrefix, startPrivateRedis } from '../support/redis';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 1000): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) {
      assert.fail(`${what}: not within ${ms} ms`);
    }
    await sleep(10);
  }
  return Date.now() - t0;
}

function recorder(r: RegistryStorage): RegistryChange[] {
  const seen: RegistryChange[] = [];
  r.onDidChange((c) => seen.push(c));
  return seen;
}

const external = (seen: RegistryChange[]) => seen.filter((c) => c.origin === 'external');

describe('redis backend: configuration and redaction (no server needed)', function () {
  this.timeout(15_000);
  const open = (c: Partial<RedisConfig>) => openRegistry({ backend: 'redis', url: 'redis://127.0.0.1:6379', ...c } as RedisConfig);

  it('rejects a malformed config naming the field', async () => {
    await expectCode(open({ url: 'not a url' }), 'INVALID_CONFIG', /url/);
    await expectCode(open({ url: 'http://127.0.0.1:6379' }), 'INVALID_CONFIG', /url.*redis:\/\//);
    await expectCode(open({ url: 'redis://127.0.0.1:6379/x' }), 'INVALID_CONFIG', /database number/);
    await expectCode(open({ url: 'redis://127.0.0.1:6379/1', db: 2 }), 'INVALID_CONFIG', /db/);
    await expectCode(open({ db: -1 }), 'INVALID_CONFIG', /db/);
    await expectCode(open({ keyPrefix: 'a\u0000b' }), 'INVALID_CONFIG', /keyPrefix.*U\+0000/);
    await expectCode(open({ keyPrefix: 42 as unknown as string }), 'INVALID_CONFIG', /keyPrefix/);
    await expectCode(open({ password: 7 as unknown as string }), 'INVALID_CONFIG', /password/);
    await expectCode(open({ connectTimeoutMs: 0 }), 'INVALID_CONFIG', /connectTimeoutMs/);
    await expectCode(open({ rescanIntervalMs: -5 }), 'INVALID_CONFIG', /rescanIntervalMs/);
  });

  it('a closed port fails fast with UNAVAILABLE, and never shows the password', async () => {
    const port = await freePort();
    for (const c of [
      { url: `redis://127.0.0.1:${port}`, password: 'hunter2-config-secret' },
      { url: `redis://user:hunter2-url-secret@127.0.0.1:${port}/3` },
      { url: `redis://:p%40ss%2Fword-secret@127.0.0.1:${port}` },
    ]) {
      const t0 = Date.now();
      const err = await expectCode(open(c), 'UNAVAILABLE', /Cannot connect to Redis at redis:\/\/.*127\.0\.0\.1/);
      assert.ok(Date.now() - t0 < 3000, 'fails fast');
      assert.doesNotMatch(err.message + String(err.stack), /hunter2|secret|p%40ss|p@ss/, err.message);
      assert.match(err.message, /ECONNREFUSED|refused|connect/i, 'says why');
    }
  });
});

describe('redis backend: key bounds (no server needed)', () => {
  /** What ZRANGE BYLEX does with a bound: compare bytes of UTF-8. */
  function inRange(key: string, bound: string): boolean {
    const c = Buffer.compare(Buffer.from(key, 'utf8'), Buffer.from(bound.slice(1), 'utf8'));
    return bound[0] === '[' ? c >= 0 : c > 0;
  }

  it('a paging cursor with lone surrogates selects exactly the keys compareKeys puts after it', () => {
    const units = ['a', 'z', '\u00e9', '\ud7ff', '\ue000', '\uffff', '\ud83d\ude00', '\udbff\udfff', '\ud800\udc00'];
    const lone = ['\ud800', '\ud83d', '\udbff', '\udc00', '\ude00', '\udfff'];
    let seed = 7;
    const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
    const keys = Array.from({ length: 400 }, () => Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(units)).join(''));
    for (let i = 0; i < 300; i++) {
      const after = Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(next() < 0.4 ? lone : units)).join('');
      for (const inclusive of [false, true]) {
        const bound = lexLowerBound(after, inclusive);
        for (const k of keys) {
          const expected = inclusive ? compareKeys(k, after) >= 0 : compareKeys(k, after) > 0;
          const got = bound !== undefined && inRange(k, bound);
          assert.equal(got, expected, `key ${JSON.stringify(k)} after ${JSON.stringify(after)} (bound ${JSON.stringify(bound)})`);
        }
      }
    }
  });

  it('escapes every glob character of a literal prefix', () => {
    assert.equal(redisGlobEscape('a*b?c[d]e\\f'), 'a\\*b\\?c\\[d\\]e\\\\f');
    assert.equal(redisGlobEscape("'; DROP TABLE registry; --"), "'; DROP TABLE registry; --");
  });
});

describe('redis backend: against a server', function () {
  this.timeout(30_000);
  if (redisSkipReason) {
    console.log(`redis: skipped — ${redisSkipReason}`);
    it.skip(`(skipped: ${redisSkipReason})`, () => undefined);
    return;
  }
  const opened: RegistryStorage[] = [];
  let raw: RawClient;
  const open = async (c: Partial<RedisConfig> = {}, url?: string) => {
    const r = await openRedis(c, url);
    opened.push(r);
    return r;
  };
  before(async () => {
    raw = await rawClient();
  });
  afterEach(async () => {
    for (const r of opened.splice(0)) {
      await r.close().catch(() => undefined);
    }
  });
  after(async () => {
    await raw?.close();
    await deleteUnder(runPrefix);
  });

  it('a database the server does not have is INVALID_CONFIG naming db', async () => {
    await expectCode(open({ db: 99_999 }), 'INVALID_CONFIG', /db.*99999/);
  });

  describe('keys written by other clients', () => {
    it('shows string keys under the prefix that a plain Redis client wrote (e.g. the Rust registry under record:)', async () => {
      const kp = freshPrefix();
      await raw.set(`${kp}user/1`, 'alice');
      await raw.set(`${kp}user/2`, 'bob');
      await raw.set(`${kp}config`, 'x');
      await raw.set(`${kp}tmp`, 'soon gone', { expiration: { type: 'PX', value: 60_000 } });
      await raw.set(`${kp}bad\u0001key`, 'control character: not a registry key');
      await raw.hSet(`${kp}a-hash`, 'f', 'v'); // not a string: not a registry key
      await raw.set(`${kp.slice(0, -1)}-sibling`, 'outside the prefix');
      const r = await open({ keyPrefix: kp });
      assert.deepEqual((await r.list()).keys, ['config', 'tmp', 'user/1', 'user/2']);
      assert.equal(await r.count(), 4);
      assert.deepEqual((await r.children('', '/')).items, [
        { kind: 'key', key: 'config' },
        { kind: 'key', key: 'tmp' },
        { kind: 'folder', key: 'user/' },
      ]);
      assert.equal(await r.retrieve('user/2'), 'bob');
      const info = await r.inspect('tmp');
      assert.ok(info?.expiresAt && info.expiresAt > Date.now() + 50_000, 'PTTL read back as expiresAt');
      // and what the registry writes is a plain string another client reads
      await r.store('from/registry', 'hello', { ttlMs: 60_000 });
      assert.equal(await raw.get(`${kp}from/registry`), 'hello');
      assert.ok(Number(await raw.pTTL(`${kp}from/registry`)) > 50_000);
    });

    it('a key deleted or expired behind its back disappears from list, count and children', async () => {
      const kp = freshPrefix();
      const r = await open({ keyPrefix: kp, rescanIntervalMs: 0 });
      await r.storeMany([
        { key: 'a/1', value: '1' },
        { key: 'a/2', value: '2' },
        { key: 'b', value: '3', ttlMs: 30 },
      ]);
      await raw.del(`${kp}a/1`);
      await sleep(60);
      assert.equal(await r.count(), 1);
      assert.deepEqual((await r.list()).keys, ['a/2']);
      assert.deepEqual((await r.children('', '/')).items, [{ kind: 'folder', key: 'a/' }]);
      assert.equal(await raw.zCard(redisIndexKey(kp)), 1, 'the dead members were pruned from the index');
    });

    it('without keyspace notifications, picks up new foreign keys by rescanning', async () => {
      const kp = freshPrefix();
      const r = await open({ keyPrefix: kp, rescanIntervalMs: 200 });
      const seen = recorder(r);
      await raw.set(`${kp}late/key`, 'v');
      await until('rescan adopts the key', async () => (await r.list()).keys.includes('late/key'), 2000);
      await until('external store event', () => seen.some((c) => c.origin === 'external' && c.key === 'late/key'));
    });

    it('rebuilds the index when someone deletes it', async () => {
      const kp = freshPrefix();
      const r = await open({ keyPrefix: kp, rescanIntervalMs: 200 });
      await r.storeMany([
        { key: 'x', value: '1' },
        { key: 'y', value: '2' },
      ]);
      await raw.del(redisIndexKey(kp));
      await until('index rebuilt', async () => (await r.count()) === 2, 2000);
    });
  });

  describe('external changes through the change channel (server without keyspace notifications)', () => {
    it('another Nautilus client on the same prefix: events within a second, never reported as local', async function () {
      const flags = (await raw.configGet('notify-keyspace-events'))['notify-keyspace-events'];
      if (flags && flags.includes('K')) {
        this.skip(); // the shared server has notifications on: covered by the keyspace test below
      }
      const kp = freshPrefix();
      const a = await open({ keyPrefix: kp });
      const b = await open({ keyPrefix: kp });
      assert.match(a.describe().notes?.join(' ') ?? '', /channel/);
      const seen = recorder(a);
      const seenB = recorder(b);
      await b.store('k1', 'v');
      await b.storeMany([
        { key: 'k2', value: 'v' },
        { key: 'k3', value: 'v' },
      ]);
      await b.rename('k3', 'k4');
      await b.setTtl('k4', 60_000);
      await b.remove('k1');
      await b.renamePrefix('k', 'm');
      await b.removePrefix('m');
      const ms = await until('all changes seen', () => external(seen).length >= 7);
      assert.ok(ms < 1000);
      assert.deepEqual(
        external(seen).map((c) => ({ ...c })),
        [
          { kind: 'store', key: 'k1', origin: 'external' },
          { kind: 'store', key: 'k2', origin: 'external' },
          { kind: 'store', key: 'k3', origin: 'external' },
          { kind: 'rename', from: 'k3', to: 'k4', origin: 'external' },
          { kind: 'store', key: 'k4', origin: 'external' },
          { kind: 'remove', key: 'k1', origin: 'external' },
          { kind: 'rename', from: 'k', to: 'm', prefix: 'k', origin: 'external' },
          { kind: 'removePrefix', prefix: 'm', origin: 'external' },
        ].slice(0, external(seen).length),
      );
      await sleep(100);
      assert.equal(seen.filter((c) => c.origin === 'local').length, 0, 'nothing local on a');
      assert.equal(external(seenB).length, 0, 'b does not hear its own changes as external');
    });

    it('a Nautilus client with a shorter keyPrefix writes into our space: adopted and told', async function () {
      const outer = freshPrefix();
      const inner = `${outer}team/`;
      const a = await open({ keyPrefix: inner });
      const b = await open({ keyPrefix: outer });
      if (!(a.describe().notes?.join(' ') ?? '').includes('channel')) {
        this.skip();
      }
      const seen = recorder(a);
      await b.store('team/api/url', 'https://x');
      await b.store('elsewhere', 'not ours');
      await until('external store', () => external(seen).some((c) => c.key === 'api/url'));
      assert.deepEqual((await a.list()).keys, ['api/url']);
      assert.ok(!seen.some((c) => c.key === 'elsewhere' || c.key === 'team/api/url'));
      await b.removePrefix('team/');
      await until('the whole space was removed: clear', () => external(seen).some((c) => c.kind === 'clear'));
      assert.equal(await a.count(), 0);
    });
  });

  describe('external changes through keyspace notifications (private redis-server with notify-keyspace-events KEA)', () => {
    let priv: PrivateRedis | undefined;
    let praw: RawClient;
    before(async function () {
      priv = await startPrivateRedis(['--notify-keyspace-events', 'KEA']);
      if (!priv) {
        console.log('redis keyspace-notification tests: skipped — no redis-server binary to start a private server with notifications enabled (the shared one is never reconfigured)');
        this.skip();
      }
      praw = await rawClient(priv!.url);
    });
    after(async () => {
      await praw?.close();
      await priv?.stop();
    });

    it('changes by a plain Redis client arrive within a second, and the keys are listed', async () => {
      const kp = freshPrefix();
      const r = await open({ keyPrefix: kp }, priv!.url);
      assert.match(r.describe().notes?.join(' ') ?? '', /keyspace notifications/);
      const seen = recorder(r);
      await praw.set(`${kp}raw/1`, 'v');
      const ms = await until('store event', () => external(seen).some((c) => c.kind === 'store' && c.key === 'raw/1'));
      assert.ok(ms < 1000, `${ms} ms`);
      assert.deepEqual((await r.list()).keys, ['raw/1'], 'adopted into the index before the event');
      await praw.set(`${kp}raw/short`, 'v', { expiration: { type: 'PX', value: 50 } });
      await until('expired → remove', () => external(seen).some((c) => c.kind === 'remove' && c.key === 'raw/short'), 2000);
      await praw.del(`${kp}raw/1`);
      await until('del → remove', () => external(seen).some((c) => c.kind === 'remove' && c.key === 'raw/1'));
      await praw.set(`${kp}bad\u0002key`, 'v');
      await praw.hSet(`${kp}hash`, 'f', 'v');
      await praw.set(`${kp.slice(0, -1)}X`, 'outside');
      await sleep(150);
      assert.ok(!seen.some((c) => c.key?.includes('bad') || c.key === 'hash'), JSON.stringify(seen));
      assert.equal(await r.count(), 0);
    });

    it('its own changes are not reported as external; a peer\'s are', async () => {
      const kp = freshPrefix();
      const r = await open({ keyPrefix: kp }, priv!.url);
      const peer = await open({ keyPrefix: kp }, priv!.url);
      const seen = recorder(r);
      await r.store('a', '1');
      await r.store('t', '1', { ttlMs: 60_000 });
      await r.storeMany([
        { key: 'b/1', value: '1' },
        { key: 'b/2', value: '2', ttlMs: 60_000 },
      ]);
      await r.setTtl('a', 5_000);
      await r.setTtl('a', undefined);
      await r.rename('a', 'c');
      await r.renamePrefix('b/', 'd/');
      await r.remove('c');
      await r.removePrefix('d/');
      await r.store('e', '1');
      await sleep(300);
      assert.deepEqual(external(seen), [], 'no echo of its own changes');
      assert.equal(seen.filter((c) => c.origin === 'local').length, 11);
      await peer.store('from-peer', 'v');
      await until('peer change', () => external(seen).some((c) => c.key === 'from-peer'));
    });
  });

  describe('connection loss', () => {
    async function killClients(name: string): Promise<number> {
      const list = String(await raw.sendCommand(['CLIENT', 'LIST', 'TYPE', 'normal'])) + String(await raw.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub']));
      let n = 0;
      for (const line of list.split('\n')) {
        const id = /(?:^|\s)id=(\d+)/.exec(line)?.[1];
        const nm = /(?:^|\s)name=(\S*)/.exec(line)?.[1];
        if (id && nm && nm.startsWith(name)) {
          n += Number(await raw.sendCommand(['CLIENT', 'KILL', 'ID', id]));
        }
      }
      return n;
    }

    it('CLIENT KILL: calls fail fast with UNAVAILABLE, it recovers by itself, no acknowledged write is lost, listeners get clear', async () => {
      const r = await open();
      const name = (r as RedisRegistry).clientName;
      const seen = recorder(r);
      const acked = new Map<string, string>();
      const failures: { ms: number; err: unknown }[] = [];
      const states = new Set<string>();
      let stop = false;
      const writer = (async () => {
        for (let i = 0; !stop; i++) {
          const t0 = Date.now();
          try {
            await r.store(`k/${i}`, `v${i}`);
            acked.set(`k/${i}`, `v${i}`);
          } catch (err) {
            failures.push({ ms: Date.now() - t0, err });
            states.add(r.describe().state);
            await sleep(5);
          }
          states.add(r.describe().state);
        }
      })();
      await sleep(50);
      const killEnd = Date.now() + 400;
      let kills = 0;
      while (Date.now() < killEnd) {
        kills += await killClients(name);
        await sleep(25);
      }
      await sleep(50);
      stop = true;
      await writer;
      assert.ok(kills > 0, 'the registry connections were found by their client name');
      assert.ok(failures.length > 0, 'some calls failed during the outage');
      for (const f of failures) {
        assert.ok(RegistryError.is(f.err, 'UNAVAILABLE'), `UNAVAILABLE, got ${String(f.err)}`);
        assert.match((f.err as Error).message, /unavailable \(.+\)/, 'names the cause');
        assert.ok(f.ms < 1000, `failed fast (${f.ms} ms)`);
      }
      assert.ok(states.has('unavailable'), 'describe() said unavailable while down');
      await until('recovered', () => r.describe().state === 'open', 5000);
      await until('clear after reconnect', () => seen.some((c) => c.kind === 'clear' && c.origin === 'external'), 3000);
      assert.ok(acked.size > 0);
      const keys = [...acked.keys()];
      assert.deepEqual(await r.retrieveMany(keys), [...acked.values()], 'every acknowledged write is there');
      assert.ok((await r.count('k/')) >= acked.size);
      await r.store('after', 'recovery');
      assert.equal(await r.retrieve('after'), 'recovery');
      // the change feed is back too
      const peer = await openRedis({ keyPrefix: (r as RedisRegistry).keyPrefix });
      opened.push(peer);
      await peer.store('peer/after', 'v');
      await until('external change after recovery', () => seen.some((c) => c.origin === 'external' && c.key === 'peer/after'));
    });

    it('foreign keys written during an outage are adopted on reconnect', async () => {
      const kp = freshPrefix();
      const r = await open({ keyPrefix: kp, rescanIntervalMs: 0 });
      const name = (r as RedisRegistry).clientName;
      await r.store('mine', '1');
      const seen = recorder(r);
      await killClients(name);
      await raw.set(`${kp}theirs`, '2');
      await until('clear after reconnect', () => seen.some((c) => c.kind === 'clear'), 5000);
      assert.deepEqual((await r.list()).keys, ['mine', 'theirs']);
    });
  });

  describe('a password-protected server (private redis-server with requirepass)', () => {
    const secret = 'pw-Secret-4711';
    let priv: PrivateRedis | undefined;
    before(async function () {
      priv = await startPrivateRedis(['--requirepass', secret]);
      if (!priv) {
        console.log('redis password tests: skipped — no redis-server binary to start a private password-protected server');
        this.skip();
      }
    });
    after(async () => {
      await priv?.stop();
    });

    it('connects with config.password, and neither describe() nor any error shows it', async () => {
      const noSecret = (text: string) => assert.ok(!text.includes(secret) && !text.includes(encodeURIComponent(secret)), text);
      const warnings: string[] = [];
      const logger = { info: (m: string) => warnings.push(m), warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };
      const r = await open({ password: secret, logger }, priv!.url);
      await r.store('k', 'v');
      noSecret(JSON.stringify(r.describe()));
      const viaUrl = await open({ logger, keyPrefix: (r as RedisRegistry).keyPrefix }, priv!.url.replace('redis://', `redis://:${secret}@`));
      assert.equal(await viaUrl.retrieve('k'), 'v');
      noSecret(JSON.stringify(viaUrl.describe()));
      assert.match(viaUrl.describe().location, /\*\*\*/);
      const wrong = await expectCode(open({ password: 'not-' + secret }, priv!.url), 'INVALID_CONFIG', /credentials/);
      assert.ok(!wrong.message.includes('not-' + secret));
      await expectCode(open({}, priv!.url), 'INVALID_CONFIG', /credentials/);
      // down: the error of a call and the log lines
      await priv!.stop();
      const err = await expectCode(r.retrieve('k'), 'UNAVAILABLE');
      noSecret(err.message);
      assert.equal(r.describe().state, 'unavailable');
      warnings.forEach(noSecret);
    });
  });

  describe('injection-like keys and glob characters', () => {
    const nasty = ["'; DROP TABLE registry; --", '*', '?', '[', ']', 'a[bc]d', 'a*', 'a?', '\\', '\\*', 'x"y', '%', '_', '{"json":1}', 'end) return 1 --'];

    it('stores and lists them literally; prefixes with glob characters match only themselves', async () => {
      const r = await open();
      for (const k of nasty) {
        await r.store(k, k + ' value');
      }
      await r.store('aX', 'not matched by a*');
      await r.store('abcd', 'not matched by a[bc]d');
      assert.deepEqual(await r.retrieveMany(nasty), nasty.map((k) => k + ' value'));
      assert.deepEqual((await r.list({ prefix: 'a*' })).keys, ['a*']);
      assert.deepEqual((await r.list({ prefix: 'a[' })).keys, ['a[bc]d']);
      assert.deepEqual((await r.list({ prefix: '\\' })).keys, ['\\', '\\*']);
      assert.equal(await r.count('?'), 1);
      assert.equal(await r.removePrefix('*'), 1);
      assert.equal(await r.removePrefix('a?'), 1);
      assert.equal(await r.contains('aX'), true);
      assert.equal(await r.renamePrefix('a[', '?['), 1);
      assert.equal(await r.retrieve('?[bc]d'), 'a[bc]d value');
      assert.equal(await r.count(), nasty.length + 2 - 2);
    });

    it('keyPrefixes with glob characters and quotes stay literal (SCAN MATCH and PSUBSCRIBE are escaped)', async () => {
      const base = freshPrefix();
      const kp = `${base}'; DROP TABLE registry; --[a*]?\\`;
      // Keys an unescaped pattern would wrongly take in.
      await raw.set(`${base}'; DROP TABLE registry; --a`, 'glob [a*] would match this');
      await raw.set(`${base}'; DROP TABLE registry; --[a*]?\\own`, 'ours');
      await raw.set(`${base}'; DROP TABLE registry; --[a*]X\\other`, 'a ? would match this');
      const r = await open({ keyPrefix: kp });
      assert.deepEqual((await r.list()).keys, ['own']);
      await r.store('*', 'star');
      assert.equal(await raw.get(`${kp}*`), 'star');
      assert.equal(await r.removePrefix(''), 2);
      assert.equal(await raw.get(`${base}'; DROP TABLE registry; --a`), 'glob [a*] would match this', 'neighbours untouched');
      assert.equal(await raw.get(`${base}'; DROP TABLE registry; --[a*]X\\other`), 'a ? would match this');
    });
  });
});
