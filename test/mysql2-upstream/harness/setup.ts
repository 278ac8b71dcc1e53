/**
 * The pindb instance the vendored mysql2 tests run against: the MariaDB test bed's primary and its
 * real replica, so that reads really go to the replica. Every routed pool the tests create is
 * tracked and ended after each file.
 */
import mysql from 'mysql2/promise'
import { createPinDb, type PinDb } from '../../../src/index.js'
import { createMysqlPool, type PinDbMysqlPool } from '../../../src/mysql2/index.js'
import { testbed } from '../../support/testbed.js'

const tb = testbed()
/** mysql2's test `config`, pointed at the test bed's primary (pindb routes by its own topology). */
export const config = { ...tb.mariadb.primary, compress: false, disableEval: false }

let pindb: PinDb | undefined
const pools: PinDbMysqlPool[] = []
/** Every alias a statement was routed to, in order (to show the tests really ran through pindb). */
export const routedAliases: string[] = []

/** The shared pindb instance (created on first use). */
export function harnessPinDb(): PinDb {
  pindb ??= createPinDb({
    primaries: { default: { ...tb.mariadb.primary } },
    replicas: { default: [{ port: tb.mariadb.replica.port }] },
    onRoute: (event) => { routedAliases.push(event.alias) },
  })
  return pindb
}

/** mysql2's `createPool` of `mysql2/promise`, replaced: a routed pool; `options` are its driver options. */
export function routedPromisePool(options: object = {}): PinDbMysqlPool {
  const pool = createMysqlPool(harnessPinDb(), { mysql, config: options })
  pools.push(pool)
  return pool
}

/** Ends the pools a file left open, and the pindb instance. */
export async function closeHarness(): Promise<void> {
  await Promise.all(pools.splice(0).map((p) => p.end()))
  await pindb?.close()
  pindb = undefined
}
