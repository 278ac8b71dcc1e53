/**
 * Read failover shared by the adapters: a read whose replica refuses the connection, dies
 * mid-query or stops answering is retried on another replica, then the primary; the failed replica
 * is skipped with back-off until it answers again. A read a replica refuses as a write (a function
 * that writes, called by `SELECT`) moves to the primary and pins its set. Writes are never retried.
 *
 * @module
 */
import { ServerUnavailableError } from '../errors.js'
import { laterPosition } from '../position.js'
import type { RouteDecision } from '../route-event.js'
import type { RoutingSeam } from './seam.js'

const CONNECTION_CODES = new Set([
  // Node sockets
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED',
  // PostgreSQL: connection exceptions, shutdown, starting up, too many connections
  '08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300',
  // mysql2 / MariaDB. Not ER_QUERY_INTERRUPTED: a query killed by a DBA (`KILL QUERY`) is the
  // statement's failure, not the server's, and must reach the caller.
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', 'ER_CONNECTION_KILLED',
  // postgres.js
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  // pindb's own: a server found hung by the liveness probe, or unreachable.
  'PINDB_SERVER_UNAVAILABLE',
])

const CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'Client has encountered a connection error',
  'terminating connection',
  'Connection lost',
  "Can't add new command when connection is in closed state",
  'the database system is',
  // pg's own timeouts (`query_timeout`, `connectionTimeoutMillis`): on a replica, a read elsewhere is the answer.
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'timeout expired',
]

/**
 * True for errors that say the server (not the statement) failed: refused or lost connections,
 * shutdowns, hung servers, and — on replicas only, where the read is safe to repeat — recovery
 * conflicts and the drivers' own timeouts.
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

/**
 * True when a server refused a statement because it is read-only: PostgreSQL
 * `read_only_sql_transaction` (25006, a hot standby), MySQL/MariaDB 1290 (`--read-only`).
 */
export function isReadOnlyRefusal(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { code?: unknown; errno?: unknown; message?: unknown }
  if (e.code === '25006') return true
  return (e.errno === 1290 || e.code === 'ER_OPTION_PREVENTS_STATEMENT') &&
    typeof e.message === 'string' && /read.only/i.test(e.message)
}

/** Waits up to `timeoutMs` (wall time) for replica `alias` to replay `position`; true when it did. */
export type WaitForPosition = (alias: string, position: string, timeoutMs: number) => Promise<boolean>

/** One read, as the failover loop runs it. */
export interface ReadAttempts<T> {
  /** The statement, for a refusal's error. */
  readonly sql: string
  /**
   * The routing decision of an attempt: `exclude` is undefined on the first attempt (routing
   * returns the primary once every replica is excluded); `noWait` forbids a causal wait.
   */
  route(exclude: ReadonlySet<string> | undefined, noWait: boolean): RouteDecision
  /** The decision for the primary, after a replica refused the read as a write. */
  routePrimary(): RouteDecision
  /** Runs the statement on the decided server. */
  run(decision: RouteDecision): Promise<T>
  /** Causal reads with `waitMs`: wait on a replica for a position. */
  readonly waitForPosition?: WaitForPosition | undefined
  /** A replica refused the statement as a write: remember that it writes. */
  onRefused?(sql: string): void
  /** True when the caller gave up (its connection was ended): a failure is final, not retried. */
  abandoned?(): boolean
}

/**
 * Runs a read with failover. A server failure on a replica is reported (one back-off step per
 * outage) and the read retried elsewhere; a read-only refusal moves it to the primary (greedy: the
 * set is pinned; strict: `UnpinnedWriteError`); anything else propagates. A provisional causal
 * decision (`waitFor`) is resolved with `waitForPosition` first, then routed again.
 */
export function readWithFailover<T>(seam: RoutingSeam, read: ReadAttempts<T>): Promise<T> {
  // The hot path — one attempt that succeeds — is a plain promise chain, no async frame.
  let decision: RouteDecision
  try {
    decision = read.route(undefined, read.waitForPosition === undefined)
  } catch (err) {
    return Promise.reject(err)
  }
  if (decision.waitFor !== undefined) return retryLoop(seam, read, undefined)
  const first = decision
  const done = seam.track(first.alias)
  let attempt: Promise<T>
  try {
    attempt = read.run(first)
  } catch (err) {
    attempt = Promise.reject(err)
  }
  return attempt.then(
    (result) => {
      done()
      if (seam.servers.get(first.alias).failures !== 0) seam.reportSuccess(first.alias)
      return result
    },
    (err: unknown) => {
      done()
      return afterFailure(seam, read, first, err, undefined)
    },
  )
}

function afterFailure<T>(seam: RoutingSeam, read: ReadAttempts<T>, decision: RouteDecision, err: unknown, exclude: Set<string> | undefined): Promise<T> {
  if (decision.role !== 'replica' || read.abandoned?.() === true) return Promise.reject(err)
  if (isReadOnlyRefusal(err) && decision.set !== undefined) {
    read.onRefused?.(read.sql)
    try {
      seam.refusedAsWrite(decision.set, read.sql)
    } catch (refusal) {
      return Promise.reject(refusal)
    }
    return runTracked(seam, read, read.routePrimary())
  }
  if (!isServerFailure(err, true)) return Promise.reject(err)
  seam.reportFailure(decision.alias)
  ;(exclude ??= new Set()).add(decision.alias)
  return retryLoop(seam, read, exclude)
}

async function runTracked<T>(seam: RoutingSeam, read: ReadAttempts<T>, decision: RouteDecision): Promise<T> {
  const done = seam.track(decision.alias)
  try {
    return await read.run(decision)
  } finally {
    done()
  }
}

/** Attempts after a failure, and causal reads that may wait: the general loop. */
async function retryLoop<T>(seam: RoutingSeam, read: ReadAttempts<T>, exclude: Set<string> | undefined): Promise<T> {
  for (;;) {
    let decision = read.route(exclude, read.waitForPosition === undefined)
    if (decision.waitFor !== undefined) {
      const { alias, position, timeoutMs } = decision.waitFor
      if (await read.waitForPosition!(alias, position, timeoutMs).catch(() => false)) {
        const state = seam.servers.get(alias)
        state.position = laterPosition(state.position, position)
      }
      decision = read.route(exclude, true)
    }
    const done = seam.track(decision.alias)
    try {
      const result = await read.run(decision)
      if (seam.servers.get(decision.alias).failures !== 0) seam.reportSuccess(decision.alias)
      return result
    } catch (err) {
      if (decision.role !== 'replica' || read.abandoned?.() === true) throw err
      if (isReadOnlyRefusal(err) || !isServerFailure(err, true)) return afterFailure(seam, read, decision, err, exclude)
      seam.reportFailure(decision.alias)
      ;(exclude ??= new Set()).add(decision.alias)
    } finally {
      done()
    }
  }
}

/** @internal A connection to `alias` could not be opened in time, or the server stopped answering. */
export function unavailable(alias: string, mayHaveRun: boolean, detail: string, cause?: unknown): ServerUnavailableError {
  return new ServerUnavailableError(alias, mayHaveRun, detail, cause === undefined ? undefined : { cause })
}
