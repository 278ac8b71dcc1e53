/**
 * Read failover shared by the adapters: a read whose replica refuses the connection or dies
 * mid-query is retried on another replica, then the primary; the failed replica is skipped with
 * back-off until it answers again. Writes are never retried.
 *
 * @module
 */
import type { PinDb } from '../pindb.js'
import { laterPosition } from '../position.js'
import type { RouteDecision } from '../route-event.js'

const CONNECTION_CODES = new Set([
  // Node sockets
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED',
  // PostgreSQL: connection exceptions, shutdown, starting up, too many connections
  '08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300',
  // mysql2 / MariaDB
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', 'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED', 'ECONNREFUSED',
])

const CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'Client has encountered a connection error',
  'terminating connection',
  'Connection lost',
  "Can't add new command when connection is in closed state",
  'the database system is',
]

/**
 * True for errors that say the server (not the statement) failed: refused or lost connections,
 * shutdowns, and — on replicas only, where the read is safe to repeat — recovery conflicts.
 */
export function isServerFailure(err: unknown, onReplica: boolean): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { code?: unknown; message?: unknown; errors?: unknown; fatal?: unknown }
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true
  // PostgreSQL hot-standby recovery conflict ("canceling statement due to conflict with recovery").
  if (onReplica && e.code === '40001' && typeof e.message === 'string' && e.message.includes('recovery')) return true
  if (e.fatal === true && onReplica) return true
  if (typeof e.message === 'string' && CONNECTION_MESSAGES.some((m) => (e.message as string).includes(m))) return true
  // AggregateError from a multi-address connect.
  return Array.isArray(e.errors) && e.errors.some((inner) => isServerFailure(inner, onReplica))
}

/** Waits up to `timeoutMs` for replica `alias` to replay `position`; true when it did. */
export type WaitForPosition = (alias: string, position: string, timeoutMs: number) => Promise<boolean>

/**
 * Runs a read with failover. `route(exclude)` makes the routing decision (`exclude` is undefined
 * on the first attempt; routing returns the primary once every replica is excluded);
 * `run(decision)` executes it. A server failure on a replica is reported (and passed to
 * `onServerFailure`, e.g. to destroy the connection) and the read retried elsewhere; anything
 * else propagates. A provisional causal decision (`waitFor`) is resolved with `waitForPosition`
 * first, then routed again.
 */
export function readWithFailover<T>(
  pindb: PinDb<object>,
  route: (exclude: ReadonlySet<string> | undefined, noWait: boolean) => RouteDecision,
  run: (decision: RouteDecision) => Promise<T>,
  onServerFailure?: (decision: RouteDecision, err: unknown) => void,
  waitForPosition?: WaitForPosition,
): Promise<T> {
  // The hot path — one attempt that succeeds — is a plain promise chain: no async frame, no
  // closure per retry, no validation (the alias comes from a routing decision).
  let decision: RouteDecision
  try {
    decision = route(undefined, waitForPosition === undefined)
  } catch (err) {
    return Promise.reject(err)
  }
  if (decision.waitFor !== undefined) return retryLoop(pindb, route, run, onServerFailure, waitForPosition, undefined)
  const first = decision
  const state = pindb.servers.get(first.alias)
  state.outstanding++
  let attempt: Promise<T>
  try {
    attempt = run(first)
  } catch (err) {
    attempt = Promise.reject(err)
  }
  return attempt.then(
    (result) => {
      state.outstanding--
      if (state.failures !== 0) pindb.servers.succeed(first.alias)
      return result
    },
    (err: unknown) => {
      state.outstanding--
      if (first.role !== 'replica' || !isServerFailure(err, true)) throw err
      onServerFailure?.(first, err)
      pindb.reportFailure(first.alias)
      return retryLoop(pindb, route, run, onServerFailure, waitForPosition, new Set([first.alias]))
    },
  )
}

/** Attempts after a failure, and causal reads that may wait: the general loop. */
async function retryLoop<T>(
  pindb: PinDb<object>,
  route: (exclude: ReadonlySet<string> | undefined, noWait: boolean) => RouteDecision,
  run: (decision: RouteDecision) => Promise<T>,
  onServerFailure: ((decision: RouteDecision, err: unknown) => void) | undefined,
  waitForPosition: WaitForPosition | undefined,
  exclude: Set<string> | undefined,
): Promise<T> {
  for (;;) {
    let decision = route(exclude, waitForPosition === undefined)
    if (decision.waitFor !== undefined) {
      const { alias, position, timeoutMs } = decision.waitFor
      if (await waitForPosition!(alias, position, timeoutMs).catch(() => false)) {
        const state = pindb.servers.get(alias)
        state.position = laterPosition(state.position, position)
      }
      decision = route(exclude, true)
    }
    const state = pindb.servers.get(decision.alias)
    state.outstanding++
    try {
      const result = await run(decision)
      if (state.failures !== 0) pindb.servers.succeed(decision.alias)
      return result
    } catch (err) {
      if (decision.role !== 'replica' || !isServerFailure(err, true)) throw err
      onServerFailure?.(decision, err)
      pindb.reportFailure(decision.alias)
      ;(exclude ??= new Set()).add(decision.alias)
    } finally {
      state.outstanding--
    }
  }
}
