/**
 * The doctor's MariaDB/MySQL checks: role from `@@read_only` and `SHOW REPLICA STATUS` (or
 * `SHOW SLAVE STATUS`), upstream from `Master_Host`/`Master_Port`/`Master_Server_Id`, lag from
 * MariaDB GTID positions (see `lag.ts`; the SQL is shared with the adapter in
 * `src/sql-positions/mysql.ts`), `Seconds_Behind_Master` only without GTIDs (MySQL), and whether
 * the configured user can write to a replica despite `read_only` (SUPER on MySQL and older
 * MariaDB, READ_ONLY ADMIN, CONNECTION_ADMIN, ALL PRIVILEGES): tested with
 * `START TRANSACTION READ WRITE`, which `read_only` refuses exactly to the users it restrains.
 *
 * @internal
 * @module
 */
import { MYSQL_PRIMARY_POSITION_SQL, MYSQL_REPLICA_POSITION_SQL, mysqlPositionOf, mysqlReached, mysqlTransactionsBehind } from '../sql-positions/mysql.js'
import { applySender, judgeSender, maybe, num, sameServerNote, text, type CheckOptions, type DriverChecks, type Probed } from './checks.js'
import { measureLag } from './lag.js'
import type { Endpoint } from './net.js'
import { errorText, type Session } from './types.js'

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
  /** The account the doctor connected as (`CURRENT_USER()`), i.e. the app's user from the config. */
  user: string | null
  /** MySQL `@@super_read_only` (null on MariaDB, which has none). */
  superReadOnly: boolean | null
  /** `SHOW GRANTS` lines (undefined when unreadable). */
  grants: string[] | undefined
}

/** Global privileges that let a user write despite `read_only` (MariaDB ≥ 10.11 no longer counts SUPER; MySQL and older MariaDB do). */
const BYPASS = /\b(SUPER|READ[_ ]ONLY ADMIN|CONNECTION_ADMIN|ALL PRIVILEGES)\b/gi

/** The read_only-bypassing privileges granted on `*.*` in `SHOW GRANTS` lines. */
export function bypassPrivileges(grants: readonly string[]): string[] {
  const found = new Set<string>()
  for (const line of grants) {
    const m = /^GRANT\s+(.*?)\s+ON\s+\*\.\*\s+TO\b/i.exec(line)
    if (m === null) continue
    for (const p of m[1]!.matchAll(BYPASS)) found.add(p[1]!.toUpperCase().replace('READ_ONLY', 'READ ONLY'))
  }
  return [...found]
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
  const user = (await maybe(() => s.query('SELECT CURRENT_USER() AS u')))?.[0]?.['u']
  const superRo = mysql === undefined ? undefined : (await maybe(() => s.query('SELECT @@super_read_only AS s')))?.[0]
  const grants = (await maybe(() => s.query('SHOW GRANTS')))?.map((row) => text(Object.values(row)[0]) ?? '')
  return {
    user: text(user),
    superReadOnly: superRo === undefined ? null : num(superRo['s']) === 1,
    grants,
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
  // Positions from the lag measure when there is one; else read the primary's now (after the replica's, phase 1).
  let slavePos = rep.lag?.position ?? r.slavePos
  let primaryPos = rep.lag?.primaryPosition ?? null
  if (primaryPos === null || primaryPos === undefined) {
    slavePos = r.slavePos
    const row = await maybe(async () => (await primary.session!.query(MYSQL_PRIMARY_POSITION_SQL))[0])
    primaryPos = text(row?.['pos']) ?? primary.facts.binlogPos
  }
  if (rep.lag !== undefined) {
    rep.lag.position = slavePos
    rep.lag.primaryPosition = primaryPos
    rep.lag.transactions = mysqlTransactionsBehind(slavePos, primaryPos ?? '') ?? null
  }
  const mine = gtidDomains(slavePos)
  const theirs = gtidDomains(primaryPos)
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

/** Lag from GTID positions when both sides have them; else `Seconds_Behind_Master` (MySQL, GTID off). */
async function checkLag(replica: Probed<MyFacts>, primary: Probed<MyFacts>, thread: ReplicaThread, options: CheckOptions): Promise<void> {
  const r = replica.facts!
  const rs = replica.session
  const ps = primary.session
  const running = thread.io === 'Yes' && thread.sql === 'Yes'
  if (r.slavePos !== null && rs !== undefined && ps !== undefined && primary.facts?.binlogPos !== null && primary.facts !== undefined) {
    const m = await maybe(() => measureLag({
      replicaPosition: async () => mysqlPositionOf(await rs.query(MYSQL_REPLICA_POSITION_SQL)),
      primaryPosition: async () => mysqlPositionOf(await ps.query(MYSQL_PRIMARY_POSITION_SQL)),
      reached: mysqlReached,
    }, running ? options.lagLimitMs : 0))
    if (m !== undefined) {
      // Stopped replication never catches up: then the lag is 0 (caught up) or unknown.
      replica.report.lag = {
        ms: !running && m.atLeast ? null : m.ms, atLeast: m.atLeast, basis: m.basis, position: m.replicaPosition, primaryPosition: m.primaryPosition,
      }
      return
    }
  }
  replica.report.lag = {
    ms: thread.secondsBehind === null ? null : thread.secondsBehind * 1000,
    basis: 'Seconds_Behind_Master (no GTID positions to compare; it reads 0 while the IO thread is behind)',
  }
}

/**
 * Whether the configured user could write to this replica: `read_only` off, or a privilege that
 * bypasses it. Tested with `START TRANSACTION READ WRITE` (then rolled back; nothing is written),
 * which `read_only` refuses to exactly the users it restrains; SHOW GRANTS names the privilege.
 */
async function checkWrites(replica: Probed<MyFacts>): Promise<void> {
  const r = replica.facts!
  const rep = replica.report
  const who = r.user === null ? 'the configured user' : `the configured user ${r.user}`
  if (!r.readOnly) {
    rep.writes = 'ALLOWED: @@read_only = 0'
    rep.problems.push(`accepts writes: @@read_only = 0, so a write misrouted to this replica would succeed on it and diverge from its primary. Set read_only = ON on the replica (in its config file, so that it survives a restart)`)
    return
  }
  const session = replica.session!
  let bypass: boolean | undefined
  let why = ''
  try {
    await session.query('START TRANSACTION READ WRITE')
    bypass = true
  } catch (err) {
    bypass = /read.only|1290|1792/i.test(errorText(err)) ? false : undefined
    why = errorText(err)
  } finally {
    await maybe(() => session.query('ROLLBACK'))
  }
  const privileges = bypassPrivileges(r.grants ?? [])
  if (bypass === true) {
    const granted = privileges.length > 0 ? `it has ${privileges.join(', ')} on *.*` : 'it has a privilege that bypasses read_only (through a role, or one SHOW GRANTS does not list)'
    rep.writes = `ALLOWED for ${who}: ${granted}`
    rep.problems.push(`accepts writes from ${who} despite @@read_only = 1: ${granted}, which bypasses read_only, so a write misrouted to this replica would succeed on it and diverge from its primary. ` +
      'Connect to replicas as a user without SUPER, READ ONLY ADMIN, CONNECTION_ADMIN or ALL PRIVILEGES on *.*' + (r.superReadOnly === false ? ', or set super_read_only = ON' : ''))
  } else if (bypass === false) {
    rep.writes = `refused: @@read_only = 1${r.superReadOnly === true ? ' and @@super_read_only = 1' : ''}, and ${who} cannot bypass it`
  } else {
    rep.warnings.push(`could not tell whether ${who} can write despite read_only (START TRANSACTION READ WRITE failed: ${why})`)
  }
}

async function checkReplica(
  replica: Probed<MyFacts>, primary: Probed<MyFacts>, all: readonly Probed<MyFacts>[], set: ReadonlyMap<string, string>, options: CheckOptions,
): Promise<void> {
  const r = replica.facts
  const rep = replica.report
  if (r === undefined) return
  await checkWrites(replica)
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
  await checkLag(replica, primary, thread, options)
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
