/**
 * Deterministic generator of varied PostgreSQL statements for the SQL classifier's
 * differential test and benchmark. A seeded PRNG (mulberry32) drives a small grammar, so every
 * run produces exactly the same corpus.
 *
 * The statements are meant to be valid PostgreSQL (the differential test parses them with
 * libpg-query and reports how many parse): queries with joins, subqueries and CTEs (some with
 * writable CTEs nested in subqueries), locking clauses in various positions, VALUES, TABLE,
 * SHOW, EXPLAIN [ANALYZE], DML with RETURNING, MERGE, DDL, COPY, write functions and harmless
 * ones, misleading comments / literals / dollar quotes / quoted identifiers, several statements
 * in one string, transaction control, session statements and utility commands.
 */
import { createRng, type Rng } from './rng.js'

/** Caller write functions the corpus uses; pass them as `writeFunctions`. */
export const CORPUS_WRITE_FUNCTIONS: readonly string[] = ['audit.log_event', 'bump_counter']

const TABLES = ['users', 'orders', 'order_items', 'products', 'accounts', 'public.events', 'audit.log', 'inventory', 'sessions', '"Order"', '"select"', '"update"', 'sales.invoices']
const COLUMNS = ['id', 'name', 'email', 'created_at', 'status', 'amount', 'user_id', 'price', 'qty', 'data', '"update"', '"nextval"', '"from"', '"Select"']
const ALIASES = ['a', 'b', 'c', 'u', 'o', 'x', 'y', 'z', 't1', 't2']
const STRINGS = [
  "'DELETE FROM users'",
  "'SELECT 1 FOR UPDATE'",
  "'; DROP TABLE users; --'",
  "'nextval(''seq'')'",
  "'/* pindb:primary */'",
  "'it''s'",
  "'active'",
  "'%@example.com'",
  "E'line\\nbreak \\' DELETE'",
  "$$; UPDATE users SET x = 1$$",
  "$body$INSERT INTO t VALUES (1)$body$",
  "U&'d\\0061ta'",
  "'C:\\temp'",
  "B'1010'",
  "X'1F'",
]
const COMMENTS = [
  '/* DELETE FROM users */',
  '/* FOR UPDATE */',
  '-- UPDATE users SET a = 1\n',
  '/* outer /* nested DROP TABLE x; */ still comment */',
  '/* ; INSERT INTO t VALUES (1) */',
  '-- nextval(\'s\')\n',
  '/* pindb:replica */',
  '/* pindb:primary */',
]
const HARMLESS_FUNCTIONS = ['now()', 'lower(name)', 'upper(email)', 'coalesce(amount, 0)', 'length(name)', 'random()', 'pg_catalog.lower(status)', "date_trunc('day', created_at)", 'abs(amount)', 'round(price, 2)', "current_setting('app.tenant')", 'gen_random_uuid()', "to_char(created_at, 'YYYY')", "jsonb_build_object('k', id)", 'greatest(qty, 1)', 'pg_sleep(0)', "lo_get(42)"]
const WRITE_FUNCTIONS = [
  "nextval('order_seq')",
  "setval('order_seq', 100)",
  "pg_catalog.nextval('s')",
  'pg_advisory_lock(1)',
  'pg_try_advisory_lock(1, 2)',
  'pg_advisory_xact_lock_shared(7)',
  'pg_advisory_unlock_all()',
  'pg_try_advisory_xact_lock(42)',
  'lo_create(0)',
  'lo_unlink(42)',
  "pg_notify('events', 'payload')",
  "set_config('app.user', '42', false)",
  'txid_current()',
  'pg_current_xact_id()',
  'pg_switch_wal()',
  "currval('order_seq')",
  'lastval()',
  "audit.log_event('login')",
  "log_event('logout')",
  'bump_counter(1)',
  'public.bump_counter(2)',
  '"nextval"(\'s\')',
]
const LOCKS = ['FOR UPDATE', 'FOR SHARE', 'FOR NO KEY UPDATE', 'FOR KEY SHARE', 'FOR UPDATE NOWAIT', 'FOR UPDATE SKIP LOCKED', 'FOR SHARE OF a', 'FOR UPDATE OF a SKIP LOCKED']

/** Grammar state: the PRNG and a depth budget for nesting. */
class Gen {
  constructor(readonly r: Rng) {}

  table(): string {
    return this.r.pick(TABLES)
  }

  column(alias?: string): string {
    // Unquoted columns named like DML keywords: qualified (`u.update`) or, rarely, bare.
    if (this.r.chance(0.04)) {
      const word = this.r.pick(['update', 'delete', 'insert', 'merge'])
      if (alias !== undefined && this.r.chance(0.8)) return `${alias}.${word}`
      return word
    }
    const col = this.r.pick(COLUMNS)
    if (alias !== undefined && this.r.chance(0.5)) return `${alias}.${col}`
    return col
  }

  literal(): string {
    const r = this.r
    const k = r.int(0, 5)
    if (k === 0) return String(r.int(0, 1000))
    if (k === 1) return `${r.int(0, 99)}.${r.int(0, 99)}`
    if (k === 2) return r.pick(STRINGS)
    if (k === 3) return `$${r.int(1, 4)}`
    if (k === 4) return r.pick(['NULL', 'TRUE', 'FALSE', "'2024-01-01'::date", "interval '1 day'"])
    return `'${r.pick(['a', 'b', 'xyz', 'pending', 'done'])}'`
  }

  /** A scalar expression; `writes` allows write-function calls. */
  expr(depth: number, writes: boolean, alias?: string): string {
    const r = this.r
    const k = r.int(0, 9)
    if (k <= 2) return this.column(alias)
    if (k <= 4) return this.literal()
    if (k === 5) return r.pick(HARMLESS_FUNCTIONS)
    if (k === 6 && writes && r.chance(0.35)) return r.pick(WRITE_FUNCTIONS)
    if (k === 7 && depth > 0) return `(${this.select(depth - 1, writes, false)})`
    if (k === 8) return `CASE WHEN ${this.cond(depth - 1, writes, alias)} THEN ${this.literal()} ELSE ${this.column(alias)} END`
    return `${this.column(alias)} ${r.pick(['+', '-', '*', '||'])} ${this.literal()}`
  }

  cond(depth: number, writes: boolean, alias?: string): string {
    const r = this.r
    const k = r.int(0, 8)
    if (k <= 2) return `${this.column(alias)} ${r.pick(['=', '<>', '>', '<=', 'LIKE'])} ${this.literal()}`
    if (k === 3) return `${this.column(alias)} IS ${r.pick(['NULL', 'NOT NULL'])}`
    if (k === 4 && depth > 0) return `${this.column(alias)} IN (${this.select(depth - 1, writes, false)})`
    if (k === 5 && depth > 0) return `${r.chance(0.3) ? 'NOT ' : ''}EXISTS (${this.select(depth - 1, writes, false)})`
    if (k === 6) return `${this.column(alias)} = ${this.expr(depth - 1, writes, alias)}`
    if (k === 7) return `(${this.cond(depth - 1, writes, alias)} ${r.pick(['AND', 'OR'])} ${this.cond(depth - 1, writes, alias)})`
    return `${this.column(alias)} BETWEEN ${r.int(0, 10)} AND ${r.int(11, 99)}`
  }

  fromItem(depth: number, writes: boolean, allowWritableCte: boolean): string {
    const r = this.r
    const alias = r.pick(ALIASES)
    const k = r.int(0, 9)
    if (k <= 5 || depth <= 0) return `${this.table()} ${r.chance(0.5) ? 'AS ' : ''}${alias}`
    if (k <= 7) return `(${this.select(depth - 1, writes, allowWritableCte)}) ${alias}`
    if (k === 8) return `LATERAL (${this.select(depth - 1, writes, false)}) ${alias}`
    return `generate_series(1, ${r.int(2, 50)}) ${alias}`
  }

  /** A SELECT (possibly with CTEs, set operations and locking). */
  select(depth: number, writes: boolean, allowWritableCte: boolean): string {
    const r = this.r
    let sql = ''
    if (depth > 0 && r.chance(0.2)) sql += this.withClause(depth - 1, writes, allowWritableCte) + ' '
    const alias = r.pick(ALIASES)
    const targets: string[] = []
    const n = r.int(1, 4)
    for (let i = 0; i < n; i++) {
      const e = r.chance(0.15) ? '*' : this.expr(depth, writes, alias)
      targets.push(e === '*' || !r.chance(0.3) ? e : `${e} AS ${r.pick(['total', 'n', '"update"', 'label', 'v'])}`)
    }
    sql += `SELECT ${r.chance(0.1) ? 'DISTINCT ' : ''}${targets.join(', ')}`
    sql += ` FROM ${this.table()} ${alias}`
    if (r.chance(0.4)) {
      sql += ` ${r.pick(['JOIN', 'LEFT JOIN', 'INNER JOIN', 'RIGHT JOIN'])} ${this.fromItem(depth, writes, allowWritableCte)} ON ${this.cond(0, false, alias)}`
    }
    if (r.chance(0.15)) sql += `, ${this.fromItem(depth, writes, allowWritableCte)}`
    if (r.chance(0.6)) sql += ` WHERE ${this.cond(depth, writes, alias)}`
    if (r.chance(0.15)) sql += ` GROUP BY ${this.column(alias)}${r.chance(0.4) ? ` HAVING count(*) > ${r.int(1, 9)}` : ''}`
    if (depth > 0 && r.chance(0.1)) {
      const rhs = this.select(depth - 1, writes, false)
      sql += ` ${r.pick(['UNION', 'UNION ALL', 'INTERSECT', 'EXCEPT'])} ${rhs.startsWith('WITH') ? `(${rhs})` : rhs}`
    }
    else {
      if (r.chance(0.3)) sql += ` ORDER BY ${this.column(alias)} ${r.pick(['ASC', 'DESC', 'NULLS LAST', ''])}`.trimEnd()
      const lock = writes && r.chance(0.12) ? ` ${r.pick(LOCKS).replace(' OF a', ` OF ${alias}`)}` : ''
      const limit = r.chance(0.3) ? ` LIMIT ${r.int(1, 100)}${r.chance(0.3) ? ` OFFSET ${r.int(1, 50)}` : ''}` : ''
      sql += r.chance(0.5) ? limit + lock : lock + limit
    }
    return sql
  }

  /** `INSERT`/`UPDATE`/`DELETE … RETURNING` for a writable CTE. */
  dmlReturning(): string {
    const r = this.r
    const t = this.table()
    const k = r.int(0, 2)
    if (k === 0) return `INSERT INTO ${t} (id, name) VALUES (${this.literal()}, ${this.literal()}) RETURNING *`
    if (k === 1) return `UPDATE ${t} SET status = ${this.literal()} WHERE id = ${r.int(1, 99)} RETURNING id`
    return `DELETE FROM ${t} WHERE ${this.cond(0, false)} RETURNING id`
  }

  withClause(depth: number, writes: boolean, allowWritableCte: boolean): string {
    const r = this.r
    const n = r.int(1, 3)
    const ctes: string[] = []
    for (let i = 0; i < n; i++) {
      const name = `cte${i}`
      const mat = r.chance(0.15) ? r.pick(['MATERIALIZED ', 'NOT MATERIALIZED ']) : ''
      const body = writes && allowWritableCte && r.chance(0.2) ? this.dmlReturning() : this.select(depth, writes, allowWritableCte)
      ctes.push(`${name} AS ${mat}(${body})`)
    }
    return `WITH ${r.chance(0.1) ? 'RECURSIVE ' : ''}${ctes.join(', ')}`
  }

  /** A top-level query: SELECT, VALUES, TABLE, set operations, parentheses. */
  query(writes: boolean): string {
    const r = this.r
    const k = r.int(0, 19)
    if (k === 0) {
      const rows = Array.from({ length: r.int(1, 3) }, () => `(${this.literal()}, ${this.expr(0, writes)})`)
      return `VALUES ${rows.join(', ')}${r.chance(0.3) ? ' ORDER BY 1' : ''}`
    }
    if (k === 1) return `TABLE ${this.table()}`
    if (k === 2) return `(${this.select(1, writes, false)}) UNION (${this.select(1, writes, false)})`
    if (k === 3) return `SELECT ${this.expr(0, writes)}`
    if (k === 4 && writes) return `SELECT * INTO ${r.chance(0.5) ? 'TEMP ' : ''}new_${r.int(1, 9)} FROM ${this.table()}`
    return this.select(r.int(1, 3), writes, writes)
  }

  insert(): string {
    const r = this.r
    const t = this.table()
    let sql = r.chance(0.3)
      ? `INSERT INTO ${t} (id, name) ${this.select(1, false, false)}`
      : `INSERT INTO ${t} (id, name, amount) VALUES (${this.literal()}, ${this.literal()}, ${this.expr(0, true)})`
    if (r.chance(0.3)) sql += r.pick([' ON CONFLICT DO NOTHING', ' ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name'])
    if (r.chance(0.4)) sql += ' RETURNING id'
    return sql
  }

  update(): string {
    const r = this.r
    let sql = `UPDATE ${this.table()} ${r.chance(0.3) ? 'AS u ' : ''}SET ${r.pick(COLUMNS)} = ${this.expr(1, true)}`
    if (r.chance(0.2)) sql += ` FROM ${this.table()} x`
    sql += ` WHERE ${this.cond(1, false)}`
    if (r.chance(0.3)) sql += ' RETURNING *'
    return sql
  }

  delete(): string {
    const r = this.r
    let sql = `DELETE FROM ${this.table()}`
    if (r.chance(0.2)) sql += ` USING ${this.table()} x`
    sql += ` WHERE ${this.cond(1, false)}`
    if (r.chance(0.3)) sql += ' RETURNING id'
    return sql
  }

  merge(): string {
    const r = this.r
    let sql = `MERGE INTO ${this.table()} t USING ${r.chance(0.5) ? this.table() : `(${this.select(0, false, false)})`} s ON t.id = s.id`
    sql += ` WHEN MATCHED THEN ${r.pick(['UPDATE SET name = s.name', 'DELETE', 'DO NOTHING'])}`
    sql += ' WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)'
    if (r.chance(0.3)) sql += ' RETURNING merge_action(), t.*'
    return sql
  }

  ddl(): string {
    const r = this.r
    const n = r.int(1, 99)
    return r.pick([
      `CREATE TABLE t${n} (id bigint PRIMARY KEY, name text NOT NULL DEFAULT 'select')`,
      `CREATE TEMP TABLE tmp${n} (id int)`,
      `CREATE TEMPORARY TABLE tmp${n} AS ${this.select(0, false, false)}`,
      `CREATE UNLOGGED TABLE u${n} (x int)`,
      `CREATE INDEX ${r.chance(0.5) ? 'CONCURRENTLY ' : ''}idx_${n} ON ${this.table()} (created_at)`,
      `ALTER TABLE ${this.table()} ADD COLUMN c${n} text`,
      `DROP TABLE IF EXISTS t${n}`,
      `CREATE VIEW v${n} AS ${this.select(1, false, false)}`,
      `CREATE MATERIALIZED VIEW mv${n} AS ${this.select(0, false, false)}`,
      `CREATE SEQUENCE seq${n}`,
      `CREATE FUNCTION f${n}() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$`,
      `CREATE OR REPLACE FUNCTION g${n}(a int) RETURNS int AS $fn$ BEGIN RETURN a; END $fn$ LANGUAGE plpgsql`,
      `COMMENT ON TABLE ${this.table()} IS 'DELETE me'`,
      `TRUNCATE ${this.table()}`,
      `GRANT SELECT ON ${this.table()} TO reporting`,
      `REVOKE ALL ON ${this.table()} FROM public`,
      `CREATE SCHEMA IF NOT EXISTS s${n}`,
    ])
  }

  copy(): string {
    const r = this.r
    return r.pick([
      `COPY ${this.table()} TO STDOUT`,
      `COPY ${this.table()} (id, name) TO STDOUT WITH (FORMAT csv, HEADER)`,
      `COPY (${this.select(1, true, false)}) TO STDOUT`,
      `COPY (${this.dmlReturning()}) TO STDOUT`,
      `COPY ${this.table()} FROM STDIN`,
      `COPY ${this.table()} (id, name) FROM '/tmp/in.csv' WITH (FORMAT csv)`,
      `COPY ${this.table()} TO '/tmp/out.csv'`,
      `COPY ${this.table()} TO PROGRAM 'gzip > /tmp/x.gz'`,
    ])
  }

  transaction(): string {
    return this.r.pick([
      'BEGIN', 'BEGIN READ ONLY', 'BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE',
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', 'START TRANSACTION READ WRITE', 'START TRANSACTION READ ONLY',
      'BEGIN WORK', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT s1', 'RELEASE SAVEPOINT s1', 'RELEASE s1',
      'ROLLBACK TO SAVEPOINT s1', "PREPARE TRANSACTION 'tx1'", "COMMIT PREPARED 'tx1'", "ROLLBACK PREPARED 'tx1'",
      'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'SET TRANSACTION READ ONLY', 'COMMIT AND CHAIN',
    ])
  }

  utility(): string {
    const r = this.r
    return r.pick([
      'SET search_path TO app, public', "SET LOCAL statement_timeout = '5s'", "SET app.tenant = 'acme'",
      "SET TIME ZONE 'UTC'", 'RESET ALL', 'SHOW search_path', 'SHOW ALL', 'SHOW TIME ZONE',
      'SHOW transaction_isolation', 'LISTEN events', 'UNLISTEN *', "NOTIFY events, 'DELETE'",
      `LOCK TABLE ${this.table()} IN ACCESS EXCLUSIVE MODE`, "CALL do_work(1, 'x')",
      "DO $$ BEGIN PERFORM 1; END $$", "DO LANGUAGE plpgsql $x$ BEGIN RAISE NOTICE 'SELECT'; END $x$",
      `VACUUM ${this.table()}`, `VACUUM (ANALYZE) ${this.table()}`, `ANALYZE ${this.table()}`,
      'REFRESH MATERIALIZED VIEW CONCURRENTLY mv1', 'CLUSTER users USING users_pkey', 'REINDEX TABLE users',
      'CHECKPOINT', 'DISCARD ALL', `PREPARE q${r.int(1, 9)} AS ${this.select(0, false, false)}`,
      'EXECUTE q1(1)', 'DEALLOCATE q1', `DECLARE c1 CURSOR FOR ${this.select(0, false, false)}`,
      'FETCH 10 FROM c1', 'MOVE NEXT IN c1', 'CLOSE c1', 'LOAD \'auto_explain\'',
    ])
  }

  explain(): string {
    const r = this.r
    const opts = r.pick(['', 'ANALYZE ', 'VERBOSE ', 'ANALYZE VERBOSE ', '(ANALYZE, BUFFERS) ', '(FORMAT JSON) ', '(ANALYZE false, COSTS off) ', '(ANALYZE true) '])
    const target = r.chance(0.7) ? this.query(true) : r.pick([this.insert(), this.update(), this.delete()])
    return `EXPLAIN ${opts}${target}`
  }

  /** Wraps a statement with misleading comments / hints. */
  decorate(sql: string): string {
    const r = this.r
    if (r.chance(0.12)) sql = `${r.pick(COMMENTS)} ${sql}`
    if (r.chance(0.08)) sql = `${sql} ${r.pick(COMMENTS).replace(/\n$/, '')}`
    if (r.chance(0.05)) sql = sql.replace(' FROM ', ` ${r.pick(COMMENTS)} FROM `)
    if (r.chance(0.1)) sql += ';'
    return sql
  }

  statement(): string {
    const r = this.r
    const k = r.int(0, 99)
    let sql: string
    if (k < 45) sql = this.query(r.chance(0.6))
    else if (k < 50) sql = this.explain()
    else if (k < 55) sql = this.insert()
    else if (k < 59) sql = this.update()
    else if (k < 62) sql = this.delete()
    else if (k < 64) sql = this.merge()
    else if (k < 70) sql = this.ddl()
    else if (k < 74) sql = this.copy()
    else if (k < 80) sql = this.transaction()
    else if (k < 88) sql = this.utility()
    else if (k < 94) sql = `SELECT ${r.pick(r.chance(0.5) ? WRITE_FUNCTIONS : HARMLESS_FUNCTIONS)}${r.chance(0.5) ? ` FROM ${this.table()}` : ''}`
    else {
      const parts = Array.from({ length: r.int(2, 3) }, () => (r.chance(0.6) ? this.query(false) : r.pick([this.insert(), this.transaction(), this.utility()])))
      sql = parts.join(r.pick(['; ', ';\n', ' ; ']))
    }
    return this.decorate(sql)
  }
}

/**
 * Generates `count` PostgreSQL statements from `seed` (same seed → same corpus). The default
 * corpus is 3,000 statements from seed 20240601.
 */
export function generateSqlCorpus(count = 3000, seed = 20240601): string[] {
  const gen = new Gen(createRng(seed))
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(gen.statement())
  return out
}
