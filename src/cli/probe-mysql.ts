/**
 * The doctor's MariaDB/MySQL checks: role from `@@read_only` and `SHOW REPLICA STATUS` (or
 * `SHOW SLAVE STATUS`), upstream from `Master_Host`/`Master_Port`/`Master_Server_Id`, lag from
 * `Seconds_Behind_Master` and MariaDB GTID positions.
 *
 * @internal
 * @module
 */
import { applySender, judgeSender, maybe, num, sameServerNote, text, type DriverChecks, type Probed } from './checks.js'
import type { Endpoint } from './net.js'
import type { Session } from './types.js'

/** One row of `SHOW REPLICA STATUS`, MariaDB or MySQL column names. */
export interface ReplicaThread {
  host: string | null
  port: number | null
  serverId: number | null
  io: string
  sql: string
  secondsBehind: number | null
  error: string | null
}

/** What one MariaDB/MySQL server says about itself. */
export interface MyFacts {
  serverId: number | null
  readOnly: boolean
  version: string
  hostname: string | null
  port: number | null
  /** MariaDB `@@gtid_binlog_pos` / `@@gtid_slave_pos` (null on MySQL). */
  binlogPos: string | null
  slavePos: string | null
  /** MySQL `@@global.gtid_executed` (null on MariaDB). */
  gtidExecuted: string | null
  /** Replication threads; undefined when the status could not be read (privileges). */
  threads: ReplicaThread[] | undefined
}

function pick(row: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) if (row[n] !== undefined) return row[n]
  return undefined
}

function threadOf(row: Record<string, unknown>): ReplicaThread {
  const errors = [text(pick(row, 'Last_IO_Error', 'Last_IO_Error_Message')), text(pick(row, 'Last_SQL_Error'))].filter((e) => e !== null)
  return {
    host: text(pick(row, 'Master_Host', 'Source_Host')),
    port: num(pick(row, 'Master_Port', 'Source_Port')),
    serverId: num(pick(row, 'Master_Server_Id', 'Source_Server_Id')),
    io: text(pick(row, 'Slave_IO_Running', 'Replica_IO_Running')) ?? '?',
    sql: text(pick(row, 'Slave_SQL_Running', 'Replica_SQL_Running')) ?? '?',
    secondsBehind: num(pick(row, 'Seconds_Behind_Master', 'Seconds_Behind_Source')),
    error: errors.length === 0 ? null : errors.join('; '),
  }
}

async function probe(s: Session): Promise<MyFacts> {
  const id = (await s.query('SELECT @@server_id AS server_id, @@read_only AS read_only, @@version AS version, @@hostname AS hostname, @@port AS port'))[0] ?? {}
  const maria = (await maybe(() => s.query('SELECT @@gtid_binlog_pos AS binlog_pos, @@gtid_slave_pos AS slave_pos')))?.[0]
  const mysql = maria === undefined ? (await maybe(() => s.query('SELECT @@global.gtid_executed AS executed')))?.[0] : undefined
  const rows = (await maybe(() => s.query('SHOW REPLICA STATUS'))) ?? (await maybe(() => s.query('SHOW SLAVE STATUS')))
  return {
    serverId: num(id['server_id']),
    readOnly: num(id['read_only']) === 1,
    version: text(id['version']) ?? '?',
    hostname: text(id['hostname']),
    port: num(id['port']),
    binlogPos: text(maria?.['binlog_pos']),
    slavePos: text(maria?.['slave_pos']),
    gtidExecuted: text(mysql?.['executed']),
    threads: rows?.map(threadOf),
  }
}

/** A GTID list as domain → { server, seq }. */
export function gtidDomains(list: string | null): Map<number, { server: number; seq: bigint }> {
  const out = new Map<number, { server: number; seq: bigint }>()
  for (const part of (list ?? '').split(',')) {
    const m = /^\s*(\d+)-(\d+)-(\d+)\s*$/.exec(part)
    if (m !== null) out.set(Number(m[1]), { server: Number(m[2]), seq: BigInt(m[3]!) })
  }
  return out
}

async function checkGtid(replica: Probed<MyFacts>, primary: Probed<MyFacts>): Promise<void> {
  const r = replica.facts
  const rep = replica.report
  if (r === undefined || r.slavePos === null || primary.facts === undefined) return
  // Read the primary's position after the replica's (phase 1), so the replica can never be legitimately ahead.
  const row = await maybe(async () => (await primary.session!.query('SELECT @@gtid_binlog_pos AS pos'))[0])
  const primaryPos = text(row?.['pos']) ?? primary.facts.binlogPos
  if (rep.lag !== undefined) {
    rep.lag.position = r.slavePos
    rep.lag.primaryPosition = primaryPos
  }
  const mine = gtidDomains(r.slavePos)
  const theirs = gtidDomains(primaryPos)
  let behind = 0n
  for (const [domain, p] of theirs) behind += p.seq - (mine.get(domain)?.seq ?? 0n) > 0n ? p.seq - (mine.get(domain)?.seq ?? 0n) : 0n
  if (rep.lag !== undefined) rep.lag.transactions = Number(behind)
  for (const [domain, g] of mine) {
    const p = theirs.get(domain)
    if (p === undefined) {
      rep.problems.push(`GTID positions are inconsistent: domain ${domain} (${domain}-${g.server}-${g.seq}) is not in its primary's @@gtid_binlog_pos (${primaryPos ?? 'empty'})`)
    } else if (g.seq > p.seq) {
      rep.problems.push(`GTID positions are inconsistent: it is ahead of its primary in domain ${domain} (${domain}-${g.server}-${g.seq} > ${domain}-${p.server}-${p.seq})`)
    }
  }
  if (r.serverId !== null) {
    for (const [domain, g] of gtidDomains(r.binlogPos)) {
      if (g.server === r.serverId) rep.warnings.push(`has transactions written directly on it (GTID ${domain}-${g.server}-${g.seq} in its @@gtid_binlog_pos)`)
    }
  }
}

async function checkReplica(replica: Probed<MyFacts>, primary: Probed<MyFacts>, all: readonly Probed<MyFacts>[], set: ReadonlyMap<string, string>): Promise<void> {
  const r = replica.facts
  const rep = replica.report
  if (r === undefined) return
  if (r.threads === undefined) {
    rep.follows = null
    rep.followsDetail = 'replica status unreadable'
    rep.warnings.push('cannot read SHOW REPLICA STATUS (needs REPLICATION CLIENT / SLAVE MONITOR), so replication is unchecked')
    return
  }
  const p = primary.facts
  const thread = r.threads.find((t) => p !== undefined && t.serverId !== null && t.serverId === p.serverId) ?? r.threads[0]
  if (thread === undefined) {
    rep.follows = false
    rep.followsDetail = 'not replicating'
    rep.problems.push(`is not a replica: SHOW REPLICA STATUS is empty${r.readOnly ? '' : ' and it is writable (@@read_only = 0)'}${sameServerNote(replica, primary.alias) || sameServerNote(replica)}`)
    return
  }
  if (thread.io !== 'Yes' || thread.sql !== 'Yes') {
    rep.problems.push(`replication is stopped (IO thread: ${thread.io}, SQL thread: ${thread.sql})${thread.error === null ? '' : `: ${thread.error}`}`)
  }
  if (!r.readOnly) rep.warnings.push('is writable (@@read_only = 0): a write sent to it would diverge from its primary')
  rep.lag = { ms: thread.secondsBehind === null ? null : thread.secondsBehind * 1000 }
  if (p === undefined) {
    rep.follows = null
    rep.followsDetail = `primary "${primary.alias}" unreachable`
    return
  }
  if (r.serverId !== null && r.serverId === p.serverId) {
    rep.problems.push(`has the same server_id (${r.serverId}) as its primary "${primary.alias}"${sameServerNote(replica, primary.alias)}`)
  }
  if (thread.host === null || thread.port === null) {
    rep.follows = null
    rep.followsDetail = 'upstream unknown'
  } else if (thread.serverId !== null && thread.serverId !== 0 && p.serverId !== null && thread.serverId !== p.serverId) {
    const from = `${thread.host}:${thread.port}`
    rep.follows = false
    rep.followsDetail = `replicates from server_id ${thread.serverId} at ${from}`
    rep.problems.push(`follows server_id ${thread.serverId} at ${from}, not its primary "${primary.alias}" (server_id ${p.serverId})`)
  } else {
    const sender: Endpoint = { host: thread.host, port: thread.port }
    const idMatch = thread.serverId !== null && thread.serverId !== 0 && thread.serverId === p.serverId
    const verdict = await judgeSender(sender, primary, all, myChecks)
    applySender(replica, primary, sender, idMatch && verdict.kind === 'unknown' ? { kind: 'primary' } : verdict, set, undefined)
    if (idMatch && rep.follows === true) rep.followsDetail += `, Master_Server_Id ${thread.serverId}`
  }
  if (rep.follows !== false) await checkGtid(replica, primary)
}

/** MariaDB/MySQL checks of `pindb doctor`. */
export const myChecks: DriverChecks<MyFacts> = {
  probe,
  role: (f) => (f.threads !== undefined && f.threads.length > 0 ? 'replica' : f.readOnly ? 'read-only' : 'primary'),
  version: (f) => (/mariadb/i.test(f.version) ? `MariaDB ${f.version.replace(/-MariaDB.*$/i, '')}` : `MySQL ${f.version}`),
  selfEndpoints: (f) => (f.hostname !== null && f.port !== null ? [{ host: f.hostname, port: f.port }] : []),
  fingerprint: (f) => (f.serverId === null ? undefined : `${f.serverId}|${f.hostname ?? ''}|${f.port ?? ''}`),
  checkPrimary(primary) {
    const f = primary.facts
    if (f === undefined) return
    if (f.readOnly) primary.report.problems.push(`is configured as a primary but is read-only (@@read_only = 1), writes would fail${sameServerNote(primary)}`)
    const upstream = f.threads?.find((t) => t.io === 'Yes' || t.sql === 'Yes')
    if (upstream !== undefined) {
      primary.report.warnings.push(`is itself replicating from ${upstream.host ?? '?'}:${upstream.port ?? '?'} (chained or circular replication)`)
    }
  },
  checkReplica,
}
