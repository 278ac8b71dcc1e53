/**
 * The names `pindb/otel` records under: span attributes, span event names and metric instruments.
 * All live in the `pindb.` namespace; `docs/observability.md` explains each one.
 *
 * @module
 */

/**
 * Attribute keys on spans, span events and metric points.
 *
 * @example
 * ```ts
 * import { PINDB_ATTRIBUTES } from 'pindb/otel'
 * // e.g. a query in your tracing backend: pindb.role = "primary" AND pindb.reason = "pinned"
 * console.log(PINDB_ATTRIBUTES.role)
 * ```
 */
export const PINDB_ATTRIBUTES = Object.freeze({
  /** The alias that served the statement (`default`, `default-1`, an unmanaged alias). */
  server: 'pindb.server',
  /** That alias's role: `primary`, `replica` or `unmanaged`. */
  role: 'pindb.role',
  /** Why (a `RouteReason` of `pindb:route`: `replica`, `pinned`, `causal`, `failover`, …). */
  reason: 'pindb.reason',
  /** The DB set (primary alias); absent for an unmanaged alias. */
  dbSet: 'pindb.db_set',
  /** `read` or `write`. Spans and span events only (metrics split reads and writes into two instruments). */
  intent: 'pindb.intent',
  /** Whether the unit of work was pinned to the DB set when the decision was made (a greedy write pins it). Spans only. */
  pinned: 'pindb.pinned',
  /** Decisions made while this span was active. Span attribute only. */
  decisions: 'pindb.decisions',
  /** Failover retries made while this span was active (set once there is one). Span attribute only. */
  failoverAttempts: 'pindb.failover.attempts',
  /** On a `failover` span event: the replica that failed (when exactly one replica of the set failed since the last failover). */
  failoverFrom: 'pindb.failover.from',
  /** MariaDB GTID domain of a `pindb.replica.replay_gtid` point. */
  gtidDomain: 'pindb.gtid_domain',
  /** Where a rejected pin token came from or was going (`cookie`, `header`, `response`, `job`). */
  tokenSource: 'pindb.token.source',
  /** Why a pin token was rejected (`expired`, `bad-signature`, `encode-failed`, …). */
  tokenReason: 'pindb.token.reason',
} as const)

/** Span event names. */
export const PINDB_EVENTS = Object.freeze({
  /** One routing decision, added to the span active when the statement was routed. */
  route: 'pindb.route',
  /** A pin token (cookie, header, job data) was rejected or could not be written. */
  tokenRejected: 'pindb.pin_token.rejected',
} as const)

/** Metric instrument names. */
export const PINDB_METRICS = Object.freeze({
  /** Counter: reads routed, by server, role, reason and DB set. */
  reads: 'pindb.reads',
  /** Counter: writes routed, by server, role, reason and DB set. */
  writes: 'pindb.writes',
  /** Counter: reads whose routing protected them from stale data (`pinned`, `causal`, `behind`, `lagging`). */
  staleProtections: 'pindb.stale_protections',
  /** Observable counter: reads that failed on a replica with a server failure and were retried elsewhere, by failed replica. */
  failovers: 'pindb.failovers',
  /** Observable gauge (ms): replica lag as last measured by the replica monitor (a lower bound). */
  replicaLag: 'pindb.replica.lag',
  /** Observable gauge (bytes): replica lag in WAL bytes (PostgreSQL). */
  replicaLagBytes: 'pindb.replica.lag_bytes',
  /** Observable gauge (ms): time since the primary was last seen at a position the replica has replayed (an upper bound of its lag). */
  replicaStaleness: 'pindb.replica.staleness',
  /** Observable gauge (bytes): a PostgreSQL replica's replay LSN as a byte offset. */
  replicaReplayLsn: 'pindb.replica.replay_lsn',
  /** Observable gauge: a MariaDB replica's replayed GTID sequence number, per GTID domain. */
  replicaReplayGtid: 'pindb.replica.replay_gtid',
  /** Observable up-down counter: queries in flight through pindb's adapters, per server. */
  outstanding: 'pindb.server.outstanding',
  /** Observable gauge: 1 while a server is in failure back-off (skipped for reads), else 0. */
  backoff: 'pindb.server.backoff',
  /** Observable gauge: consecutive connection failures of a server since its last success. */
  failures: 'pindb.server.failures',
  /** Counter: pin tokens rejected (process-wide), by source and reason. */
  tokenRejections: 'pindb.pin_token.rejections',
} as const)

/** Route reasons counted by `pindb.stale_protections` ({@link PINDB_METRICS}). */
export const STALE_PROTECTION_REASONS = Object.freeze(['pinned', 'causal', 'behind', 'lagging'] as const)
