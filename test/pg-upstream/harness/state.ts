/**
 * The harness state behind the vendored tests' rewritten requires (`pool.cjs`, `pg.cjs`): which
 * `pg` module (and so which `Pool`) they get. Routed mode: `createPgModule(pindb, { pg })` over the
 * PostgreSQL test bed; plain mode: `pg` itself. Used in the Vitest worker by `run.ts`, and in child
 * processes that a vendored test forks by `child-register.mjs`.
 *
 * @module
 */
import pg from 'pg'
import { createPinDb, type PinDb } from '../../../src/index.js'
import { createPgModule } from '../../../src/pg/index.js'
import { testbed } from '../../support/testbed.js'

/** `routed`: pindb's pool; `plain`: `pg.Pool` (the baseline). */
export type UpstreamMode = 'routed' | 'plain'

/** What the vendored tests see, and how to end everything they left open. */
export interface HarnessState {
  readonly pg: typeof pg
  /** The pindb instance in routed mode. */
  readonly pindb: PinDb | undefined
  /** Ends every pool made through {@link HarnessState.pg} that is still open, then pindb (bounded: a leaked checkout cannot hang it). */
  close(): Promise<void>
}

/** The global the `.cjs` shims read (see `state.cjs`). */
export const STATE_KEY = Symbol.for('pindb.test.pg-upstream')

/** Points `PGHOST`/`PGPORT`/`PGUSER`/`PGDATABASE` at the test bed's primary. */
export function setPgEnv(): void {
  const { primary } = testbed().pg
  process.env['PGHOST'] = primary.host
  process.env['PGPORT'] = String(primary.port)
  process.env['PGUSER'] = primary.user
  process.env['PGDATABASE'] = primary.database
}

/** A pindb instance over the PostgreSQL test bed: one set, the primary and both replicas. */
function testbedPinDb(): PinDb {
  const { primary, replicas } = testbed().pg
  return createPinDb({
    primaries: { default: { ...primary } },
    replicas: { default: replicas.map((r) => ({ port: r.port })) },
  })
}

type PoolLike = { end(): Promise<void>; ending?: boolean }

/** How long {@link HarnessState.close} waits for pools to end before it ends their clients itself. */
const CLOSE_TIMEOUT_MS = 3_000

/** Whether `promise` settled within `ms`. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Builds a fresh state and installs it as the global the `.cjs` shims read. */
export function installState(mode: UpstreamMode): HarnessState {
  const pindb = mode === 'routed' ? testbedPinDb() : undefined
  const base = pindb === undefined ? pg : createPgModule(pindb, { pg })
  const pools = new Set<PoolLike>()
  const BasePool = base.Pool as unknown as new (...args: unknown[]) => PoolLike
  /** The module's `Pool`, recording each instance so the harness can end those a test leaves open. */
  class TrackedPool extends BasePool {
    constructor(...args: unknown[]) {
      super(...args)
      pools.add(this)
    }
  }
  const module = Object.create(base) as Record<string, unknown>
  for (const key of Object.keys(base)) module[key] = (base as unknown as Record<string, unknown>)[key]
  module['Pool'] = TrackedPool
  module['default'] = module
  const state: HarnessState = {
    pg: module as unknown as typeof pg,
    pindb,
    async close() {
      const open = [...pools].filter((p) => p.ending !== true)
      const ended = Promise.all(open.map((p) => p.end().catch(() => {}))).then(() => pindb?.close())
      // pg-pool's end() waits for checked-out clients: a failed test may never release its own.
      if (await bounded(ended, CLOSE_TIMEOUT_MS)) return
      for (const pool of pools) {
        for (const client of (pool as { _clients?: { end(): Promise<void> }[] })._clients ?? []) client.end().catch(() => {})
      }
      await bounded(ended, CLOSE_TIMEOUT_MS)
    },
  }
  ;(globalThis as Record<symbol, unknown>)[STATE_KEY] = state
  return state
}
