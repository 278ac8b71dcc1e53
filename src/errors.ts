/**
 * pindb's error hierarchy. Every error pindb throws is a {@link PinDbError} with a stable
 * {@link PinDbError.code | code}; messages are prefixed `[pindb]` and say what to do.
 *
 * @module
 */

/** Stable machine-readable codes carried by every {@link PinDbError}. */
export type PinDbErrorCode =
  | 'PINDB_CONFIG'
  | 'PINDB_UNKNOWN_ALIAS'
  | 'PINDB_NO_CONTEXT'
  | 'PINDB_UNPINNED_WRITE'
  | 'PINDB_NO_REPLICA'
  | 'PINDB_SESSION'
  | 'PINDB_DRIVER_MISSING'
  | 'PINDB_CLOSED'
  | 'PINDB_SERVER_UNAVAILABLE'
  | 'PINDB_UNSUPPORTED'
  | 'PINDB_UNSCOPED_WRITE'

const PINDB_ERROR = Symbol.for('pindb:error')

/**
 * Base class of every error pindb throws.
 *
 * @example
 * ```ts
 * try { pindb.pin('default') } catch (err) { if (isPinDbError(err)) console.log(err.code) }
 * ```
 */
export class PinDbError extends Error {
  /** Stable code; match on this rather than on the message. */
  readonly code: PinDbErrorCode
  /** @internal brand so {@link isPinDbError} works across duplicate installs. */
  readonly [PINDB_ERROR] = true

  constructor(code: PinDbErrorCode, message: string, options?: { cause?: unknown }) {
    super(`[pindb] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = 'PinDbError'
  }
}

/**
 * Misconfiguration: a missing or malformed option, or an alias pindb does not know.
 * The message names the option and the fix. `option` is the offending option's path.
 */
export class PinDbConfigError extends PinDbError {
  /** The option (or API argument) at fault, e.g. `replicas.egg` or `pin(alias)`. */
  readonly option: string

  constructor(option: string, message: string, options?: { cause?: unknown; code?: PinDbErrorCode }) {
    super(options?.code ?? 'PINDB_CONFIG', `\`${option}\`: ${message}`, options)
    this.option = option
    this.name = 'PinDbConfigError'
  }
}

/**
 * Strict mode refused a write to a DB set the current unit of work has not pinned.
 * Raised before anything reaches a server.
 */
export class UnpinnedWriteError extends PinDbError {
  /** The DB set (primary alias) the write was for. */
  readonly dbSet: string

  /** The statement, when a replica refused it as a write (a function that writes, called by `SELECT`). */
  readonly statement: string | undefined

  constructor(dbSet: string, statement?: string) {
    super(
      'PINDB_UNPINNED_WRITE',
      statement === undefined
        ? `writes to "${dbSet}" aren't allowed because reads aren't pinned to it (strict mode). ` +
          `Call pindb.pin("${dbSet}") before reading from it, or write inside ` +
          `pindb.withPrimary("${dbSet}", fn).`
        : `a replica of "${dbSet}" refused \`${statement.length > 120 ? `${statement.slice(0, 117)}...` : statement}\` as a write ` +
          `(it calls a function that writes), and "${dbSet}" is not pinned (strict mode). List the function in the pool's ` +
          `\`writeFunctions\` option so pindb routes it as a write, and call pindb.pin("${dbSet}") first.`,
    )
    this.dbSet = dbSet
    this.statement = statement
    this.name = 'UnpinnedWriteError'
  }
}

/** Every replica of a set was excluded (down, lagging, behind a causal token) and `noReplica: 'throw'` was set. */
export class NoReplicaAvailableError extends PinDbError {
  /** The DB set whose replicas were all excluded. */
  readonly dbSet: string

  constructor(dbSet: string, detail: string) {
    super(
      'PINDB_NO_REPLICA',
      `no replica of "${dbSet}" can serve this read (${detail}). ` +
        `Set \`noReplica: 'primary'\` to fall back to the primary instead of throwing.`,
    )
    this.dbSet = dbSet
    this.name = 'NoReplicaAvailableError'
  }
}

/**
 * A server could not serve a statement: it refused the connection, died, or stopped answering
 * (a hung server is detected by a liveness probe, not by timing the statement). Reads on a replica
 * never surface this (they fail over); writes, transactions and reads with nowhere else to go do.
 */
export class ServerUnavailableError extends PinDbError {
  /** The alias of the server that failed. */
  readonly alias: string
  /**
   * Whether the statement may have run on the server: false when it was never sent (no
   * connection); true when it was sent and no answer came back — check before retrying a write.
   */
  readonly mayHaveRun: boolean

  constructor(alias: string, mayHaveRun: boolean, detail: string, options?: { cause?: unknown }) {
    super(
      'PINDB_SERVER_UNAVAILABLE',
      `"${alias}" ${detail}; ${mayHaveRun
        ? 'the statement was sent and may have run — check before retrying a write.'
        : 'the statement was not sent; it is safe to retry.'}`,
      options,
    )
    this.alias = alias
    this.mayHaveRun = mayHaveRun
    this.name = 'ServerUnavailableError'
  }
}

/** True for any error thrown by pindb, even from another copy of the package. */
export function isPinDbError(value: unknown): value is PinDbError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PINDB_ERROR] === true
}
