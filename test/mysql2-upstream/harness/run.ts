/**
 * Runs the vendored mysql2 test files (see `../LICENSE`) against pindb's routed pool.
 *
 * Adaptations: (1) imports only — poku → `poku.ts` (a shim that runs describe/it in place, as poku
 * does, and records outcomes), mysql2's `promise.js` / `index.js` / `test/common.test.mts` →
 * modules whose `createPool` is pindb's routed pool over the MariaDB test bed (primary + real
 * replica; `setup.ts`), `lib/pool_connection.js` → mysql2's real class; (2) `// @ts-nocheck` on top; (3) `test-#485` is renamed `test-issue-485` (Vite cannot load a `#` in a file name)
 * (the files type against mysql2's own classes). Test bodies are unchanged.
 *
 * Exclusions — every test below is skipped, with the reason; all others must pass:
 */
import { pathToFileURL } from 'node:url'
import { fileURLToPath } from 'node:url'
import { beginFile, endFile, SkipFile, type Outcome } from './poku.js'
import { closeHarness } from './setup.js'

const PRIVATE = 'reads a private field of mysql2\'s pool (_freeConnections / _allConnections / _closed); the routed pool has no such fields'
const NOT_POOL = 'exercises mysql2\'s createConnection (one direct connection), not the pool; the harness replaces only createPool'

/** File (relative to test/mysql2-upstream) → excluded title path (`describe > it`) → why. */
export const EXCLUDED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'integration/promise-wrappers/test-promise-wrappers.test.mts': {
    'Promise Wrappers': 'checks that mysql2\'s main module re-exports createConnectionPromise: a fact about mysql2\'s module, not the pool',
    testBasic: NOT_POOL,
    testErrors: NOT_POOL,
    testObjParams: NOT_POOL,
    testPrepared: NOT_POOL,
    testEventsConnect: `${NOT_POOL}; it also emits on the private core connection`,
    testConnectionProperties: NOT_POOL,
  },
  'integration/dispose/async/pool.test.mts': {
    'await using should release the connection back to the pool > should have returned the connection to the free pool': PRIVATE,
    'Pool should serve a new connection after await using releases the previous one > should have served both connections with a single pool slot': PRIVATE,
    'asyncDispose should end the pool > should have closed the pool': PRIVATE,
    'asyncDispose should handle manual end before asyncDispose on pool > should have closed the pool': PRIVATE,
    'await using should handle manual `destroy` before automatic dispose on pool connection > should have removed the destroyed connection from the pool': PRIVATE,
  },
  'integration/dispose/sync/pool.test.mts': {
    'using should release the connection back to the pool > should have returned the connection to the free pool': PRIVATE,
    'Pool should serve a new connection after using releases the previous one > should have served both connections with a single pool slot': PRIVATE,
    'dispose should release the connection > should have returned the connection to the free pool': PRIVATE,
    'using should handle manual `destroy` before automatic dispose > should have removed the destroyed connection from the pool': PRIVATE,
    'dispose should end the pool > should have closed the pool': PRIVATE,
    'dispose should handle manual end before dispose on pool > should have closed the pool': PRIVATE,
  },
  'integration/regressions/test-issue-485.test.mts': {},
  'integration/test-pool.test.mts': {},
  'integration/test-pool-double-release.test.mts': {
    'Pool Double Release > should not duplicate _freeConnections on double release': PRIVATE,
    'Pool Double Release > should not have duplicate references in _freeConnections after double release': PRIVATE,
  },
}

/** The outcome of one vendored file. */
export interface FileReport {
  readonly passed: string[]
  readonly failed: { title: string; error: unknown }[]
  readonly excluded: string[]
  readonly skipped?: string
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Runs one vendored file (its top-level awaits run the tests), then ends the pools it left open. */
export async function runUpstreamFile(file: string): Promise<FileReport> {
  beginFile(new Map(Object.entries(EXCLUDED[file] ?? {})))
  let skipped: string | undefined
  let outcomes: Outcome[]
  try {
    await import(pathToFileURL(ROOT + file).href)
  } catch (err) {
    if (!(err instanceof SkipFile)) throw err
    skipped = err.message
  } finally {
    outcomes = endFile()
    await closeHarness()
  }
  const report: FileReport = {
    passed: outcomes.filter((o) => o.status === 'passed').map((o) => o.title),
    failed: outcomes.filter((o) => o.status === 'failed').map((o) => ({ title: o.title, error: o.error })),
    excluded: outcomes.filter((o) => o.status === 'excluded').map((o) => o.title),
  }
  return skipped === undefined ? report : { ...report, skipped }
}
