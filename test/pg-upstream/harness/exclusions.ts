/**
 * Vendored upstream tests that are not run, by file (relative to `test/pg-upstream/`) and mocha full
 * title, each with its reason. {@link ENVIRONMENT}: not run in either mode (they cannot pass on this
 * machine whatever the pool). {@link ROUTED}: not run against pindb's routed pool. Every other test
 * must pass.
 */
import type { UpstreamMode } from './run.js'

type Exclusions = Readonly<Record<string, Readonly<Record<string, string>>>>

const NATIVE = 'needs pg-native (`require(\'pg\').native`), which is not installed'
const WALL_CLOCK = 'wall-clock: asserts that 10 connects + 10 queries were all acquired within 100 ms; fails on a plain pg.Pool too on this shared 2-core machine'
const CHILD_RACE = 'wall-clock: the forked child expects its first query to finish within 50 ms (else the pool opens a 2nd client and prints "removed" twice); fails on a plain pg.Pool too on this loaded machine'
const CLIENT = 'replaces `Client` with a mock; pindb\'s pool always uses its logical client (documented design), so the mock is never called'
const HOST = 'connects to a fake or closed server given by `host`/`port`; pindb ignores those options (its topology picks the server), so it reaches the real primary and the test would pass or fail only by timing'
const PRIVATE_CLIENTS = 'reaches into the private `pool._clients`; see docs/pg-fidelity.md for the behaviour it exercises (ending a client with a read in flight)'

/** Not run in either mode. */
export const ENVIRONMENT: Exclusions = {
  'pg-pool/connection-timeout.js': {
    'connection timeout should connect if timeout is passed, but native client in connected state': NATIVE,
  },
  'pg-pool/events.js': {
    'events emits acquire every time a client is acquired': WALL_CLOCK,
  },
  'pg-pool/idle-timeout.js': {
    'idle timeout keeps old behavior when allowExitOnIdle option is not set': CHILD_RACE,
  },
}

/** Not run against pindb's routed pool (on top of {@link ENVIRONMENT}). */
export const ROUTED: Exclusions = {
  'pg-pool/connection-strings.js': {
    'Connection strings pool delegates connectionString property to client': CLIENT,
  },
  'pg-pool/connection-timeout.js': {
    'connection timeout should callback with an error if timeout is passed': HOST,
    'connection timeout should reject promise with an error if timeout is passed': HOST,
    'connection timeout should handle multiple timeouts': HOST,
  },
  'pg-pool/error-handling.js': {
    'pool error handling should continue with queued items after a connection failure': HOST,
    'pool error handling handles post-checkout client failures in pool.query': PRIVATE_CLIENTS,
  },
  'pg-pool/events.js': {
    'events emits "connect" only with a successful connection': CLIENT,
  },
  'pg-pool/index.js': {
    'pool with callbacks passes connection errors to callback': HOST,
    'pool with callbacks does not pass client to error callback': HOST,
  },
}

/**
 * Upstream tests that fail against the routed pool because of a pindb defect (routed mode only).
 * They run, with a short mocha timeout, as expected failures (`it.fails`): when the lead fixes the
 * defect the Vitest test fails, and its entry must be removed here.
 */
export const KNOWN_DEFECTS: Exclusions = {
  // None. Fixed and guarded by these upstream tests: a Submittable's callback passed beside it
  // (pg-query-stream pool › pool works), a failed Submittable finishing its statement
  // (pg-query-stream error › …), `client.connection` unchanged by `end()` (pg-pool index ›
  // removes client if it errors in background).
}

/** The known pindb defects of one file in one mode (none in plain mode). */
export function knownDefectsFor(file: string, mode: UpstreamMode): Readonly<Record<string, string>> {
  return mode === 'routed' ? KNOWN_DEFECTS[file] ?? {} : {}
}

/** The exclusions of one file in one mode. */
export function exclusionsFor(file: string, mode: UpstreamMode): Readonly<Record<string, string>> {
  return { ...ENVIRONMENT[file], ...(mode === 'routed' ? ROUTED[file] : {}) }
}
