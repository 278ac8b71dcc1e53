/**
 * The doctor's PostgreSQL checks: role from `pg_is_in_recovery()`, cluster identity from
 * `pg_control_system()`, upstream from `pg_stat_wal_receiver`, standbys from `pg_stat_replication`,
 * lag as WAL bytes and as the time the standby takes to replay the primary's current position
 * (see `lag.ts`; the position SQL is shared with the adapters in `src/sql-positions/postgres.ts`).
 * A hot standby refuses every write, whatever the user's privileges: the doctor says so.
 *
 * @internal
 * @module
 */
import { PG_PRIMARY_POSITION_SQL, PG_REPLICA_POSITION_SQL, PG_REPLICA_STATE_SQL, pgBytesBetween, pgPositionOf } from '../sql-positions/postgres.js'
import { positionReached } from '../position.js'
import { applySender, judgeSender, maybe, num, sameServerNote, text, type CheckOptions, type DriverChecks, type Probed } from './checks.js'
import { measureLag as measureCatchUp } from './lag.js'
import type { Endpoint } from './net.js'
import type { LagReport, Session } from './types.js'

/** What one PostgreSQL server says about itself. */
export interface PgFacts {
  inRecovery: boolean
  version: string
  /** `pg_control_system().system_identifier`: equal on a primary and all its physical standbys. Null without the privilege. */
  systemId: string | null
  addr: string | null
  port: number | null
  started: string | null
  /** Standby only: receive and replay LSNs. */
  receiveLsn: string | null
  replayLsn: string | null
  /** Standby only: time since the last replayed transaction committed — NOT the lag (it grows on an idle primary). */
  replayAgeMs: number | null
  /** Standby only: its WAL receiver (null when none runs). */
  receiver: { status: string; host: string | null; port: number | null; appName: string | null } | null
  /** Primary only: its WAL senders' application names and states (undefined when unreadable). */
  senders: { appName: string | null; state: string | null }[] | undefined
}

const IDENTITY = `SELECT pg_is_in_recovery() AS in_recovery, current_setting('server_version') AS version,
  host(inet_server_addr()) AS addr, inet_server_port() AS port, pg_postmaster_start_time()::text AS started`

function appNameOf(conninfo: string | null): string | null {
  if (conninfo === null) return null
  const m = /(?:^|\s)application_name=(\S+)/.exec(conninfo) ?? /(?:^|\s)fallback_application_name=(\S+)/.exec(conninfo)
  return m?.[1] ?? null
}

async function probe(s: Session): Promise<PgFacts> {
  const id = (await s.query(IDENTITY))[0] ?? {}
  const inRecovery = id['in_recovery'] === true
  const sys = await maybe(() => s.query('SELECT system_identifier::text AS id FROM pg_control_system()'))
  const facts: PgFacts = {
    inRecovery,
    version: text(id['version']) ?? '?',
    systemId: text(sys?.[0]?.['id']),
    addr: text(id['addr']),
    port: num(id['port']),
    started: text(id['started']),
    receiveLsn: null,
    replayLsn: null,
    replayAgeMs: null,
    receiver: null,
    senders: undefined,
  }
  if (inRecovery) {
    const replay = (await s.query(PG_REPLICA_STATE_SQL))[0] ?? {}
    facts.receiveLsn = text(replay['receive_lsn'])
    facts.replayLsn = text(replay['replay_lsn'])
    facts.replayAgeMs = num(replay['replay_age_ms'])
    const rx = (await maybe(() => s.query('SELECT status, sender_host, sender_port, conninfo FROM pg_stat_wal_receiver')))?.[0]
    if (rx !== undefined) {
      facts.receiver = { status: text(rx['status']) ?? '?', host: text(rx['sender_host']), port: num(rx['sender_port']), appName: appNameOf(text(rx['conninfo'])) }
    }
  }
  const senders = await maybe(() => s.query('SELECT application_name, state FROM pg_stat_replication'))
  facts.senders = senders?.map((row) => ({ appName: text(row['application_name']), state: text(row['state']) }))
  return facts
}

async function measureLag(replica: Probed<PgFacts>, primary: Probed<PgFacts>, options: CheckOptions): Promise<void> {
  const r = replica.facts
  if (r === undefined || replica.session === undefined) return
  const lag: LagReport = { ms: null, bytes: null, position: r.replayLsn, primaryPosition: null }
  replica.report.lag = lag
  const p = primary.facts
  if (p === undefined || primary.session === undefined || p.inRecovery || r.replayLsn === null) return
  const rs = replica.session
  const ps = primary.session
  const m = await maybe(() => measureCatchUp({
    replicaPosition: async () => pgPositionOf(await rs.query(PG_REPLICA_POSITION_SQL)),
    primaryPosition: async () => pgPositionOf(await ps.query(PG_PRIMARY_POSITION_SQL)),
    reached: positionReached,
  }, options.lagLimitMs))
  if (m === undefined) return
  lag.ms = m.ms
  lag.atLeast = m.atLeast
  lag.basis = m.basis
  lag.position = m.replicaPosition
  lag.primaryPosition = m.primaryPosition
  lag.bytes = pgBytesBetween(m.replicaPosition, m.primaryPosition) ?? null
}

async function checkReplica(
  replica: Probed<PgFacts>, primary: Probed<PgFacts>, all: readonly Probed<PgFacts>[], set: ReadonlyMap<string, string>, options: CheckOptions,
): Promise<void> {
  const r = replica.facts
  const rep = replica.report
  if (r === undefined) return
  if (!r.inRecovery) {
    rep.follows = false
    rep.followsDetail = 'not in recovery'
    rep.problems.push(`is not a replica: pg_is_in_recovery() is false, it accepts writes${sameServerNote(replica, primary.alias) || sameServerNote(replica)}`)
    return
  }
  rep.writes = 'refused: a hot standby rejects every write, whatever the user\'s privileges'
  const receiver = r.receiver
  const streaming = receiver !== null && receiver.status === 'streaming'
  if (!streaming) {
    rep.problems.push(`replication is not running: ${receiver === null ? 'no WAL receiver (pg_stat_wal_receiver is empty)' : `WAL receiver ${receiver.status}`}`)
  }
  // Not streaming: it will not catch up, so do not watch it (its lag is 0 if caught up, else unknown).
  await measureLag(replica, primary, streaming ? options : { ...options, lagLimitMs: 0 })
  if (!streaming && rep.lag?.atLeast === true) rep.lag.ms = null
  const p = primary.facts
  if (p === undefined) {
    rep.follows = null
    rep.followsDetail = `primary "${primary.alias}" unreachable`
    return
  }
  if (r.systemId === null || p.systemId === null) {
    rep.warnings.push('cannot read system_identifier (pg_control_system() needs superuser or pg_monitor), so the cluster identity is unchecked')
  } else if (r.systemId !== p.systemId) {
    rep.follows = false
    rep.followsDetail = `system_identifier ${r.systemId} ≠ ${p.systemId}`
    rep.problems.push(`belongs to another cluster: system_identifier ${r.systemId}, its primary "${primary.alias}" has ${p.systemId}`)
    return
  }
  const sameCluster = r.systemId !== null && p.systemId !== null
  if (receiver === null) {
    rep.follows = null
    rep.followsDetail = sameCluster ? `same cluster as "${primary.alias}", not streaming` : 'not streaming'
    return
  }
  if (receiver.host === null || receiver.port === null) {
    rep.warnings.push('cannot read the WAL receiver\'s sender_host/sender_port (needs pg_read_all_stats)')
    rep.follows = sameCluster ? true : null
    rep.followsDetail = sameCluster ? 'same system_identifier; upstream address unreadable' : 'upstream unknown'
    return
  }
  const sender: Endpoint = { host: receiver.host, port: receiver.port }
  const verdict = await judgeSender(sender, primary, all, pgChecks)
  const senders = p.senders
  const confirmed = senders === undefined ? undefined
    : receiver.appName !== null && senders.some((s) => s.appName === receiver.appName) ? true
      : senders.length === 0 ? false : undefined
  applySender(replica, primary, sender, verdict, set, confirmed)
  if (rep.follows === true && sameCluster) rep.followsDetail += ', same system_identifier'
}

/** PostgreSQL checks of `pindb doctor`. */
export const pgChecks: DriverChecks<PgFacts> = {
  probe,
  role: (f) => (f.inRecovery ? 'replica' : 'primary'),
  version: (f) => `PostgreSQL ${f.version}`,
  selfEndpoints: (f) => (f.addr !== null && f.port !== null ? [{ host: f.addr, port: f.port }] : []),
  fingerprint: (f) => (f.systemId === null || f.started === null ? undefined : `${f.systemId}|${f.started}|${f.port ?? ''}`),
  checkPrimary(primary) {
    const f = primary.facts
    if (f?.inRecovery === true) {
      primary.report.problems.push(`is configured as a primary but is in recovery (a standby): pg_is_in_recovery() is true, writes would fail${sameServerNote(primary)}`)
    }
  },
  checkReplica,
}
