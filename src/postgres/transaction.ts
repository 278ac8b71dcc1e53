/**
 * `sql.begin()`: a transaction wholly on one server. `BEGIN` is routed like any statement — the
 * primary (it counts as a write: greedy mode pins, strict mode needs a pin), or a replica for
 * `begin('read only')`, with failover until the callback starts — then postgres.js's own
 * `begin()` runs the whole callback, savepoints included, on that server's connection. Each
 * statement inside is published as a `transaction` route event; the write is noted for causal
 * positions once the transaction has committed.
 *
 * @module
 */
import type { RoutedPoolCore } from '../adapter/routed-pool.js'
import { runPooled } from '../adapter/routed-session.js'
import { PinDbError } from '../errors.js'
import { Carried, carryLost, targetOf, uncarry } from './flight.js'
import type { PgjsServer } from './server.js'
import { makeSql, type ScopeSql } from './sql-function.js'
import { statementText, type PgjsKit } from './statement-text.js'
import type { PgjsHandler, PgjsTransaction } from './types.js'
import { seamOf } from '../adapter/seam.js'

/** @internal A transaction scope's `sql`. */
export interface TransactionSql extends ScopeSql {
  savepoint(...args: unknown[]): Promise<unknown>
  prepare(name: string): void
}

type Emit = (sql: string) => void

/** @internal `sql.begin([options], fn)` of a routed pool. */
export function makeBegin(core: RoutedPoolCore<PgjsServer>, kit: PgjsKit): (options: unknown, fn?: unknown) => Promise<unknown> {
  return function begin(options: unknown, fn?: unknown): Promise<unknown> {
    if (typeof options === 'function' && fn === undefined) [options, fn] = ['', options]
    if (typeof options !== 'string' || typeof fn !== 'function') {
      return Promise.reject(new PinDbError('PINDB_UNSUPPORTED', '[postgres] sql.begin expects `(fn)` or `(options: string, fn)`, e.g. sql.begin(async (sql) => …).'))
    }
    const callback = fn as (sql: TransactionSql) => unknown
    let started = false
    const outcome = runPooled(core, `begin ${options.replace(/[^a-z ]/gi, '')}`, async (alias) => {
      const server = core.readyPool(alias) ?? (await core.poolFor(alias))
      const emit = emitter(core, alias)
      try {
        return await server.sql.begin(options, (tx) => {
          started = true
          return callback(transactionSql(kit, tx, emit))
        })
      } catch (err) {
        // Once the callback ran, the transaction is never repeated elsewhere.
        throw started ? new Carried(err) : carryLost(err)
      }
    })
    return outcome.catch((err: unknown) => Promise.reject(uncarry(err)))
  }
}

/** Publishes each statement of a transaction on `alias` as a `transaction` route event. */
function emitter(core: RoutedPoolCore<PgjsServer>, alias: string): Emit {
  const { pindb, planner } = core
  const topology = pindb.topology
  const set = topology.sets.has(alias) ? alias : topology.replicaToSet.get(alias)
  const role = topology.sets.has(alias) ? 'primary' : topology.replicaToSet.has(alias) ? 'replica' : 'unmanaged'
  return (sql) => seamOf(pindb).emitRoute({ intent: planner.plan(sql).plan.intent, alias, set, role, reason: 'transaction' }, sql)
}

/** The `sql` of a transaction (or savepoint) scope: postgres.js's scope, with route events. */
function transactionSql(kit: PgjsKit, tx: PgjsTransaction, emit: Emit): TransactionSql {
  const target = targetOf(tx)
  const handler: PgjsHandler = (query) => {
    let text: string | undefined
    try {
      text = statementText(kit, query)
    } catch {
      // postgres.js rejects the query itself, with its own error.
    }
    if (text !== undefined) {
      try {
        emit(text)
      } catch (err) {
        // A throwing `onRoute` hook fails the statement, as it does outside a transaction — it
        // must not leave the query (and its connection) waiting forever.
        (query as { reject?: (e: unknown) => void }).reject?.(err)
        return
      }
    }
    target.handler(query)
  }
  const sql = makeSql(kit, handler, target.cancel) as TransactionSql
  sql.savepoint = function savepoint(...args: unknown[]): Promise<unknown> {
    let [name, fn] = args
    // sql.savepoint`…`: the one statement in a savepoint, as postgres.js allows.
    if (typeof name === 'object' && name !== null && Array.isArray((name as { raw?: unknown }).raw)) {
      return sql.savepoint((inner: TransactionSql) => inner(...(args as [unknown])))
    }
    if (typeof name === 'function') [name, fn] = [undefined, name]
    const callback = fn as (sql: TransactionSql) => unknown
    return tx.savepoint(name, (inner) => callback(transactionSql(kit, inner, emit)))
  }
  sql.prepare = (name) => tx.prepare(name)
  return sql
}
