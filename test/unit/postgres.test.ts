/**
 * `pindb/postgres` without a server: the statement text routing classifies (postgres.js builds
 * the same text when the query runs — the integration test compares the two on a real server),
 * the failover carrier of a query's attempts, and the errors thrown at once.
 */
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { isServerFailure } from '../../src/adapter/failover.js'
import { createPinDb, isPinDbError, UnpinnedWriteError } from '../../src/index.js'
import { Carried, Flight, uncarry } from '../../src/postgres/flight.js'
import { createPostgres } from '../../src/postgres/index.js'
import { kitOf, statementText } from '../../src/postgres/statement-text.js'
import type { PgjsInstance, PgjsQuery } from '../../src/postgres/types.js'

// Port 9 on loopback (discard): nothing listens, and nothing here connects unless a test says so.
const nowhere = { host: '127.0.0.1', port: 9, user: 'nobody', database: 'none', connect_timeout: 1 }
const template = postgres(nowhere)
const kit = kitOf(template as unknown as PgjsInstance)
const text = (query: unknown) => statementText(kit, query as PgjsQuery)
afterAll(() => template.end({ timeout: 0 }))

describe('statement text', () => {
  it('numbers plain parameters and reuses the text of a call site', () => {
    const at = (n: number) => template`select * from t where a = ${n} and b = ${'x'}`
    expect(text(at(1))).toBe('select * from t where a = $1 and b = $2')
    expect(text(at(2))).toBe(text(at(1)))
  })

  it('includes fragments, identifiers and helpers, numbering their parameters in order', () => {
    const where = template`id = ${7}`
    expect(text(template`select ${template('col')} from ${template('s.t')} where ${where} and x in ${template([1, 2])}`))
      .toBe('select "col" from "s"."t" where id = $1 and x in ($2,$3)')
    expect(text(template`insert into t ${template({ a: 1, b: 'z' })} returning id`)).toBe('insert into t ("a","b")values($1,$2) returning id')
    expect(text(template`insert into t ${template([{ a: 1 }, { a: 2 }], 'a')}`)).toBe('insert into t ("a")values($1),($2)')
    expect(text(template`update t set ${template({ a: 1 })} where id = ${3}`)).toBe('update t set "a"=$1 where id = $2')
    expect(text(template`select ${template({ n: template`nextval('s')` } as never)}`)).toBe(`select nextval('s') as "n"`)
    expect(text(template`select 1 ${[template`union select ${2}`, template`union select 3`]}`)).toBe('select 1  union select $1 union select 3')
    expect(text(template`select ${template.json({ a: 1 })}, ${template.typed(1, 23)}, ${template.array([1])}`)).toBe('select $1, $2, $3')
  })

  it('is the text of sql.unsafe as given', () => {
    expect(text(template.unsafe('delete from t where id = $1', [1]))).toBe('delete from t where id = $1')
  })

  it('throws what postgres.js throws for an undefined value inside a helper', () => {
    expect(() => text(template`insert into t ${template({ a: undefined })}`)).toThrow(/UNDEFINED_VALUE/)
  })
})

describe('failover carrier', () => {
  /** A query whose awaiting never reaches the template's pool: the attempts below run it on fake targets. */
  function query(): PgjsQuery {
    const q = template`select 1` as unknown as PgjsQuery
    q.executed = true
    return q
  }

  it('hands each attempt its own outcome and only the last one to the caller, resetting what the failed attempt built', async () => {
    const q = query()
    const flight = Flight.of(q)
    const lost = Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:9'), { code: 'CONNECTION_CLOSED' })
    const first = await flight.run({ handler: (x) => { x.statement = 'built'; x.parameters = ['serialized']; x.reject(lost) }, cancel: null }).catch((e: unknown) => e)
    // postgres.js's own code for a lost connection is carried as one that failover retries.
    expect(first).toBeInstanceOf(Carried)
    expect(isServerFailure(first, true)).toBe(true)
    expect(uncarry(first)).toBe(lost)
    const seen: unknown[] = []
    const second = flight.run({ handler: (x) => { seen.push(x.statement, x.parameters); x.resolve(['row']) }, cancel: null })
    flight.land(second)
    expect(await q).toEqual(['row'])
    expect(seen).toEqual([null, undefined])
  })

  it('never retries a query whose rows were already streamed to the caller', async () => {
    const q = query()
    const rows: unknown[] = []
    q.forEachFn = (row: unknown) => rows.push(row)
    const flight = Flight.of(q)
    const dead = Object.assign(new Error('terminating connection'), { code: '57P01' })
    const attempt = flight.run({ handler: (x) => { x.active = true; (x.forEachFn as (r: unknown) => void)('r1'); x.reject(dead) }, cancel: null })
    const err = await attempt.catch((e: unknown) => e)
    expect(isServerFailure(err, true)).toBe(false)
    flight.land(attempt)
    await expect(q).rejects.toBe(dead)
    expect(rows).toEqual(['r1'])
  })

  it('a query cancelled before it reached a server never starts an attempt', async () => {
    const q = query()
    const flight = Flight.of(q)
    flight.cancel(Object.assign(new Error('57014: canceling statement due to user request'), { code: '57014' }))
    let ran = false
    await expect(flight.run({ handler: () => { ran = true }, cancel: null })).rejects.toBeInstanceOf(Carried)
    await expect(q).rejects.toMatchObject({ code: '57014' })
    expect(ran).toBe(false)
  })
})

describe('createPostgres', () => {
  const pindb = (mode: 'greedy' | 'strict' = 'greedy') => createPinDb({ primaries: { default: nowhere }, replicas: { default: [{ port: 7 }] }, mode })

  it('throws a PinDbConfigError at once without the module, or with a server in the shared options', () => {
    const codes = [
      () => createPostgres(pindb(), {} as never),
      () => createPostgres(pindb(), { postgres, host: 'elsewhere' }),
      () => createPostgres(pindb(), { postgres, port: 5432 }),
    ].map((make) => {
      try {
        make()
        return 'no error'
      } catch (err) {
        return isPinDbError(err) ? err.code : String(err)
      }
    })
    expect(codes).toEqual(['PINDB_CONFIG', 'PINDB_CONFIG', 'PINDB_CONFIG'])
  })

  it('strict mode rejects an unpinned write before opening any connection', async () => {
    const sent: string[] = []
    const db = pindb('strict')
    const sql = createPostgres(db, { postgres, debug: (_c: number, s: string) => sent.push(s) })
    await db.run(async () => {
      await expect(sql`insert into t ${sql({ a: 1 })}`).rejects.toBeInstanceOf(UnpinnedWriteError)
      await expect(sql.begin((tx) => tx`select 1`)).rejects.toBeInstanceOf(UnpinnedWriteError)
    })
    expect(sent).toEqual([])
    await sql.end()
  })

  it('begin without a callback, subscribe and largeObject fail with PINDB_UNSUPPORTED', async () => {
    const sql = createPostgres(pindb(), { postgres })
    await expect((sql.begin as unknown as (o: string) => Promise<unknown>)('read only')).rejects.toMatchObject({ code: 'PINDB_UNSUPPORTED' })
    expect(() => sql.subscribe('*', () => {})).toThrow(expect.objectContaining({ code: 'PINDB_UNSUPPORTED' }))
    expect(() => (sql as unknown as { largeObject(): unknown }).largeObject()).toThrow(expect.objectContaining({ code: 'PINDB_UNSUPPORTED' }))
    await sql.end()
  })
})
