/**
 * How adapters turn a classification into routing (`planFor`): which statements pin, which are
 * forced to the primary without pinning, which may use a replica.
 */
import { describe, expect, it } from 'vitest'
import { classifySql, planFor, type SqlDialect } from '../../src/index.js'

const plan = (sql: string, dialect: SqlDialect = 'postgres') => planFor(classifySql(sql, { dialect }))

describe('planFor', () => {
  it.each([
    ['SELECT 1', 'postgres', { intent: 'read', session: false }],
    ['INSERT INTO t VALUES (1)', 'postgres', { intent: 'write', session: false }],
    ['BEGIN', 'postgres', { intent: 'write', transaction: 'begin', reason: 'transaction' }],
    ['START TRANSACTION READ ONLY', 'mysql', { intent: 'read', transaction: 'begin-read-only' }],
    ['COMMIT', 'postgres', { intent: 'read', force: 'primary', transaction: 'commit' }],
    ['/* pindb:primary */ SELECT 1', 'postgres', { intent: 'read', force: 'primary', reason: 'hint' }],
    ['/* pindb:replica */ SELECT 1', 'postgres', { intent: 'read', force: 'replica', reason: 'hint' }],
    ['/* pindb:replica */ DELETE FROM t', 'postgres', { intent: 'write' }],
  ] as const)('%s (%s)', (sql, dialect, expected) => {
    expect(plan(sql, dialect)).toMatchObject(expected)
  })

  it.each([
    ['SET statement_timeout = 1000', 'postgres'],
    ['PREPARE p AS SELECT 1', 'postgres'],
    ['DECLARE c CURSOR WITH HOLD FOR SELECT 1', 'postgres'],
    ['LISTEN ch', 'postgres'],
    ['CREATE TEMP TABLE scratch (x int)', 'postgres'],
    ['SET @x = 1', 'mysql'],
    ['USE other', 'mysql'],
  ] as const)('session state without a data change goes to the primary without pinning: %s', (sql, dialect) => {
    expect(plan(sql, dialect)).toMatchObject({ intent: 'read', force: 'primary', reason: 'session', session: true })
  })

  it.each([
    ['EXECUTE p', 'postgres'],
    ["SELECT pg_advisory_lock(1)", 'postgres'],
    ["SELECT GET_LOCK('l', 1)", 'mysql'],
    ['INSERT INTO t VALUES (@x)', 'mysql'],
    ["UPDATE t SET a = 1 WHERE set_config('x', 'y', false) IS NOT NULL", 'postgres'],
  ] as const)('a statement that may change data counts as a write even when it touches session state: %s', (sql, dialect) => {
    expect(plan(sql, dialect)).toMatchObject({ intent: 'write' })
    expect(plan(sql, dialect).force).toBeUndefined()
  })
})

describe('session reads (regression: session-scoped values read from another connection)', () => {
  it.each([
    ['SELECT LAST_INSERT_ID()', 'mysql'],
    ['SELECT @@identity', 'mysql'],
    ['SELECT CONNECTION_ID()', 'mysql'],
    ['SHOW WARNINGS', 'mysql'],
    ['SELECT lastval()', 'postgres'],
    ["SELECT currval('s')", 'postgres'],
    ['SELECT pg_backend_pid()', 'postgres'],
  ] as const)('%s: a read of the connection whose state it reads, which neither pins nor anchors', (sql, dialect) => {
    expect(classifySql(sql, { dialect })).toMatchObject({ kind: 'write', session: 'read' })
    expect(plan(sql, dialect)).toEqual({ intent: 'read', force: 'primary', reason: 'session', session: false, connectionRead: true })
  })

  it.each([
    ['SELECT LAST_INSERT_ID(5)', 'mysql'],
    ["SELECT GET_LOCK('l', 1), LAST_INSERT_ID()", 'mysql'],
    ['INSERT INTO t VALUES (1); SELECT LAST_INSERT_ID()', 'mysql'],
    ["SELECT nextval('s'), currval('s')", 'postgres'],
  ] as const)('%s: mixed with anything else it keeps its session and is not a connection read', (sql, dialect) => {
    expect(plan(sql, dialect)).toMatchObject({ session: true })
    expect(plan(sql, dialect).connectionRead).toBeUndefined()
  })
})
