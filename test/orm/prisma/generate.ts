/**
 * Generates the Prisma 7 client of `schema.prisma` at test time, without the network: the output
 * goes to a git-ignored cache (`node_modules/.cache/pindb-orm-prisma/client`, where
 * `@prisma/client/runtime` resolves), and is reused while the schema and Prisma's version are
 * unchanged. `prisma generate` otherwise tries to download the schema engine's checksum from
 * binaries.prisma.sh; generation does not run that engine, so `PRISMA_SCHEMA_ENGINE_BINARY=/bin/false`
 * (a documented override) lets it finish with the driver-adapter engine.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

const SCHEMA = fileURLToPath(new URL('./schema.prisma', import.meta.url))
const OUTPUT = fileURLToPath(new URL('../../../node_modules/.cache/pindb-orm-prisma/client/', import.meta.url))
const STAMP = `${OUTPUT}.stamp`
/** Upper bound of one `prisma generate` run (it takes a few seconds). */
const GENERATE_TIMEOUT_MS = 60_000

function prismaCli(): { cli: string; version: string } {
  const require = createRequire(import.meta.url)
  const pkg = require.resolve('prisma/package.json')
  return { cli: pkg.replace(/package\.json$/, 'build/index.js'), version: (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version }
}

/** Generates (or reuses) the client and returns the URL of its entry module (`client.ts`). */
export async function generatePrismaClient(): Promise<string> {
  const { cli, version } = prismaCli()
  const stamp = createHash('sha256').update(version).update(readFileSync(SCHEMA)).digest('hex')
  const entry = `${OUTPUT}client.ts`
  if (!existsSync(entry) || !existsSync(STAMP) || readFileSync(STAMP, 'utf8') !== stamp) {
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [cli, 'generate', '--schema', SCHEMA], {
        timeout: GENERATE_TIMEOUT_MS,
        env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false', CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      }, (err, stdout, stderr) => (err ? reject(new Error(`prisma generate failed:\n${stderr}\n${stdout}`, { cause: err })) : resolve()))
    })
    writeFileSync(STAMP, stamp)
  }
  return pathToFileURL(entry).href
}
