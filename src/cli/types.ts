/**
 * Shared types of the `pindb` command-line tool: exit codes, CLI errors, the doctor's report.
 *
 * @internal
 * @module
 */
import { redactConnectionString } from '../secrets.js'

/** Exit codes of the `pindb` command. */
export const EXIT = {
  /** Everything checked out (doctor), or the classification was informational / as expected (explain). */
  ok: 0,
  /** Doctor: problems found (a misrouted or broken topology). Explain: `--expect` did not match. */
  problems: 1,
  /** Bad flags, or a config module that is missing or invalid. */
  usage: 2,
  /** The check could not run (database driver not installed). */
  cannotCheck: 3,
} as const

/** An error the CLI reports as one line and an exit code, without a stack trace. */
export class CliError extends Error {
  /** The process exit code to use. */
  readonly exitCode: number

  constructor(exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.exitCode = exitCode
    this.name = 'CliError'
  }
}

/** A usage or configuration error (exit code 2). */
export function usageError(message: string, cause?: unknown): CliError {
  return new CliError(EXIT.usage, message, cause === undefined ? undefined : { cause })
}

/** The database drivers the doctor can use. */
export type DriverName = 'pg' | 'mysql2'

/** What pindb's configuration says an alias is. */
export type ExpectedRole = 'primary' | 'replica' | 'unmanaged'

/**
 * What the server says it is. `read-only`: a MySQL/MariaDB server with `read_only` on that does not
 * replicate; `unknown`: unreachable, or the role could not be read.
 */
export type ActualRole = 'primary' | 'replica' | 'read-only' | 'unknown'

/** A connection to one server, opened by the doctor: rows as plain objects. */
export interface Session {
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

/** Replication lag of a replica, as far as it could be measured (`null`: unknown). */
export interface LagReport {
  /** Time behind the primary, in milliseconds. */
  ms: number | null
  /** PostgreSQL: WAL bytes between the primary's current LSN and the replica's replay LSN. */
  bytes?: number | null
  /** MariaDB: transactions behind the primary, summed over GTID domains. */
  transactions?: number | null
  /** True when the replica had not caught up when the doctor stopped watching it: the lag is at least `ms`. */
  atLeast?: boolean
  /** How `ms` was measured. */
  basis?: string
  /** The replica's replay position (PostgreSQL LSN, MariaDB `gtid_slave_pos`). */
  position?: string | null
  /** The primary's position it was compared with. */
  primaryPosition?: string | null
}

/** The doctor's findings for one alias. */
export interface AliasReport {
  alias: string
  /** Its DB set (the primary alias); `null` for an unmanaged alias. */
  set: string | null
  expected: ExpectedRole
  actual: ActualRole
  reachable: boolean
  /** Connection or query error, when there was one. */
  error?: string
  /** `host:port` from the config. */
  endpoint: string
  /** Server version, when reachable. */
  version?: string
  /** Replicas only. */
  lag?: LagReport
  /** Replicas only: whether a write misrouted to it would be refused, and why. */
  writes?: string
  /** Replicas only: whether it replicates from its own primary (`null`: could not tell). */
  follows?: boolean | null
  /** Replicas only: what `follows` is based on. */
  followsDetail?: string
  /** Findings that should block a deploy. */
  problems: string[]
  /** Findings worth a look that do not make the exit code non-zero. */
  warnings: string[]
}

/** The doctor's whole report (`pindb doctor --json` prints it). */
export interface DoctorReport {
  /** True when no alias has a problem. */
  ok: boolean
  /** The config module that was checked (absolute path). */
  config: string
  driver: DriverName
  maxLagMs: number
  timeoutMs: number
  aliases: AliasReport[]
  /** Every problem, as `alias: message`. */
  problems: string[]
  /** Every warning, as `alias: message`. */
  warnings: string[]
  /** One-line summary. */
  verdict: string
}

/** Formats an unknown thrown value as one line, with any connection-string password redacted. */
export function errorText(err: unknown): string {
  return redactConnectionString(rawErrorText(err))
}

function rawErrorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return rawErrorText(err.errors[0])
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    const msg = err.message.trim() || err.name
    return typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg
  }
  return String(err)
}
