/**
 * `pindb/nestjs` end to end, on the Express and the Fastify platform: a NestJS app
 * (`test/fixtures/nestjs/notes-app.ts`) importing `PinDbModule.forRoot(...)`, over real HTTP,
 * against the test bed with the delayed replica (`default-1`) 5 s behind and always chosen for
 * reads. A write's pin, carried by the cookie (or header) to the next request, makes it read its
 * own write from the primary; without it, the read is stale. The notes go through a routed
 * `pg.Pool` (`createPgPool`) and through TypeORM (`@nestjs/typeorm` with
 * `driver: createPgModule(pindb, { pg })`).
 */
import { getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm'
import pg from 'pg'
import { EntitySchema, type Repository } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPinDb } from '../../src/index.js'
import { PINDB, PinDbModule } from '../../src/nestjs/index.js'
import { createPgModule, createPgPool } from '../../src/pg/index.js'
import { NOTES, startNotesApp, type NotesStore, type StartedApp } from '../fixtures/nestjs/notes-app.js'
import { setPgDelay, testbed, waitForPgReplicas } from '../support/testbed.js'

const tb = testbed()
const PRIMARY = tb.pg.primary.port
const DELAYED = tb.pg.replicas[1].port
const TABLE = `nestjs_e2e_${process.pid}_${Date.now()}`
const SECRET = 'nestjs-test-secret-0123456789-abcdefghijklm'

const pindb = createPinDb({
  primaries: { default: { ...tb.pg.primary, max: 10 } },
  replicas: { default: [{ port: tb.pg.replicas[0].port }, { port: DELAYED }] },
  replicaChoice: ({ candidates }) => (candidates.includes('default-1') ? 'default-1' : candidates[0]!),
})
const pool = createPgPool(pindb, { pg })

const store: NotesStore = {
  async create(text) {
    const result = (await pool.query(`INSERT INTO ${TABLE} (text) VALUES ($1) RETURNING id`, [text])) as unknown as pg.QueryResult
    return result.rows[0].id as number
  },
  async read(id) {
    const result = (await pool.query(`SELECT (SELECT count(*) FROM ${TABLE} WHERE id = $1)::int AS n, inet_server_port() AS port`, [id])) as unknown as pg.QueryResult
    return { found: result.rows[0].n === 1, port: result.rows[0].port as number }
  },
}

interface Note {
  id: number
  text: string
}
/** A TypeORM entity without decorators. */
const NoteEntity = new EntitySchema<Note>({
  name: 'Note',
  tableName: TABLE,
  columns: { id: { type: Number, primary: true, generated: true }, text: { type: String } },
})

/** A module providing {@link NOTES} through TypeORM, whose driver is pindb's routed `pg` module. */
function typeOrmNotes() {
  class TypeOrmNotesModule {}
  return {
    module: TypeOrmNotesModule,
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', driver: createPgModule(pindb, { pg }), entities: [NoteEntity], retryAttempts: 0, logging: false }),
      TypeOrmModule.forFeature([NoteEntity]),
    ],
    providers: [{
      provide: NOTES,
      inject: [getRepositoryToken(NoteEntity)],
      useFactory: (notes: Repository<Note>): NotesStore => ({
        async create(text) {
          return (await notes.save({ text })).id // TypeORM wraps it in a transaction: the primary
        },
        async read(id) {
          const row = await notes.createQueryBuilder('n').select('count(*)::int', 'n').addSelect('inet_server_port()', 'port').where('n.id = :id', { id }).getRawOne<{ n: number; port: number }>()
          return { found: row!.n === 1, port: row!.port }
        },
      }),
    }],
    exports: [NOTES],
  }
}

async function onPrimary<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(tb.pg.primary)
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  await setPgDelay(0)
  await onPrimary((c) => c.query(`CREATE TABLE ${TABLE} (id serial PRIMARY KEY, text text NOT NULL)`))
  await waitForPgReplicas()
  await setPgDelay(5000)
})

afterAll(async () => {
  try {
    await setPgDelay(0)
    await onPrimary((c) => c.query(`DROP TABLE IF EXISTS ${TABLE}`))
  } finally {
    await pool.end()
  }
})

/** The pin cookie a response sets, as a `Cookie` request header value. */
function pinCookie(response: Response): string {
  const cookies = response.headers.getSetCookie().filter((c) => c.startsWith('pindb='))
  expect(cookies).toHaveLength(1)
  expect(cookies[0]).toMatch(/^pindb=[\w.-]+; Max-Age=1[45]; Path=\/; HttpOnly; SameSite=Lax$/)
  return cookies[0]!.split(';')[0]!
}

describe.each([
  ['express', 'pg.Pool'],
  ['fastify', 'pg.Pool'],
  ['express', 'TypeORM'],
  ['fastify', 'TypeORM'],
] as const)('NestJS on %s, notes through %s', (platform, through) => {
  let server: StartedApp
  beforeAll(async () => {
    server = await startNotesApp({ platform, pindb: { pindb, secrets: [SECRET] }, notes: through === 'pg.Pool' ? store : typeOrmNotes() })
  })
  afterAll(() => server.close())

  const post = (path: string, body: unknown = {}) =>
    fetch(`${server.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const read = async (id: number, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.base}/notes/${id}`, { headers })
    expect(response.status).toBe(200)
    return { ...((await response.json()) as { found: boolean; port: number; inUnitOfWork: boolean }), response }
  }
  const create = async (text: string) => {
    const response = await post('/notes', { text })
    expect(response.status).toBe(201)
    return { id: ((await response.json()) as { id: number }).id, cookie: pinCookie(response), token: response.headers.get('x-pindb-token')! }
  }

  it('a write pins the next request through the cookie; without it, the read is stale', async () => {
    const { id, cookie } = await create(`${platform} ${through} cookie`)
    const pinned = await read(id, { cookie })
    expect([pinned.found, pinned.port, pinned.inUnitOfWork]).toEqual([true, PRIMARY, true])
    expect(pinCookie(pinned.response)).toBe(cookie) // a carried pin is re-sent, its expiry unchanged
    const control = await read(id)
    expect([control.found, control.port, control.inUnitOfWork]).toEqual([false, DELAYED, true])
    expect(control.response.headers.getSetCookie()).toEqual([])
  })

  it('the x-pindb-token header carries the pin for clients without cookies', async () => {
    const { id, token } = await create(`${platform} ${through} header`)
    expect(token).toMatch(/^1\./)
    const pinned = await read(id, { 'x-pindb-token': token })
    expect([pinned.found, pinned.port]).toEqual([true, PRIMARY])
    expect(pinned.response.headers.get('x-pindb-token')).toBe(token)
  })

  it('an error response (Nest exception filter) after a write still carries the cookie', async () => {
    const text = `${platform} ${through} fail`
    const response = await post('/notes/fail', { text })
    expect(response.status).toBe(500)
    const cookie = pinCookie(response)
    const id = await onPrimary(async (c) => (await c.query(`SELECT id FROM ${TABLE} WHERE text = $1`, [text])).rows[0].id as number)
    expect(await read(id, { cookie })).toMatchObject({ found: true, port: PRIMARY })
  })

  it('markWrite on the injected PINDB instance pins the next request', async () => {
    const { id } = await create(`${platform} ${through} mark`) // a note the replica does not have yet
    const response = await post('/notes/mark')
    expect(response.status).toBe(200)
    const cookie = pinCookie(response)
    expect(await read(id, { cookie })).toMatchObject({ found: true, port: PRIMARY })
  })

  it('concurrent clients never see each other’s pins', async () => {
    const a = await create(`${platform} ${through} a`)
    const requests = Array.from({ length: 16 }, (_, i) => read(a.id, i % 2 === 0 ? { cookie: a.cookie } : {}).then((r) => ({ i, ...r })))
    for (const r of await Promise.all(requests)) {
      expect([r.found, r.port], `request ${r.i}`).toEqual(r.i % 2 === 0 ? [true, PRIMARY] : [false, DELAYED])
    }
  })
})

describe('PinDbModule.forRoot validation', () => {
  it('provides the instance under PINDB, globally by default', () => {
    const module = PinDbModule.forRoot({ pindb, secrets: [SECRET] })
    expect(module.global).toBe(true)
    expect(module.providers).toEqual([{ provide: PINDB, useValue: pindb }])
    expect(module.exports).toEqual([PINDB])
    expect(PinDbModule.forRoot({ pindb, secrets: [SECRET] }).module).not.toBe(module.module) // one module class per call
  })

  it('names the option at fault', () => {
    expect(() => PinDbModule.forRoot({ secrets: [SECRET] } as never)).toThrow(/`pindb`: must be the instance returned by createPinDb\(\)/)
    expect(() => PinDbModule.forRoot({ pindb, secrets: [SECRET], routes: [] })).toThrow(/`routes`: must be a non-empty list/)
    expect(() => PinDbModule.forRoot({ pindb, secrets: ['short'] })).toThrow(/secrets/)
  })
})
