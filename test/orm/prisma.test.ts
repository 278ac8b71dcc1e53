/**
 * Prisma 7 with `@prisma/adapter-pg` over pindb. The one line:
 * `new PrismaClient({ adapter: new PrismaPg(createPgPool(pindb, { pg })) })`.
 * The client is generated at test time (see `prisma/generate.ts`); its types are not available to
 * the type-checker in a fresh clone, so the test uses the structural subset below.
 *
 * Guards the pindb 0.1 failure: `PrismaPg` checks `instanceof pg.Pool`; pindb's pool was not one, so
 * Prisma took it for a *config* and opened its own `pg.Pool` — error 28000 ("no PostgreSQL user name
 * specified"), or, with `PG*` variables set, a silent bypass of pindb.
 */
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { createPgPool } from '../../src/pg/index.js'
import { postgresDialect } from './dialects.js'
import { ormMatrix, type OrmOps } from './matrix.js'
import { generatePrismaClient } from './prisma/generate.js'

/** The part of the generated client the matrix uses. */
interface NotesClient {
  ormNote: {
    create(args: { data: { body: string } }): Promise<unknown>
    count(args: { where: { body: string } }): Promise<number>
  }
  $queryRaw<T>(query: TemplateStringsArray, ...values: unknown[]): Promise<T>
}
interface PrismaNotesClient extends NotesClient {
  $transaction<T>(work: (tx: NotesClient) => Promise<T>): Promise<T>
  $disconnect(): Promise<void>
}
type PrismaClientClass = new (options: { adapter: PrismaPg }) => PrismaNotesClient

function ops(db: NotesClient): OrmOps {
  return {
    rawPort: async () => (await db.$queryRaw<{ port: number }[]>`SELECT inet_server_port() AS port`)[0]!.port,
    insert: async (body) => { await db.ormNote.create({ data: { body } }) },
    count: (body) => db.ormNote.count({ where: { body } }),
  }
}

let clientUrl = ''

ormMatrix({
  name: 'Prisma 7 (@prisma/adapter-pg)',
  dialect: postgresDialect,
  async prepare() {
    clientUrl = await generatePrismaClient()
  },
  async open(pindb) {
    const { PrismaClient } = (await import(clientUrl)) as { PrismaClient: PrismaClientClass }
    const prisma = new PrismaClient({ adapter: new PrismaPg(createPgPool(pindb, { pg })) })
    return { ...ops(prisma), transaction: (work) => prisma.$transaction((tx) => work(ops(tx))), close: () => prisma.$disconnect() }
  },
})
