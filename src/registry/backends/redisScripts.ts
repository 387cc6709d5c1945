import { createHash } from 'node:crypto';

/**
 * The Lua scripts of the Redis backend. Every write runs as one script (or one MULTI), so the
 * value keys and the ordered index change together, atomically, in one round trip.
 *
 * (`store` and `storeMany` are a MULTI with the same effect; see redis.ts.)
 *
 * Layout in Redis (P = keyPrefix):
 * - `P<key>`: a plain string per registry key (TTL native), readable by any Redis client.
 * - `P\x00index`: a sorted set of every registry key (members without P, all with score 0), so
 *   `ZRANGE … BYLEX` walks keys in byte order = the registry's UTF-8 order. Registry keys can never
 *   contain U+0000, so no registry key can ever be the index.
 * The index is a cache of "which keys exist": a member whose value key is gone (expired, or deleted
 * by another client) is skipped and pruned by the reading script, and keys written by other
 * clients are adopted into it (SCAN on open/reconnect, keyspace notifications or change messages).
 *
 * Write scripts share ARGV[1..3] for change notification (see `NOTIFY`):
 * - ARGV[1] channel ('' = none), ARGV[2] message published before the change ('' = none),
 *   ARGV[3] message published after it (only when something changed, or always when ARGV[2] is set).
 * With keyspace notifications the backend passes its own marker channel with 'b'/'e', which
 * brackets the notifications its own change produces (Redis runs a script atomically and delivers
 * pub/sub messages in order), so it can tell its own changes from everyone else's. Without them it
 * passes the shared change channel and a JSON description of the change.
 * Scripts compute value-key names from P, so they need a standalone Redis (not Cluster).
 */
export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

const NOTIFY = `
local chan, mb, me = ARGV[1], ARGV[2], ARGV[3]
if chan ~= '' and mb ~= '' then redis.call('PUBLISH', chan, mb) end
local function done(changed)
  if chan ~= '' and (mb ~= '' or changed) then redis.call('PUBLISH', chan, me) end
end
local function zremAll(idx, members)
  for i = 1, #members, 1000 do
    redis.call('ZREM', idx, unpack(members, i, math.min(i + 999, #members)))
  end
end
`;

/** KEYS: value key, index. ARGV[4]: member. Returns 1 when the key existed. */
export const REMOVE = new LuaScript(`${NOTIFY}
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[4])
done(n > 0)
return n
`);

/** KEYS: value key, index. ARGV[4..5]: member, ttl ms ('' = permanent). Returns 0 when the key does not exist. */
export const SET_TTL = new LuaScript(`${NOTIFY}
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[4])
  done(false)
  return 0
end
if ARGV[5] == '' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
redis.call('ZADD', KEYS[2], 'NX', 0, ARGV[4])
done(true)
return 1
`);

/**
 * KEYS: source key, target key, index. ARGV[4..6]: source member, target member, overwrite ('1').
 * RENAME keeps the TTL. Returns 'OK', 'NOT_FOUND' or 'EXISTS'.
 */
export const RENAME = new LuaScript(`${NOTIFY}
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[4])
  done(false)
  return 'NOT_FOUND'
end
if ARGV[6] ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  done(false)
  return 'EXISTS'
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[3], 0, ARGV[5])
done(true)
return 'OK'
`);

/**
 * KEYS: index. ARGV[4..10]: keyPrefix, from member prefix, to member prefix, BYLEX min, BYLEX max,
 * overwrite ('1'), max key bytes. Every live key under `from` moves to `to` with its value and TTL,
 * all or nothing: everything is read and checked before the first write.
 * Returns {'OK', n}, {'EXISTS', target member}, {'INVALID', source member}.
 */
export const RENAME_PREFIX = new LuaScript(`${NOTIFY}
local idx, kp, from, to = KEYS[1], ARGV[4], ARGV[5], ARGV[6]
local overwrite, maxBytes = ARGV[9] == '1', tonumber(ARGV[10])
local members = redis.call('ZRANGE', idx, ARGV[7], ARGV[8], 'BYLEX')
local live, dead, targets, values, ttls = {}, {}, {}, {}, {}
for i = 1, #members do
  local m = members[i]
  local v = redis.call('MGET', kp .. m)[1]
  if v then
    local t = to .. string.sub(m, #from + 1)
    if #t == 0 or #t > maxBytes then
      return {'INVALID', m}
    end
    live[#live + 1] = m
    targets[#targets + 1] = t
    values[#values + 1] = v
    ttls[#ttls + 1] = redis.call('PTTL', kp .. m)
  else
    dead[#dead + 1] = m
  end
end
if not overwrite then
  for i = 1, #targets do
    local t = targets[i]
    if string.sub(t, 1, #from) ~= from and redis.call('EXISTS', kp .. t) == 1 then
      return {'EXISTS', t}
    end
  end
end
zremAll(idx, dead)
if #live == 0 then
  done(false)
  return {'OK', 0}
end
for i = 1, #live do
  redis.call('DEL', kp .. live[i])
end
zremAll(idx, live)
for i = 1, #targets do
  if ttls[i] > 0 then
    redis.call('SET', kp .. targets[i], values[i], 'PX', ttls[i])
  else
    redis.call('SET', kp .. targets[i], values[i])
  end
  redis.call('ZADD', idx, 0, targets[i])
end
done(true)
return {'OK', #live}
`);

/** KEYS: index. ARGV[4..6]: keyPrefix, BYLEX min, BYLEX max. Removes every indexed key in the range; returns how many existed. */
export const REMOVE_RANGE = new LuaScript(`${NOTIFY}
local idx, kp = KEYS[1], ARGV[4]
local members = redis.call('ZRANGE', idx, ARGV[5], ARGV[6], 'BYLEX')
local n = 0
for i = 1, #members, 500 do
  local keys = {}
  for j = i, math.min(i + 499, #members) do
    keys[#keys + 1] = kp .. members[j]
  end
  n = n + redis.call('UNLINK', unpack(keys))
end
zremAll(idx, members)
done(n > 0)
return n
`);

/**
 * Liveness of index members, shared by the reading scripts: `live(members)` returns the members
 * whose value key exists and prunes the others from the index. One EXISTS over the whole batch
 * first: when every key is there (the usual case) no per-key call is made.
 */
const LIVE = `
local function live(idx, kp, batch)
  if #batch == 0 then return batch end
  local keys = {}
  for i = 1, #batch do keys[i] = kp .. batch[i] end
  local n = 0
  for i = 1, #keys, 1000 do
    n = n + redis.call('EXISTS', unpack(keys, i, math.min(i + 999, #keys)))
  end
  if n == #batch then return batch end
  local out, dead = {}, {}
  for i = 1, #batch do
    if redis.call('EXISTS', keys[i]) == 1 then out[#out + 1] = batch[i] else dead[#dead + 1] = batch[i] end
  end
  for i = 1, #dead, 1000 do
    redis.call('ZREM', idx, unpack(dead, i, math.min(i + 999, #dead)))
  end
  return out
end
`;

/**
 * KEYS: index. ARGV: keyPrefix, BYLEX min, BYLEX max, limit. Up to `limit` live members in order;
 * members whose value key is gone are pruned on the way.
 */
export const SCAN_RANGE = new LuaScript(`${LIVE}
local idx, kp, min, max, limit = KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local out = {}
while #out < limit do
  local want = limit - #out
  local batch = redis.call('ZRANGE', idx, min, max, 'BYLEX', 'LIMIT', 0, want)
  local alive = live(idx, kp, batch)
  for i = 1, #alive do out[#out + 1] = alive[i] end
  if #batch < want then break end
  min = '(' .. batch[#batch]
end
return out
`);

/**
 * KEYS: index. ARGV: keyPrefix, BYLEX min, BYLEX max, chunk. Counts the live members among the
 * first `chunk` of the range (pruning dead ones); returns {count, last member or false when the
 * range is exhausted}. Chunked so that a huge count never blocks the server for long.
 */
export const COUNT_RANGE = new LuaScript(`${LIVE}
local idx, kp, chunk = KEYS[1], ARGV[1], tonumber(ARGV[4])
local batch = redis.call('ZRANGE', idx, ARGV[2], ARGV[3], 'BYLEX', 'LIMIT', 0, chunk)
local n = #live(idx, kp, batch)
if #batch < chunk then return {n, false} end
return {n, batch[#batch]}
`);

/**
 * Skip-scan for `children`, server-side, in one round trip. KEYS: index. ARGV: keyPrefix, prefix,
 * separator, BYLEX min, BYLEX max, want. Walks live members from min; a member with the separator
 * after the prefix opens a folder, and the walk jumps past everything in it (the byte string
 * after the folder: its last byte + 1, a valid BYLEX bound). Returns a flat list of kind
 * ('f' or 'k') and key, in order, at most `want` items.
 */
export const CHILDREN = new LuaScript(`${LIVE}
local idx, kp, prefix, sep, min, max, want = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local out, count = {}, 0
local step = 16
while count < want do
  local batch = redis.call('ZRANGE', idx, min, max, 'BYLEX', 'LIMIT', 0, step)
  if #batch == 0 then break end
  local alive = live(idx, kp, batch)
  local jumped = false
  for i = 1, #alive do
    local m = alive[i]
    local at = string.find(m, sep, #prefix + 1, true)
    if at then
      local folder = string.sub(m, 1, at + #sep - 1)
      out[#out + 1] = 'f'
      out[#out + 1] = folder
      count = count + 1
      local last = string.byte(folder, #folder)
      min = '[' .. string.sub(folder, 1, #folder - 1) .. string.char(last + 1)
      jumped = true
      break
    end
    out[#out + 1] = 'k'
    out[#out + 1] = m
    count = count + 1
    if count >= want then break end
  end
  if not jumped then
    if #batch < step then break end
    min = '(' .. batch[#batch]
    step = 128
  else
    step = 16
  end
end
return out
`);

/** KEYS: value key. Returns {value, pttl} or nil; a non-string key reads as missing. */
export const INSPECT = new LuaScript(`
local v = redis.call('MGET', KEYS[1])[1]
if not v then return false end
return {v, redis.call('PTTL', KEYS[1])}
`);

/**
 * KEYS: index. ARGV: keyPrefix, members… (at most a few thousand). Adds to the index every member
 * whose value key exists as a string and is not indexed yet; returns the members added. One
 * ZMSCORE finds the members already indexed, so a sweep over known keys costs one call per batch.
 */
export const ADOPT = new LuaScript(`
local idx, kp = KEYS[1], ARGV[1]
local members = {}
for i = 2, #ARGV do members[#members + 1] = ARGV[i] end
local added = {}
if #members == 0 then return added end
local scores = redis.call('ZMSCORE', idx, unpack(members))
for i = 1, #members do
  local m = members[i]
  if not scores[i] and redis.call('TYPE', kp .. m).ok == 'string' then
    redis.call('ZADD', idx, 'NX', 0, m)
    added[#added + 1] = m
  end
end
return added
`);
