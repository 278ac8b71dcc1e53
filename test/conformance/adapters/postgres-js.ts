/**
 * `postgres-js`: `createPostgres(pindb, { postgres })`, a routed postgres.js `sql`; held
 * connections from `sql.reserve()`, transactions with `sql.begin()`.
 */
import postgres from 'postgres'
import { createPostgres } from '../../../src/postgres/index.js'
import type { AdapterUnderTest, Row, RunQuery } from '../harness.js'

type Unsafe = { unsafe(sql: string, params?: unknown[]): PromiseLike<unknown> }
const unsafeQuery = (sql: Unsafe): RunQuery => async (text, params = []) => [...((await sql.unsafe(text, [...params])) as Row[])]

export const postgresJs: AdapterUnderTest = {
  name: 'postgres-js',
  replaysSettings: false,
  engine: 'pg',
  create(pindb, options) {
    const sql = createPostgres(pindb, { postgres, max: 4, onnotice: () => {}, ...options })
    return {
      query: unsafeQuery(sql as unknown as Unsafe),
      async connect() {
        const reserved = await sql.reserve()
        return { query: unsafeQuery(reserved as unknown as Unsafe), release: async () => reserved.release() }
      },
      transaction: async (fn) => (await sql.begin((tx) => fn(unsafeQuery(tx as unknown as Unsafe)))) as never,
      end: () => sql.end({ timeout: 5 }),
    }
  },
}
