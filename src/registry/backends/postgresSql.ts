/**
 * SQL text for the PostgreSQL backend. Every statement is built once per registry from the
 * validated, quoted schema and table names and a few booleans that describe the table; every
 * key, value, prefix and TTL is a bound parameter ($n). Nothing here ever sees user data.
 */
import { createHash } from 'node:crypto';

/** Quotes an SQL identifier (doubling any embedded quote, for names that come from the server). */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** The NOTIFY channel of one table: short, deterministic and the same in SQL (md5) and in Node. */
export function channelFor(schema: string, table: string): string {
  return 'nautilus_' + createHash('md5').update(`${schema}.${table}`, 'utf8').digest('hex').slice(0, 16);
}

/** The name of the extra byte-order index created on a seed table whose key column is not COLLATE "C". */
export function byteOrderIndexName(schema: string, table: string): string {
  return 'nautilus_' + createHash('md5').update(`${schema}.${table}`, 'utf8').digest('hex').slice(0, 16) + '_key_c';
}

export const NOTIFY_FUNCTION = 'nautilus_registry_notify_v1';
export const TRIGGERS = ['nautilus_notify_ins', 'nautilus_notify_upd', 'nautilus_notify_del', 'nautilus_notify_trunc'] as const;

export interface TableShape {
  schema: string;
  table: string;
  /** The table has expires_at timestamptz. */
  ttl: boolean;
  /** The key column's own collation is byte order ("C"/"POSIX"); otherwise comparisons say COLLATE "C". */
  keyIsByteOrdered: boolean;
}

/** One parameterised statement; `name` makes pg prepare it once per connection. */
export interface Stmt {
  name: string;
  text: string;
}

function stmt(text: string): Stmt {
  return { name: 'nr_' + createHash('sha1').update(text).digest('hex').slice(0, 20), text };
}

export function createTableSql(schema: string, table: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}.${quoteIdent(table)} (` +
    `key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL, expires_at TIMESTAMPTZ)`
  );
}

/**
 * The change trigger's function: one per schema, shared by every registry table in it. It runs
 * once per statement (transition tables), so a bulk insert of 100,000 rows sends one notification,
 * not 100,000: a single-row change names its key (store / remove / rename), anything bigger is a
 * coarse 'clear'. Payloads stay under the 8,000-byte NOTIFY limit (a longer one becomes 'clear').
 * The sender is identified by the notification's backend pid, which the listener compares with
 * its own pool's connections.
 */
export function notifyFunctionSql(schema: string): string {
  return `CREATE OR REPLACE FUNCTION ${quoteIdent(schema)}.${NOTIFY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $nautilus$
DECLARE
  ch text := 'nautilus_' || left(md5(TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME), 16);
  n int;
  k text;
  k2 text;
  msg text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    msg := json_build_object('op', 'clear')::text;
  ELSIF TG_OP = 'INSERT' THEN
    SELECT count(*), min(s.key) INTO n, k FROM (SELECT t.key FROM nautilus_new t LIMIT 2) s;
    IF n = 0 THEN RETURN NULL; END IF;
    msg := CASE WHEN n = 1 THEN json_build_object('op', 'store', 'key', k)::text ELSE json_build_object('op', 'clear')::text END;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT count(*), min(s.key) INTO n, k FROM (SELECT t.key FROM nautilus_old t LIMIT 2) s;
    IF n = 0 THEN RETURN NULL; END IF;
    msg := CASE WHEN n = 1 THEN json_build_object('op', 'remove', 'key', k)::text ELSE json_build_object('op', 'clear')::text END;
  ELSE
    SELECT count(*), min(s.key) INTO n, k2 FROM (SELECT t.key FROM nautilus_new t LIMIT 2) s;
    IF n = 0 THEN RETURN NULL; END IF;
    IF n = 1 THEN
      SELECT t.key INTO k FROM nautilus_old t LIMIT 1;
      msg := CASE WHEN k IS DISTINCT FROM k2 THEN json_build_object('op', 'rename', 'from', k, 'to', k2)::text
                  ELSE json_build_object('op', 'store', 'key', k2)::text END;
    ELSE
      msg := json_build_object('op', 'clear')::text;
    END IF;
  END IF;
  IF octet_length(msg) > 7900 THEN
    msg := json_build_object('op', 'clear')::text;
  END IF;
  PERFORM pg_notify(ch, msg);
  RETURN NULL;
END
$nautilus$`;
}

export function createTriggersSql(schema: string, table: string): string[] {
  const t = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const fn = `${quoteIdent(schema)}.${NOTIFY_FUNCTION}()`;
  return [
    `CREATE TRIGGER ${TRIGGERS[0]} AFTER INSERT ON ${t} REFERENCING NEW TABLE AS nautilus_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn}`,
    `CREATE TRIGGER ${TRIGGERS[1]} AFTER UPDATE ON ${t} REFERENCING OLD TABLE AS nautilus_old NEW TABLE AS nautilus_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn}`,
    `CREATE TRIGGER ${TRIGGERS[2]} AFTER DELETE ON ${t} REFERENCING OLD TABLE AS nautilus_old FOR EACH STATEMENT EXECUTE FUNCTION ${fn}`,
    `CREATE TRIGGER ${TRIGGERS[3]} AFTER TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}`,
  ];
}

/** Lets the expiry sweep find expired rows without reading the table. */
export function expiryIndexSql(schema: string, table: string): string {
  const name = 'nautilus_' + createHash('md5').update(`${schema}.${table}`, 'utf8').digest('hex').slice(0, 16) + '_exp';
  return `CREATE INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${quoteIdent(schema)}.${quoteIdent(table)} (expires_at) WHERE expires_at IS NOT NULL`;
}

export function byteOrderIndexSql(schema: string, table: string): string {
  return (
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(byteOrderIndexName(schema, table))} ` +
    `ON ${quoteIdent(schema)}.${quoteIdent(table)} (key COLLATE "C")`
  );
}

/** Every statement the registry issues against its table. */
export class Statements {
  readonly t: string;
  /** The key as compared and ordered: in UTF-8 byte order. */
  readonly k: string;
  /** The row is live (not expired). */
  readonly live: string;
  private readonly cache = new Map<string, Stmt>();

  constructor(readonly shape: TableShape) {
    this.t = `${quoteIdent(shape.schema)}.${quoteIdent(shape.table)}`;
    this.k = shape.keyIsByteOrdered ? 'key' : 'key COLLATE "C"';
    this.live = shape.ttl ? '(expires_at IS NULL OR expires_at > statement_timestamp())' : 'TRUE';
  }

  private get(id: string, build: () => string): Stmt {
    let s = this.cache.get(id);
    if (!s) {
      s = stmt(build());
      this.cache.set(id, s);
    }
    return s;
  }

  /** $1 key, $2 value[, $3 ttlMs]. */
  store(withTtl: boolean): Stmt {
    return this.get(`store${withTtl}`, () => {
      if (!this.shape.ttl) {
        return `INSERT INTO ${this.t} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;
      }
      const exp = withTtl ? `statement_timestamp() + $3::bigint * interval '1 millisecond'` : 'NULL';
      return (
        `INSERT INTO ${this.t} (key, value, expires_at) VALUES ($1, $2, ${exp}) ` +
        `ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`
      );
    });
  }

  /** $1 text[] keys, $2 text[] values[, $3 bigint[] ttlMs (NULL = permanent)]. */
  storeMany(): Stmt {
    return this.get('storeMany', () => {
      if (!this.shape.ttl) {
        return (
          `INSERT INTO ${this.t} (key, value) SELECT u.k, u.v FROM unnest($1::text[], $2::text[]) AS u(k, v) ` +
          `ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`
        );
      }
      return (
        `INSERT INTO ${this.t} (key, value, expires_at) ` +
        `SELECT u.k, u.v, statement_timestamp() + u.t * interval '1 millisecond' FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(k, v, t) ` +
        `ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`
      );
    });
  }

  /** $1 key. */
  retrieve(): Stmt {
    return this.get('retrieve', () => `SELECT value FROM ${this.t} WHERE key = $1 AND ${this.live}`);
  }

  /** $1 text[] keys. */
  retrieveMany(): Stmt {
    return this.get('retrieveMany', () => `SELECT key, value FROM ${this.t} WHERE key = ANY($1::text[]) AND ${this.live}`);
  }

  /** $1 key: value and expiry in epoch milliseconds. */
  inspect(): Stmt {
    return this.get('inspect', () => {
      const exp = this.shape.ttl ? `floor(extract(epoch FROM expires_at) * 1000)::float8` : 'NULL::float8';
      return `SELECT value, ${exp} AS expires_ms FROM ${this.t} WHERE key = $1 AND ${this.live}`;
    });
  }

  /** $1 key: one row per deleted row, saying whether it was live. */
  remove(): Stmt {
    return this.get('remove', () => `DELETE FROM ${this.t} WHERE key = $1 RETURNING ${this.live} AS live`);
  }

  /** $1 key. */
  contains(): Stmt {
    return this.get('contains', () => `SELECT 1 FROM ${this.t} WHERE key = $1 AND ${this.live}`);
  }

  /**
   * Ordered keyset scan. $1 from, then ($2 end when `bounded` | $2 prefix when `startsWith`), last: limit.
   */
  scan(inclusive: boolean, bound: 'none' | 'end' | 'startsWith'): Stmt {
    return this.get(`scan${inclusive}${bound}`, () => {
      const parts = [`${this.k} ${inclusive ? '>=' : '>'} $1`];
      let limit = '$2';
      if (bound === 'end') {
        parts.push(`${this.k} < $2`);
        limit = '$3';
      } else if (bound === 'startsWith') {
        parts.push('starts_with(key, $2)');
        limit = '$3';
      }
      parts.push(this.live);
      return `SELECT key FROM ${this.t} WHERE ${parts.join(' AND ')} ORDER BY ${this.k} LIMIT ${limit}`;
    });
  }

  /** The WHERE clause of "key starts with the prefix in $i": a byte-order range (index-served). */
  prefixWhere(bound: 'none' | 'end' | 'startsWith', first: number): string {
    switch (bound) {
      case 'none':
        return 'TRUE';
      case 'end':
        return `${this.k} >= $${first} AND ${this.k} < $${first + 1}`;
      case 'startsWith':
        return `${this.k} >= $${first} AND starts_with(key, $${first + 1})`;
    }
  }

  /** Params $1, $2 per prefixWhere(bound, 1). */
  count(bound: 'none' | 'end' | 'startsWith'): Stmt {
    return this.get(`count${bound}`, () => `SELECT count(*)::float8 AS n FROM ${this.t} WHERE ${this.prefixWhere(bound, 1)} AND ${this.live}`);
  }

  /** Deletes every row under the prefix (expired ones too); returns how many were live. */
  removePrefix(bound: 'none' | 'end' | 'startsWith'): Stmt {
    return this.get(`removePrefix${bound}`, () => {
      const liveOf = this.shape.ttl ? `WHERE d.expires_at IS NULL OR d.expires_at > statement_timestamp()` : '';
      const ret = this.shape.ttl ? 'expires_at' : '1 AS one';
      return (
        `WITH d AS (DELETE FROM ${this.t} WHERE ${this.prefixWhere(bound, 1)} RETURNING ${ret}) ` +
        `SELECT count(*)::float8 AS n FROM d ${liveOf}`
      );
    });
  }

  /** $1 ttlMs or NULL, $2 key. */
  setTtl(): Stmt {
    return this.get(
      'setTtl',
      () => `UPDATE ${this.t} SET expires_at = statement_timestamp() + $1::bigint * interval '1 millisecond' WHERE key = $2 AND ${this.live}`,
    );
  }

  /** Deletes the expired row of a key, if any ($1 key). */
  dropExpired(): Stmt {
    return this.get('dropExpired', () => `DELETE FROM ${this.t} WHERE key = $1 AND NOT ${this.live}`);
  }

  /** $1 key: FOR UPDATE lock on the live source of a rename. */
  lockLive(): Stmt {
    return this.get('lockLive', () => `SELECT 1 FROM ${this.t} WHERE key = $1 AND ${this.live} FOR UPDATE`);
  }

  /** $1 target: removes it whatever it holds. */
  deleteKey(): Stmt {
    return this.get('deleteKey', () => `DELETE FROM ${this.t} WHERE key = $1`);
  }

  /** $1 from, $2 to. */
  renameKey(): Stmt {
    return this.get('renameKey', () => `UPDATE ${this.t} SET key = $2 WHERE key = $1`);
  }

  // ---- renamePrefix: $1 from-prefix, $2 end (or from-prefix again for startsWith), $3 to-prefix ----

  /** The moved key of a source row s. */
  private moved(): string {
    return `($3::text || substr(s.key, char_length($1::text) + 1))`;
  }

  dropExpiredUnder(bound: 'end' | 'startsWith'): Stmt {
    return this.get(`dropExpiredUnder${bound}`, () => `DELETE FROM ${this.t} WHERE ${this.prefixWhere(bound, 1)} AND NOT ${this.live}`);
  }

  /** The longest source key, to check that every moved key stays within the key rules. */
  longestUnder(bound: 'end' | 'startsWith'): Stmt {
    return this.get(
      `longestUnder${bound}`,
      () => `SELECT key FROM ${this.t} WHERE ${this.prefixWhere(bound, 1)} ORDER BY octet_length(key) DESC LIMIT 1`,
    );
  }

  /** A live target outside the source folder that a move would overwrite ($3 to). */
  firstConflict(bound: 'end' | 'startsWith'): Stmt {
    return this.get(`firstConflict${bound}`, () => {
      const srcWhere = this.prefixWhere(bound, 1).replace(/\bkey\b/g, 's.key');
      const tgtUnder = this.prefixWhere(bound, 1).replace(/\bkey\b/g, 'd.key');
      const liveD = this.live.replace(/\bexpires_at\b/g, 'd.expires_at');
      return (
        `SELECT d.key FROM ${this.t} s JOIN ${this.t} d ON d.key = ${this.moved()} ` +
        `WHERE ${srcWhere} AND NOT (${tgtUnder}) AND ${liveD} ORDER BY ${this.k.replace('key', 'd.key')} LIMIT 1`
      );
    });
  }

  /** Removes every target outside the source folder (overwritten or expired). */
  deleteTargets(bound: 'end' | 'startsWith'): Stmt {
    return this.get(`deleteTargets${bound}`, () => {
      const srcWhere = this.prefixWhere(bound, 1).replace(/\bkey\b/g, 's.key');
      const tgtUnder = this.prefixWhere(bound, 1).replace(/\bkey\b/g, 'd.key');
      return (
        `DELETE FROM ${this.t} d WHERE NOT (${tgtUnder}) AND d.key IN ` +
        `(SELECT ${this.moved()} FROM ${this.t} s WHERE ${srcWhere})`
      );
    });
  }

  /**
   * Moves every row of the folder in one statement. The ORDER BY makes the sort consume the whole
   * DELETE before the first INSERT, so a moved key never meets the not-yet-deleted row it replaces.
   */
  moveUnder(bound: 'end' | 'startsWith'): Stmt {
    return this.get(`moveUnder${bound}`, () => {
      const cols = this.shape.ttl ? 'key, value, expires_at' : 'key, value';
      const sel = this.shape.ttl ? `${this.moved()}, s.value, s.expires_at` : `${this.moved()}, s.value`;
      return (
        `WITH s AS (DELETE FROM ${this.t} WHERE ${this.prefixWhere(bound, 1)} RETURNING ${cols}) ` +
        `INSERT INTO ${this.t} (${cols}) SELECT ${sel} FROM s ORDER BY 1`
      );
    });
  }

  /**
   * `children` in one round trip: a recursive skip-scan. Each step seeks (index, LIMIT 1) to the
   * first live key after the previous item: after a folder, to the folder's end (the key up to its
   * separator, then $4 = prefixEnd(separator), computed in JavaScript: no character arithmetic in
   * SQL, so the bound is right whether the server counts characters or, in SQL_ASCII, bytes);
   * after a direct key, to the smallest text above it (key || chr(1): no text lies between, as
   * U+0000 cannot be stored).
   * $1 from, $2 prefix, $3 separator, $4 the end of the separator's range, $5 limit
   * (items), then $6 end (bound 'end') or nothing ('startsWith' re-uses $2, 'none' has no bound).
   */
  children(inclusive: boolean, bound: 'none' | 'end' | 'startsWith'): Stmt {
    return this.get(`children${inclusive}${bound}`, () => {
      const within = bound === 'end' ? `${this.k} < $6` : bound === 'startsWith' ? 'starts_with(key, $2)' : 'TRUE';
      const pos = `strpos(substr(w.k, char_length($2::text) + 1), $3::text)`;
      const next =
        `CASE WHEN ${pos} > 0 ` +
        `THEN left(w.k, char_length($2::text) + ${pos} - 1) || $4::text ` +
        `ELSE w.k || chr(1) END`;
      return (
        `WITH RECURSIVE w(k, n) AS (` +
        `(SELECT key, 1 FROM ${this.t} WHERE ${this.k} ${inclusive ? '>=' : '>'} $1 AND ${within} AND ${this.live} ORDER BY ${this.k} LIMIT 1) ` +
        `UNION ALL ` +
        `(SELECT x.key, w.n + 1 FROM w CROSS JOIN LATERAL (` +
        `SELECT key FROM ${this.t} WHERE ${this.k} >= (${next}) AND ${within} AND ${this.live} ORDER BY ${this.k} LIMIT 1) x ` +
        `WHERE w.n < $5)` +
        `) SELECT k FROM w`
      );
    });
  }

  /** Deletes expired rows (they are invisible already; this only gives the space back). */
  sweep(): Stmt {
    return this.get('sweep', () => `DELETE FROM ${this.t} WHERE expires_at <= statement_timestamp()`);
  }

  /** A cheap-enough change fingerprint for polling: row count and an order-independent hash. */
  fingerprint(): Stmt {
    return this.get('fingerprint', () => {
      const exp = this.shape.ttl ? ` # hashtextextended(coalesce(expires_at::text, ''), 2)` : '';
      return (
        `SELECT count(*)::text || ':' || coalesce(sum(hashtextextended(key, 0) # hashtextextended(value, 1)${exp}), 0)::text AS fp ` +
        `FROM ${this.t}`
      );
    });
  }
}
