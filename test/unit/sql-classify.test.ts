/**
 * Table-driven tests of the SQL classifier: every rule in both dialects, the tricky lexing
 * cases, hints, transaction and session statements, several statements, unterminated input.
 */
import { describe, expect, it } from 'vitest'
import { context } from '../../src/sql/context.js'
import { classifySql, type SqlClassification, type SqlDialect } from '../../src/sql/index.js'

type Extra = Omit<SqlClassification, 'kind' | 'reason'>
const R = (reason: string, extra: Extra = {}): SqlClassification => ({ kind: 'read', reason, ...extra })
const W = (reason: string, extra: Extra = {}): SqlClassification => ({ kind: 'write', reason, ...extra })

type Case = readonly [sql: string, expected: SqlClassification]

const seen: Array<[SqlDialect, string, SqlClassification]> = []

function table(dialect: SqlDialect, cases: readonly Case[], writeFunctions?: readonly string[]): void {
  const options = writeFunctions === undefined ? { dialect } : { dialect, writeFunctions }
  it.each(cases.map(([sql, expected]) => ({ sql, expected })))('$sql', ({ sql, expected }) => {
    const actual = classifySql(sql, options)
    seen.push([dialect, sql, actual])
    expect(actual).toEqual(expected)
    // The tokenizer's "nothing to look at" shortcut must not change any result.
    context.alwaysScan = true
    try {
      expect(classifySql(sql, options)).toEqual(expected)
    } finally {
      context.alwaysScan = false
    }
  })
}

describe('postgres', () => {
  describe('certain reads', () => {
    table('postgres', [
      ['SELECT 1', R('select')],
      ['select * from users where id = $1', R('select')],
      ['SELECT a.id, b.name FROM a JOIN b ON b.id = a.b_id WHERE a.x IN (SELECT x FROM c) ORDER BY 1 LIMIT 5', R('select')],
      ['VALUES (1, 2), (3, 4)', R('select')],
      ['TABLE users', R('select')],
      ['(SELECT 1) UNION (SELECT 2)', R('select')],
      ['((SELECT 1))', R('select')],
      ['WITH a AS (SELECT 1) SELECT * FROM a', R('select')],
      ['WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 9) SELECT * FROM r', R('select')],
      ['WITH a AS MATERIALIZED (SELECT 1), b AS NOT MATERIALIZED (SELECT 2) SELECT * FROM a, b', R('select')],
      ['SELECT now(), lower(name), pg_sleep(0), coalesce(a, b), lo_get(42) FROM t', R('select')],
      ['SELECT 1 FOR READ ONLY', R('select')],
      ['SHOW search_path', R('show')],
      ['SHOW ALL', R('show')],
      ['SHOW TIME ZONE', R('show')],
      ['EXPLAIN SELECT 1', R('explain')],
      ['EXPLAIN VERBOSE SELECT * FROM t', R('explain')],
      ['EXPLAIN ANALYZE SELECT 1', R('explain')],
      ['EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM t', R('explain')],
      ['EXPLAIN (SELECT 1)', R('explain')],
      ['EXPLAIN TABLE t', R('explain')],
      ['COPY users TO STDOUT', R('copy-to')],
      ['COPY users (id, name) TO STDOUT WITH (FORMAT csv, HEADER)', R('copy-to')],
      ['COPY (SELECT * FROM users WHERE id > 5) TO STDOUT', R('copy-to')],
      ['SELECT 1;', R('select')],
      ['SELECT 1; -- done', R('select')],
      ['  SELECT 1 /* x */ ;  /* y */  ', R('select')],
    ])
  })

  describe('comments, literals and quoted identifiers never fool it', () => {
    table('postgres', [
      ["SELECT 'DELETE FROM x'", R('select')],
      ["SELECT 'it''s; DELETE FROM x'", R('select')],
      ['SELECT "update" FROM t', R('select')],
      ['SELECT "nextval" FROM "delete"', R('select')],
      ['SELECT $$; DROP TABLE x$$', R('select')],
      ['SELECT $tag$ $$; DELETE FROM t; $$ $tag$', R('select')],
      ['SELECT $a$ ; $a$, $1', R('select')],
      ['SELECT a$b, "x""y" FROM t', R('select')],
      ['/* DELETE */ SELECT 1', R('select')],
      ['-- DELETE FROM t\nSELECT 1', R('select')],
      ['-- DELETE FROM t\rSELECT 1', R('select')],
      ['/* outer /* nested */ DELETE FROM t; */ SELECT 1', R('select')],
      ["SELECT E'\\' ; DELETE FROM t'", R('select')],
      ["SELECT B'1010', X'1F', U&'d\\0061ta', N'x'", R('select')],
      ["SELECT * FROM t WHERE a = 'FOR UPDATE' AND b = 'nextval(1)'", R('select')],
      ['SELECT t.update, t.nextval, u.delete, u.insert, u.merge FROM t JOIN u ON true', R('select')],
      ['SELECT update FROM t', R('select')],
      ['SELECT x AS update, y AS delete FROM t', R('select')],
      ['SELECT nextval FROM t', R('select')],
      ['SELECT update.x FROM update', R('select')],
      ['SELECT 1 -- ; DELETE FROM t', R('select')],
      ['SELECT 1 /* ; DELETE FROM t */', R('select')],
      ['/* SELECT */ DELETE FROM t', W('dml')],
      ['SELECT 1; DELETE FROM t', W('multi-statement')],
      ['SELECT 1 -- comment\r; DELETE FROM t', W('multi-statement')],
      ['SELECT 1 # 2; DELETE FROM t', W('multi-statement')],
      ['SELECT $$a$$; DELETE FROM t', W('multi-statement')],
      ["SELECT * FROM t WHERE a = 'x' FOR UPDATE", W('locking-read')],
      ['SELECT 1into t', W('select-into')],
    ])
  })

  describe('data-modifying statements and CTEs', () => {
    table('postgres', [
      ['INSERT INTO t VALUES (1)', W('dml')],
      ['INSERT INTO t VALUES (1) RETURNING *', W('dml')],
      ['UPDATE t SET a = 1 WHERE id = 2', W('dml')],
      ['DELETE FROM t', W('dml')],
      ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', W('dml')],
      ['WITH a AS (DELETE FROM t RETURNING *) SELECT * FROM a', W('writable-cte')],
      ['WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a', W('dml')],
      ['WITH a AS (SELECT 1), b AS (UPDATE t SET x = 1 RETURNING *) SELECT * FROM a, b', W('writable-cte')],
      ['WITH m AS (MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE RETURNING *) SELECT * FROM m', W('writable-cte')],
      ['SELECT * FROM (WITH d AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM d) s', W('writable-cte')],
      ['SELECT * FROM (SELECT * FROM (WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM x) a) b', W('writable-cte')],
      ['WITH a AS (WITH b AS (WITH c AS (DELETE FROM t RETURNING 1) SELECT 1) SELECT 1) SELECT 1', W('writable-cte')],
      ['WITH RECURSIVE t(n) AS (SELECT 1) CYCLE n SET is_cycle USING path DELETE FROM x', W('dml')],
      ['UPSERT INTO t VALUES (1)', W('dml')],
    ])
  })

  describe('locking reads and SELECT INTO', () => {
    table('postgres', [
      ['SELECT * FROM t FOR UPDATE', W('locking-read')],
      ['SELECT * FROM t FOR SHARE', W('locking-read')],
      ['SELECT * FROM t FOR NO KEY UPDATE', W('locking-read')],
      ['SELECT * FROM t FOR KEY SHARE', W('locking-read')],
      ['SELECT * FROM t FOR UPDATE SKIP LOCKED', W('locking-read')],
      ['SELECT * FROM t FOR UPDATE NOWAIT', W('locking-read')],
      ['SELECT * FROM t FOR UPDATE OF t LIMIT 1', W('locking-read')],
      ['SELECT * FROM t LIMIT 1 FOR SHARE OF t SKIP LOCKED', W('locking-read')],
      ['SELECT * FROM (SELECT * FROM t FOR UPDATE) s', W('locking-read')],
      ['WITH c AS (SELECT * FROM t FOR KEY SHARE) SELECT * FROM c', W('locking-read')],
      ['SELECT 1 FOR\n/* comment */ update', W('locking-read')],
      ['SELECT * INTO new_t FROM t', W('select-into')],
      ['SELECT * INTO TEMP x FROM t', W('select-into', { session: 'temp-table' })],
      ['SELECT * INTO TEMPORARY TABLE x FROM t', W('select-into', { session: 'temp-table' })],
    ])
  })

  describe('write functions', () => {
    table('postgres', [
      ["SELECT nextval('s')", W('write-function:nextval')],
      ["SELECT NEXTVAL('s')", W('write-function:nextval')],
      ["SELECT nextval ('s')", W('write-function:nextval')],
      ["SELECT pg_catalog.nextval('s')", W('write-function:nextval')],
      ['SELECT "nextval"(\'s\')', W('write-function:nextval')],
      ["SELECT setval('s', 10)", W('write-function:setval')],
      ["SELECT currval('s')", W('session-function:currval', { session: 'read' })],
      ['SELECT lastval()', W('session-function:lastval', { session: 'read' })],
      // Regression (session-scoped values read from another connection): these read state of the
      // connection that ran the previous statement; they were routed to a replica as plain reads.
      ['SELECT pg_backend_pid()', W('session-function:pg_backend_pid', { session: 'read' })],
      ['SELECT txid_current_if_assigned()', W('session-function:txid_current_if_assigned', { session: 'read' })],
      // A session read mixed with a write is a write that keeps its session (never a non-pinning read).
      ["SELECT lastval(), nextval('s')", W('write-function:nextval', { session: 'other' })],
      ["SELECT nextval('s'), currval('s')", W('write-function:nextval', { session: 'other' })],
      ["SELECT pg_backend_pid(), pg_advisory_lock(1)", W('write-function:pg_advisory_lock', { session: 'advisory-lock' })],
      ["INSERT INTO t VALUES (1); SELECT lastval()", W('multi-statement', { session: 'other' })],
      ['SELECT pg_advisory_lock(1)', W('write-function:pg_advisory_lock', { session: 'advisory-lock' })],
      ['SELECT pg_advisory_xact_lock_shared(1)', W('write-function:pg_advisory_xact_lock_shared', { session: 'advisory-lock' })],
      ['SELECT pg_advisory_unlock_all()', W('write-function:pg_advisory_unlock_all', { session: 'advisory-lock' })],
      ['SELECT pg_try_advisory_lock(1, 2)', W('write-function:pg_try_advisory_lock', { session: 'advisory-lock' })],
      ['SELECT PG_CATALOG.PG_TRY_ADVISORY_XACT_LOCK(1)', W('write-function:pg_try_advisory_xact_lock', { session: 'advisory-lock' })],
      ['SELECT lo_create(0)', W('write-function:lo_create')],
      ['SELECT lo_unlink(42)', W('write-function:lo_unlink')],
      ["SELECT lo_import('/tmp/x')", W('write-function:lo_import')],
      ["SELECT pg_notify('c', 'p')", W('write-function:pg_notify')],
      ["SELECT set_config('a.b', 'c', false)", W('write-function:set_config', { session: 'set' })],
      ['SELECT txid_current()', W('write-function:txid_current')],
      ['SELECT pg_current_xact_id()', W('write-function:pg_current_xact_id')],
      ['SELECT pg_switch_wal()', W('write-function:pg_switch_wal')],
      ["SELECT * FROM t WHERE id = (SELECT nextval('s'))", W('write-function:nextval')],
      ["WITH a AS (SELECT nextval('s')) SELECT * FROM a", W('write-function:nextval')],
      ["SELECT CASE WHEN x THEN setval('s', 1) END FROM t", W('write-function:setval')],
      ["VALUES (nextval('s'))", W('write-function:nextval')],
      ['SELECT U&"\\006Eextval"(\'s\')', W('write-function:unicode-identifier')],
      ['SELECT U&"d\\0061ta" FROM t', R('select')],
    ])
  })

  describe('caller write functions', () => {
    const fns = ['audit.log_event', 'bump_counter', '"Weird"."Name"']
    table(
      'postgres',
      [
        ['SELECT audit.log_event(1)', W('write-function:audit.log_event')],
        ['SELECT AUDIT.LOG_EVENT(1)', W('write-function:audit.log_event')],
        ['SELECT "audit"."log_event"(1)', W('write-function:audit.log_event')],
        ['SELECT log_event(1)', W('write-function:audit.log_event')],
        ['SELECT other.log_event(1)', R('select')],
        ['SELECT log_event FROM t', R('select')],
        ['SELECT bump_counter()', W('write-function:bump_counter')],
        ['SELECT x.bump_counter()', W('write-function:bump_counter')],
        ['SELECT weird.name()', W('write-function:weird.name')],
        ['SELECT * FROM t WHERE a IN (SELECT bump_counter())', W('write-function:bump_counter')],
        ['SELECT harmless(1)', R('select')],
      ],
      fns,
    )
    it('does not leak one call’s list into the next', () => {
      expect(classifySql('SELECT bump_counter()', { dialect: 'postgres', writeFunctions: ['bump_counter'] }).kind).toBe('write')
      expect(classifySql('SELECT bump_counter()', { dialect: 'postgres', writeFunctions: ['other'] }).kind).toBe('read')
      expect(classifySql('SELECT bump_counter()', { dialect: 'postgres' }).kind).toBe('read')
      expect(classifySql('SELECT bump_counter()', { dialect: 'postgres', writeFunctions: [] }).kind).toBe('read')
    })
  })

  describe('EXPLAIN and COPY', () => {
    table('postgres', [
      ['EXPLAIN ANALYZE DELETE FROM t', W('explain-analyze')],
      ['EXPLAIN (ANALYZE) INSERT INTO t VALUES (1)', W('explain-analyze')],
      ['EXPLAIN (ANALYZE false, COSTS off) UPDATE t SET a = 1', W('explain-analyze')],
      ["EXPLAIN ANALYZE SELECT nextval('s')", W('explain-analyze')],
      ['EXPLAIN ANALYZE SELECT * FROM t FOR UPDATE', W('explain-analyze')],
      ['EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1', W('explain-analyze')],
      ['EXPLAIN DELETE FROM t', W('explain-write')],
      ['EXPLAIN', W('unknown')],
      ['COPY t FROM STDIN', W('copy-from')],
      ["COPY t (a, b) FROM '/tmp/in.csv' WITH (FORMAT csv)", W('copy-from')],
      ["COPY t TO '/tmp/out.csv'", W('copy-to-file')],
      ["COPY t TO PROGRAM 'gzip > /tmp/x.gz'", W('copy-to-file')],
      ["COPY (SELECT 1) TO '/tmp/x'", W('copy-to-file')],
      ["COPY (SELECT nextval('s')) TO STDOUT", W('write-function:nextval')],
      ['COPY (DELETE FROM t RETURNING *) TO STDOUT', W('dml')],
      ['COPY (SELECT * FROM t FOR UPDATE) TO STDOUT', W('locking-read')],
    ])
  })

  describe('DDL, utility and session statements', () => {
    table('postgres', [
      ['CREATE TABLE t (id int)', W('ddl')],
      ['CREATE TEMP TABLE t (id int)', W('ddl', { session: 'temp-table' })],
      ['CREATE TEMPORARY TABLE t AS SELECT 1', W('ddl', { session: 'temp-table' })],
      ['CREATE GLOBAL TEMPORARY TABLE t (id int)', W('ddl', { session: 'temp-table' })],
      ['CREATE OR REPLACE TEMP VIEW v AS SELECT 1', W('ddl', { session: 'temp-table' })],
      ['CREATE UNLOGGED TABLE t (id int)', W('ddl')],
      ['CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', W('ddl')],
      ['ALTER TABLE t ADD COLUMN c int', W('ddl')],
      ['DROP TABLE t', W('ddl')],
      ['TRUNCATE t', W('ddl')],
      ["COMMENT ON TABLE t IS 'x'", W('ddl')],
      ['GRANT SELECT ON t TO r', W('dcl')],
      ['REVOKE ALL ON t FROM public', W('dcl')],
      ['LOCK TABLE t IN ACCESS EXCLUSIVE MODE', W('lock', { session: 'lock' })],
      ['LISTEN events', W('listen', { session: 'listen' })],
      ['UNLISTEN *', W('listen', { session: 'listen' })],
      ["NOTIFY events, 'x'", W('notify')],
      ["CALL do_work(1, 'x')", W('call')],
      ['DO $$ BEGIN PERFORM 1; END $$', W('do')],
      ['VACUUM t', W('maintenance')],
      ['VACUUM (ANALYZE) t', W('maintenance')],
      ['ANALYZE t', W('maintenance')],
      ['REFRESH MATERIALIZED VIEW CONCURRENTLY mv', W('maintenance')],
      ['CLUSTER t USING t_pkey', W('maintenance')],
      ['REINDEX TABLE t', W('maintenance')],
      ['CHECKPOINT', W('maintenance')],
      ['DISCARD ALL', W('discard', { session: 'other' })],
      ["LOAD 'auto_explain'", W('load', { session: 'other' })],
      ['SET search_path = app, public', W('set', { session: 'set' })],
      ["SET LOCAL statement_timeout = '5s'", W('set', { session: 'set' })],
      ['SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY', W('set', { session: 'set' })],
      ['RESET ALL', W('set', { session: 'set' })],
      ['PREPARE p AS SELECT 1', W('prepare', { session: 'prepare' })],
      ['EXECUTE p(1)', W('execute', { session: 'prepare' })],
      ['DEALLOCATE p', W('prepare', { session: 'prepare' })],
      ['DECLARE c CURSOR FOR SELECT 1', W('cursor', { session: 'cursor' })],
      ['FETCH 10 FROM c', W('cursor', { session: 'cursor' })],
      ['MOVE NEXT IN c', W('cursor', { session: 'cursor' })],
      ['CLOSE c', W('cursor', { session: 'cursor' })],
      ['FROBNICATE t', W('unknown')],
      ['42', W('unknown')],
      ['"select" 1', W('unknown')],
      ['(DELETE FROM t)', W('unknown')],
    ])
  })

  describe('transaction control', () => {
    const T = (transaction: NonNullable<SqlClassification['transaction']>): SqlClassification =>
      transaction === 'begin-read-only' ? R('transaction', { transaction }) : W('transaction', { transaction })
    table('postgres', [
      ['BEGIN', T('begin')],
      ['BEGIN WORK', T('begin')],
      ['BEGIN TRANSACTION', T('begin')],
      ['START TRANSACTION', T('begin')],
      ['BEGIN READ WRITE', T('begin')],
      ['BEGIN READ ONLY', T('begin-read-only')],
      ['begin read only', T('begin-read-only')],
      ['START TRANSACTION READ ONLY', T('begin-read-only')],
      ['BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE', T('begin-read-only')],
      ['BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ', T('begin-read-only')],
      ['BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY NOT DEFERRABLE', T('begin-read-only')],
      ['BEGIN READ ONLY, READ WRITE', T('begin')],
      ['BEGIN READ ONLY frobnicate', T('begin')],
      ['BEGIN ISOLATION LEVEL REPEATABLE', T('begin')],
      ['COMMIT', T('commit')],
      ['COMMIT WORK', T('commit')],
      ['COMMIT AND CHAIN', T('commit')],
      ['END', T('commit')],
      ['ROLLBACK', T('rollback')],
      ['ABORT', T('rollback')],
      ['ROLLBACK TO SAVEPOINT s1', T('rollback-to')],
      ['ROLLBACK WORK TO s1', T('rollback-to')],
      ['SAVEPOINT s1', T('savepoint')],
      ['RELEASE SAVEPOINT s1', T('release')],
      ['RELEASE s1', T('release')],
      ["PREPARE TRANSACTION 'tx'", T('prepare-transaction')],
      ["COMMIT PREPARED 'tx'", T('prepare-transaction')],
      ["ROLLBACK PREPARED 'tx'", T('prepare-transaction')],
      ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', T('set-transaction')],
      ['SET TRANSACTION READ ONLY', T('set-transaction')],
    ])
  })

  describe('several statements', () => {
    table('postgres', [
      ['SELECT 1; SELECT 2', W('multi-statement')],
      ['SELECT 1;;', W('multi-statement')],
      ['; SELECT 1', W('multi-statement')],
      ['SELECT 1; /* c */ ; -- d', W('multi-statement')],
      ['BEGIN; INSERT INTO t VALUES (1); COMMIT', W('multi-statement', { transaction: 'commit' })],
      ['BEGIN; UPDATE t SET a = 1', W('multi-statement', { transaction: 'begin' })],
      ['SET search_path = x; SELECT 1', W('multi-statement', { session: 'set' })],
      ["SELECT 'a;b'", R('select')],
      ['SELECT "a;b" FROM t;', R('select')],
    ])
  })

  describe('empty and unparseable input', () => {
    table('postgres', [
      ['', W('empty')],
      ['   \n\t ', W('empty')],
      ['/* only a comment */', W('empty')],
      ['-- only a comment', W('empty')],
      [';', W('empty')],
      ["SELECT 'abc", W('unparseable')],
      ['SELECT "abc', W('unparseable')],
      ["SELECT E'abc\\'", W('unparseable')],
      ['SELECT $$abc', W('unparseable')],
      ['SELECT $t$abc$$', W('unparseable')],
      ['SELECT 1 /* abc', W('unparseable')],
      ['SELECT 1 /* /* */', W('unparseable')],
      ['SELECT U&"abc', W('unparseable')],
      ["SELECT B'101", W('unparseable')],
      ['SELECT 1\u0001', W('unparseable')],
    ])
  })

  describe('hints', () => {
    table('postgres', [
      ['/* pindb:primary */ SELECT 1', R('hint', { hint: 'primary' })],
      ['SELECT 1 -- pindb:primary', R('hint', { hint: 'primary' })],
      ['SELECT /*pindb:primary*/ 1', R('hint', { hint: 'primary' })],
      ['/* pindb:replica */ SELECT 1', R('hint', { hint: 'replica' })],
      ['/*   PINDB:Replica   */ SELECT 1', R('hint', { hint: 'replica' })],
      ['/* pindb:replica */ DELETE FROM t', W('dml')],
      ["/* pindb:replica */ SELECT nextval('s')", W('write-function:nextval')],
      ['/* pindb:primary */ DELETE FROM t', W('dml', { hint: 'primary' })],
      ['/* pindb:replica */ /* pindb:primary */ SELECT 1', R('hint', { hint: 'primary' })],
      ['/* pindb:primary */ BEGIN READ ONLY', R('hint', { hint: 'primary', transaction: 'begin-read-only' })],
      ["SELECT '/* pindb:replica */'", R('select')],
      ['SELECT $$ -- pindb:primary $$', R('select')],
      ['/* pindb:replicas */ SELECT 1', R('select')],
      ['/* pindb: replica */ SELECT 1', R('select')],
      ['/* pindb:primary */ SELECT 1 /* unterminated', W('unparseable', { hint: 'primary' })],
    ])
  })

  describe('lexing that depends on server settings', () => {
    table('postgres', [
      // standard_conforming_strings = off would end the first string at \' and run the DELETE.
      ["SELECT 'x\\' , ' ; DELETE FROM t --'", W('ambiguous')],
      ["SELECT 'a\\b', 'c:\\\\d'", R('select')],
      ["SELECT 'C:\\'", R('select')],
    ])
  })
})

describe('mysql', () => {
  describe('certain reads', () => {
    table('mysql', [
      ['SELECT 1', R('select')],
      ['SELECT * FROM t WHERE id = ?', R('select')],
      ['SELECT `update`, `nextval` FROM `delete`', R('select')],
      ["SELECT 'It\\'s', \"DELETE FROM t\"", R('select')],
      ["SELECT 'a\\'b', 'c''d' FROM t", R('select')],
      ['# DELETE FROM t\nSELECT 1', R('select')],
      ['-- DELETE FROM t\nSELECT 1', R('select')],
      ['SELECT 1 # ; DELETE FROM t', R('select')],
      ['SELECT 1--1', R('select')],
      ['/*+ DELETE */ SELECT 1', R('select')],
      ['SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t', R('select')],
      ["SELECT 'a' /*!50000 , 'b' */", R('select')],
      ['SELECT @@version, @@session.sql_mode', R('select')],
      ['SELECT $abc FROM t', R('select')],
      ['SELECT SLEEP(1), IS_FREE_LOCK(\'a\'), REPLACE(name, \'a\', \'b\') FROM t', R('select')],
      ['TABLE t', R('select')],
      ['VALUES ROW(1, 2), ROW(3, 4)', R('select')],
      ['WITH a AS (SELECT 1) SELECT * FROM a', R('select')],
      ['SHOW TABLES', R('show')],
      ['SHOW CREATE TABLE t', R('show')],
      ["SHOW GRANTS FOR 'u'@'localhost'", R('show')],
      ['DESCRIBE t', R('describe')],
      ['DESC db.t col', R('describe')],
      ["DESCRIBE t 'a%'", R('describe')],
      ['EXPLAIN t', R('describe')],
      ['EXPLAIN SELECT 1', R('explain')],
      ['EXPLAIN FORMAT=JSON SELECT * FROM t', R('explain')],
      ['EXPLAIN ANALYZE SELECT * FROM t', R('explain')],
      ['DESCRIBE SELECT 1', R('explain')],
      ['EXPLAIN FOR CONNECTION 5', R('explain')],
      ["HELP 'select'", R('help')],
      ['START TRANSACTION READ ONLY', R('transaction', { transaction: 'begin-read-only' })],
      ['START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT', R('transaction', { transaction: 'begin-read-only' })],
    ])
  })

  describe('writes', () => {
    table('mysql', [
      ['INSERT INTO t VALUES (1)', W('dml')],
      ['INSERT IGNORE INTO t VALUES (1)', W('dml')],
      ['REPLACE INTO t VALUES (1)', W('dml')],
      ['UPDATE t SET a = 1', W('dml')],
      ['DELETE FROM t', W('dml')],
      ["LOAD DATA INFILE 'x.csv' INTO TABLE t", W('dml')],
      ['WITH a AS (SELECT 1) UPDATE t SET x = 1', W('dml')],
      ['WITH a AS (SELECT 1) DELETE FROM t', W('dml')],
      ['SELECT * FROM t FOR UPDATE', W('locking-read')],
      ['SELECT * FROM t FOR SHARE', W('locking-read')],
      ['SELECT * FROM t LOCK IN SHARE MODE', W('locking-read')],
      ['SELECT * FROM t FOR UPDATE SKIP LOCKED', W('locking-read')],
      ['SELECT * FROM t FOR UPDATE NOWAIT', W('locking-read')],
      ["SELECT * FROM t INTO OUTFILE '/tmp/x'", W('select-into')],
      ["SELECT * INTO DUMPFILE '/tmp/x' FROM t", W('select-into')],
      ['SELECT a INTO @v FROM t', W('select-into', { session: 'user-variable' })],
      ['SELECT @x := 1', W('user-variable', { session: 'user-variable' })],
      ['SELECT @x', W('user-variable', { session: 'user-variable' })],
      ["SELECT @'my var', @`other`", W('user-variable', { session: 'user-variable' })],
      ['SET @x = 1', W('user-variable', { session: 'user-variable' })],
      ["SELECT GET_LOCK('a', 10)", W('write-function:get_lock', { session: 'advisory-lock' })],
      ["SELECT RELEASE_LOCK('a')", W('write-function:release_lock', { session: 'advisory-lock' })],
      ['SELECT RELEASE_ALL_LOCKS()', W('write-function:release_all_locks', { session: 'advisory-lock' })],
      ['SELECT LAST_INSERT_ID(42)', W('write-function:last_insert_id', { session: 'other' })],
      ['SELECT LAST_INSERT_ID()', W('session-function:last_insert_id', { session: 'read' })],
      ['SELECT last_insert_id( ) AS id', W('session-function:last_insert_id', { session: 'read' })],
      // Regression (session-scoped values read from another connection): replica reads before.
      ['SELECT @@identity', W('session-variable:identity', { session: 'read' })],
      ['SELECT @@IDENTITY AS id, @@port', W('session-variable:identity', { session: 'read' })],
      ['SELECT @@session.last_insert_id', W('session-variable:last_insert_id', { session: 'read' })],
      ['SELECT @@warning_count, @@error_count', W('session-variable:warning_count', { session: 'read' })],
      ['SELECT CONNECTION_ID()', W('session-function:connection_id', { session: 'read' })],
      ['SELECT ROW_COUNT()', W('session-function:row_count', { session: 'read' })],
      ['SELECT @@global.max_connections, @@port, @@session.time_zone', R('select')],
      ["SELECT LAST_INSERT_ID(), GET_LOCK('a', 1)", W('write-function:get_lock', { session: 'advisory-lock' })],
      ['SELECT @@identity, LAST_INSERT_ID(7)', W('write-function:last_insert_id', { session: 'other' })],
      ['INSERT INTO t VALUES (1); SELECT LAST_INSERT_ID()', W('multi-statement', { session: 'other' })],
      ['SELECT NEXTVAL(s)', W('write-function:nextval')],
      ['SELECT SETVAL(s, 10)', W('write-function:setval')],
      ['SELECT NEXT VALUE FOR s', W('write-function:nextval')],
      ['SELECT PREVIOUS VALUE FOR s', W('session-function:lastval', { session: 'other' })],
      ['SELECT FOUND_ROWS()', W('session-function:found_rows', { session: 'read' })],
      ['SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10', W('session-function:found_rows', { session: 'other' })],
      ['SHOW WARNINGS', W('show-session', { session: 'read' })],
      ['SHOW COUNT(*) ERRORS', W('show-session', { session: 'read' })],
      ['EXPLAIN DELETE FROM t', W('explain-write')],
      ['EXPLAIN ANALYZE UPDATE t SET a = 1', W('explain-analyze')],
      ['EXPLAIN FORMAT=JSON INTO @v SELECT 1', W('select-into', { session: 'user-variable' })],
    ])
  })

  describe('session, transaction and utility statements', () => {
    table('mysql', [
      ['USE db', W('use', { session: 'use' })],
      ['SET NAMES utf8mb4', W('set', { session: 'set' })],
      ["SET sql_mode = ''", W('set', { session: 'set' })],
      ['SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', W('set', { session: 'set' })],
      ['SET TRANSACTION READ ONLY', W('transaction', { transaction: 'set-transaction' })],
      ["PREPARE s FROM 'SELECT 1'", W('prepare', { session: 'prepare' })],
      ['EXECUTE s USING @a', W('execute', { session: 'prepare' })],
      ['DEALLOCATE PREPARE s', W('prepare', { session: 'prepare' })],
      ['DROP PREPARE s', W('prepare', { session: 'prepare' })],
      ['HANDLER t OPEN', W('handler', { session: 'other' })],
      ['LOCK TABLES t READ', W('lock', { session: 'lock' })],
      ['UNLOCK TABLES', W('lock', { session: 'lock' })],
      ['CREATE TEMPORARY TABLE t (id int)', W('ddl', { session: 'temp-table' })],
      ['RENAME TABLE a TO b', W('ddl')],
      ['ANALYZE TABLE t', W('maintenance')],
      ['OPTIMIZE TABLE t', W('maintenance')],
      ['FLUSH TABLES', W('admin')],
      ['KILL 5', W('admin')],
      ['START SLAVE', W('admin')],
      ['RESET MASTER', W('admin')],
      ['DO SLEEP(1)', W('do')],
      ['CALL p()', W('call')],
      ['GET DIAGNOSTICS @n = NUMBER', W('diagnostics', { session: 'other' })],
      ["XA START 'x'", W('xa', { transaction: 'begin' })],
      ["XA END 'x'", W('xa')],
      ["XA PREPARE 'x'", W('xa', { transaction: 'prepare-transaction' })],
      ["XA COMMIT 'x'", W('xa', { transaction: 'commit' })],
      ["XA ROLLBACK 'x'", W('xa', { transaction: 'rollback' })],
      ['BEGIN', W('transaction', { transaction: 'begin' })],
      ['START TRANSACTION', W('transaction', { transaction: 'begin' })],
      ['START TRANSACTION WITH CONSISTENT SNAPSHOT', W('transaction', { transaction: 'begin' })],
      ['COMMIT', W('transaction', { transaction: 'commit' })],
      ['ROLLBACK TO SAVEPOINT s', W('transaction', { transaction: 'rollback-to' })],
      ['SAVEPOINT s', W('transaction', { transaction: 'savepoint' })],
      ['RELEASE SAVEPOINT s', W('transaction', { transaction: 'release' })],
      ['START TRANSACTION READ WRITE', W('transaction', { transaction: 'begin' })],
      ['COMMIT WORK AND NO CHAIN NO RELEASE', W('transaction', { transaction: 'commit' })],
      ['ROLLBACK WORK', W('transaction', { transaction: 'rollback' })],
      ['CREATE TABLE t (id INT PRIMARY KEY)', W('ddl')],
      ['ALTER TABLE t ADD COLUMN c INT', W('ddl')],
      ['DROP TABLE t', W('ddl')],
      ['TRUNCATE TABLE t', W('ddl')],
      ["GRANT SELECT ON db.* TO 'u'@'%'", W('dcl')],
      ['COPY t TO STDOUT', W('unknown')],
      ['', W('empty')],
      ['# only a comment', W('empty')],
      ['FROBNICATE', W('unknown')],
    ])
  })

  describe('caller write functions', () => {
    table(
      'mysql',
      [
        ['SELECT audit.log_event(1)', W('write-function:audit.log_event')],
        ['SELECT `audit`.`log_event`(1)', W('write-function:audit.log_event')],
        ['SELECT log_event(1)', W('write-function:audit.log_event')],
        ['SELECT other.log_event(1)', R('select')],
        ['SELECT * FROM t WHERE id IN (SELECT bump_counter())', W('write-function:bump_counter')],
      ],
      ['audit.log_event', 'bump_counter'],
    )
  })

  describe('EXPLAIN of writes and locking reads', () => {
    table('mysql', [
      ['EXPLAIN ANALYZE SELECT * FROM t FOR UPDATE', W('explain-analyze')],
      ["EXPLAIN ANALYZE SELECT GET_LOCK('a', 1)", W('explain-analyze', { session: 'advisory-lock' })],
      ['EXPLAIN INSERT INTO t VALUES (1)', W('explain-write')],
      ['EXPLAIN REPLACE INTO t VALUES (1)', W('explain-write')],
    ])
  })

  describe('lexing', () => {
    table('mysql', [
      ['SELECT 1 --x; DELETE FROM t', W('multi-statement')],
      ['SELECT 1; DELETE FROM t', W('multi-statement')],
      ['SELECT `a;b` FROM t', R('select')],
      ['SELECT `a``b` FROM t', R('select')],
      ['/*!40101 SET NAMES utf8 */', W('set', { session: 'set' })],
      ['SELECT 1 /*! ; DELETE FROM t */', W('multi-statement')],
      // A server older than the version skips the comment and runs CALL p().
      ['/*!99999 SELECT */ CALL p()', W('ambiguous')],
      // MySQL skips /*M!…*/; MariaDB runs it: one of them sees nothing.
      ['/*M!100100 SELECT 1 */', W('ambiguous')],
      // NO_BACKSLASH_ESCAPES ends the string at \' and runs the DELETE.
      ["SELECT 'a\\'; DELETE FROM t; -- '", W('ambiguous')],
      ['SELECT "a\\"b"', R('select')],
      // A server that ends `--` comments at \r too would run the DELETE.
      ['SELECT 1 -- x\r; DELETE FROM t', W('ambiguous')],
      ["SELECT 'abc", W('unparseable')],
      ['SELECT `abc', W('unparseable')],
      ['/*! SELECT 1', W('unparseable')],
      ['SELECT 1 /* x', W('unparseable')],
      ['/* pindb:replica */ SELECT 1', R('hint', { hint: 'replica' })],
      ['SELECT 1 -- pindb:primary', R('hint', { hint: 'primary' })],
      ['SELECT 1 # pindb:primary', R('hint', { hint: 'primary' })],
    ])
  })
})

describe('invariants', () => {
  it('session state implies a write, and a read carries no session', () => {
    expect(seen.length).toBeGreaterThan(300)
    for (const [dialect, sql, c] of seen) {
      if (c.session !== undefined) expect({ dialect, sql, kind: c.kind }).toEqual({ dialect, sql, kind: 'write' })
    }
  })

  it('handles long statements (buffer growth) without losing tokens', () => {
    const columns = Array.from({ length: 5000 }, (_, i) => `c${i}`).join(', ')
    expect(classifySql(`SELECT ${columns} FROM t`, { dialect: 'postgres' })).toEqual(R('select'))
    expect(classifySql(`SELECT ${columns}, nextval('s') FROM t`, { dialect: 'postgres' })).toEqual(W('write-function:nextval'))
    expect(classifySql(`SELECT ${columns} FROM t FOR UPDATE`, { dialect: 'mysql' })).toEqual(W('locking-read'))
  })

  it('keeps no state between calls', () => {
    expect(classifySql("SELECT 'abc", { dialect: 'postgres' }).reason).toBe('unparseable')
    expect(classifySql('/* pindb:primary */ SELECT 1', { dialect: 'mysql' }).hint).toBe('primary')
    expect(classifySql('SELECT 1', { dialect: 'postgres' })).toEqual(R('select'))
    expect(classifySql('SELECT 1 # 2; DELETE FROM t', { dialect: 'mysql' })).toEqual(R('select'))
    expect(classifySql('SELECT 1 # 2; DELETE FROM t', { dialect: 'postgres' })).toEqual(W('multi-statement'))
  })

  it('returns a fresh object each call', () => {
    const a = classifySql('SELECT 1', { dialect: 'postgres' })
    a.kind = 'write'
    expect(classifySql('SELECT 1', { dialect: 'postgres' }).kind).toBe('read')
  })
})
