/**
 * Type tests of `pindb/pg` (checked by `tsc` in the test command; `expectTypeOf` is a no-op at run
 * time): the routed pool IS a `pg.Pool` for TypeScript too — assignable where `@types/pg`'s
 * `Pool` is expected, generic over row types — so no ORM integration needs a cast.
 */
import { PrismaPg } from '@prisma/adapter-pg'
import { drizzle } from 'drizzle-orm/node-postgres'
import { Kysely, PostgresDialect } from 'kysely'
import knex from 'knex'
import pg from 'pg'
import { describe, expectTypeOf, it } from 'vitest'
import { createPinDb } from '../../src/index.js'
import { createPgModule, createPgPool } from '../../src/pg/index.js'

const pindb = createPinDb({ primaries: { default: { host: 'db' } }, replicas: { default: [] } })

describe('pindb/pg types', () => {
  it('createPgPool returns the pg.Pool of the module passed in', () => {
    const pool = createPgPool(pindb, { pg, max: 5 })
    expectTypeOf(pool).toEqualTypeOf<pg.Pool>()
    const asPool: pg.Pool = pool
    expectTypeOf(asPool).toEqualTypeOf<pg.Pool>()
    expectTypeOf(pool.connect).returns.resolves.toEqualTypeOf<pg.PoolClient>()
    void pool.end()
  })

  it('query results carry the row type; no unknown where pg has a type', () => {
    // Type-checked, never run (the hosts are placeholders).
    const typed = async (): Promise<void> => {
      const pool = createPgPool(pindb, { pg })
      const { rows, rowCount } = await pool.query<{ id: number }>('SELECT 1 AS id')
      expectTypeOf(rows[0]!.id).toEqualTypeOf<number>()
      expectTypeOf(rowCount).toEqualTypeOf<number | null>()
      const client = await pool.connect()
      const one = await client.query<{ n: string }>('SELECT 1 AS n')
      expectTypeOf(one.rows[0]!.n).toEqualTypeOf<string>()
      client.release()
    }
    expectTypeOf(typed).returns.resolves.toBeVoid()
  })

  it('every ORM takes it without a cast', () => {
    const pool = createPgPool(pindb, { pg })
    expectTypeOf(new PrismaPg(pool)).toEqualTypeOf<PrismaPg>()
    expectTypeOf(drizzle({ client: pool })).toHaveProperty('select')
    expectTypeOf(new Kysely<{ notes: { id: number } }>({ dialect: new PostgresDialect({ pool }) })).toHaveProperty('selectFrom')
    expectTypeOf(knex({ client: 'pg', connectionPool: pool } as Parameters<typeof knex>[0])).toHaveProperty('select')
  })

  it('createPgModule returns the type of the pg module', () => {
    const mod = createPgModule(pindb, { pg })
    expectTypeOf(mod).toEqualTypeOf<typeof pg>()
    expectTypeOf(new mod.Client()).toEqualTypeOf<pg.Client>()
  })

  it('options are checked: the pg module is required and pindb options are typed', () => {
    // @ts-expect-error the pg module is required
    expectTypeOf(createPgPool).toBeCallableWith(pindb, {})
    // @ts-expect-error writeFunctions is a list of names
    expectTypeOf(createPgPool).toBeCallableWith(pindb, { pg, writeFunctions: 'audit_log' })
    expectTypeOf(createPgPool).toBeCallableWith(pindb, { pg, set: 'default', writeFunctions: ['audit_log'], monitor: { intervalMs: 500 }, liveness: { probeAfterMs: 500 } })
  })
})
