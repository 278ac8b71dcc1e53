/**
 * The conformance harness: the few things the shared checks need from an adapter, so that every
 * check is written once and every adapter runs all of them (unstorage's `testDriver`, Kysely's
 * `DIALECTS`). An adapter is one file in `adapters/` exporting an {@link AdapterUnderTest}, and
 * one line in `adapters.ts`.
 */
import type { PinDb } from '../../src/index.js'

/** A row as the drivers return it. */
export type Row = Record<string, unknown>

/** Runs one statement with positional parameters and resolves its rows. */
export type RunQuery = (sql: string, params?: readonly unknown[]) => Promise<Row[]>

/** A connection the caller keeps across statements: a checked-out client, a logical client, a reserved connection. */
export interface HeldConnection {
  readonly query: RunQuery
  /** Gives it back (release / end). */
  release(): Promise<void>
}

/** One adapter instance over a pindb instance. */
export interface RoutedHandle {
  /** A statement on the pool itself (no checkout). */
  readonly query: RunQuery
  /** Checks out (or opens) a connection the caller holds. */
  connect(): Promise<HeldConnection>
  /**
   * Runs `fn` in one transaction and commits it. Optional: by default the suite sends `BEGIN` /
   * `COMMIT` on a {@link RoutedHandle.connect | held connection}; postgres.js uses `sql.begin`.
   */
  transaction?<T>(fn: (query: RunQuery) => Promise<T>): Promise<T>
  /** Ends everything the adapter opened. */
  end(): Promise<void>
}

/** Which engine of the test bed an adapter talks to. */
export type EngineName = 'pg' | 'mariadb'

/** Options the suite passes to every adapter's constructor (the adapter's own options, e.g. `monitor`). */
export interface AdapterOptions {
  monitor?: { intervalMs: number }
}

/** An adapter under test: its name (for `PINDB_ADAPTERS`), its engine, and how to create it. */
export interface AdapterUnderTest {
  readonly name: string
  readonly engine: EngineName
  /**
   * Whether a held connection re-applies connection-setup settings (`SET TIME ZONE`, …) wherever its
   * next statement runs (its session host has a `SettingsApplier`). Without, a setting anchors the
   * connection on the primary like other session state — safe, but its reads leave the replicas.
   */
  readonly replaysSettings: boolean
  create(pindb: PinDb, options: AdapterOptions): RoutedHandle | Promise<RoutedHandle>
}
