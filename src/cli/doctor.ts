/**
 * `pindb doctor`: connects to every alias of a pindb config and checks that the real topology is
 * the configured one — primaries are primaries, replicas replicate from their own primary, lag is
 * acceptable — so a misrouted or broken topology blocks a deploy.
 *
 * @internal
 * @module
 */
import { int, oneOf, parse, str } from './args.js'
import type { DriverChecks, Probed } from './checks.js'
import { loadConfig, type LoadedConfig } from './config.js'
import { loadDriver, type Connector } from './driver.js'
import { DOCTOR_HELP } from './help.js'
import { endpointOf, formatEndpoint } from './net.js'
import { myChecks } from './probe-mysql.js'
import { pgChecks } from './probe-pg.js'
import { formatBytes, formatDoctor, formatMs } from './report.js'
import { EXIT, errorText, type AliasReport, type DoctorReport, type DriverName, type ExpectedRole } from './types.js'

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** Directory the config module and the driver are resolved from. */
  cwd: string
  /** Config module path; default `pindb.config.mjs` / `pindb.config.js`. */
  config?: string
  /** Overrides the module's `driver` export. */
  driver?: DriverName
  /** Connect and query timeout per server. */
  timeoutMs: number
  /** A replica lagging more (ms) is a problem. */
  maxLagMs: number
  /** PostgreSQL: a replica more WAL bytes behind is a problem. */
  maxLagBytes?: number
  /** How long to watch a replica that is behind, to measure its lag. Default: `maxLagMs` (at most 60 s) plus 250 ms. */
  lagWatchMs?: number
}

const MAX_DEFAULT_WATCH_MS = 60_000

interface Target {
  alias: string
  expected: ExpectedRole
  set: string | null
  config: object
}

function targetsOf(config: LoadedConfig): Target[] {
  const { topology } = config
  const out: Target[] = []
  const add = (alias: string, expected: ExpectedRole, set: string | null): void => {
    out.push({ alias, expected, set, config: topology.databases[alias] ?? {} })
  }
  for (const [set, replicas] of topology.sets) {
    add(set, 'primary', set)
    for (const replica of replicas) add(replica, 'replica', set)
  }
  for (const alias of topology.unmanaged) add(alias, 'unmanaged', null)
  return out
}

async function probeOne<F>(t: Target, driver: DriverName, connect: Connector, checks: DriverChecks<F>, timeoutMs: number): Promise<Probed<F>> {
  const endpoint = endpointOf(driver, t.config)
  const report: AliasReport = {
    alias: t.alias, set: t.set, expected: t.expected, actual: 'unknown', reachable: false,
    endpoint: formatEndpoint(endpoint), problems: [], warnings: [],
  }
  const p: Probed<F> = { alias: t.alias, report, endpoint, sameAs: [] }
  try {
    p.session = await connect(t.config, timeoutMs)
    report.reachable = true
  } catch (err) {
    report.error = errorText(err)
    report.problems.push(`unreachable: ${report.error}`)
    return p
  }
  try {
    p.facts = await checks.probe(p.session)
    report.actual = checks.role(p.facts)
    report.version = checks.version(p.facts)
  } catch (err) {
    report.error = errorText(err)
    report.problems.push(`connected, but its role could not be read: ${report.error}`)
  }
  return p
}

function markTwins<F>(probed: readonly Probed<F>[], checks: DriverChecks<F>): void {
  const groups = new Map<string, Probed<F>[]>()
  for (const p of probed) {
    const print = p.facts === undefined ? undefined : checks.fingerprint(p.facts)
    if (print !== undefined) groups.set(print, [...(groups.get(print) ?? []), p])
  }
  for (const group of groups.values()) {
    for (const p of group) p.sameAs = group.filter((q) => q !== p).map((q) => q.alias)
  }
}

function checkLag(report: AliasReport, options: DoctorOptions): void {
  const lag = report.lag
  if (lag === undefined) return
  if (lag.ms !== null && lag.ms > options.maxLagMs) {
    report.problems.push(`lags ${lag.atLeast === true ? 'more than ' : ''}${formatMs(lag.ms)} behind its primary (more than --max-lag-ms ${options.maxLagMs}): ${lag.basis ?? 'measured'}`)
  } else if (lag.ms !== null && lag.atLeast === true) {
    report.warnings.push(`lags at least ${formatMs(lag.ms)} (it had not caught up when the doctor stopped watching); whether it lags more than --max-lag-ms ${options.maxLagMs} is unknown`)
  }
  if (options.maxLagBytes !== undefined && typeof lag.bytes === 'number' && lag.bytes > options.maxLagBytes) {
    report.problems.push(`is ${formatBytes(lag.bytes)} of WAL behind its primary (more than --max-lag-bytes ${options.maxLagBytes})`)
  }
  if (lag.ms === null && report.follows !== false && !report.problems.some((p) => p.startsWith('replication is'))) {
    report.warnings.push('its lag in time is unknown')
  }
}

async function examine<F>(config: LoadedConfig, connect: Connector, checks: DriverChecks<F>, options: DoctorOptions): Promise<DoctorReport> {
  const targets = targetsOf(config)
  const lagLimitMs = options.lagWatchMs ?? Math.min(options.maxLagMs, MAX_DEFAULT_WATCH_MS) + 250
  const probed = await Promise.all(targets.map((t) => probeOne(t, config.driver, connect, checks, options.timeoutMs)))
  try {
    markTwins(probed, checks)
    const byAlias = new Map(probed.map((p) => [p.alias, p]))
    const setOf = new Map<string, string>(targets.filter((t) => t.set !== null).map((t) => [t.alias, t.set!]))
    await Promise.all(targets.map(async (t, i) => {
      const p = probed[i]!
      if (p.facts === undefined) return
      try {
        if (t.expected === 'primary') checks.checkPrimary(p)
        if (t.expected === 'replica') await checks.checkReplica(p, byAlias.get(t.set!)!, probed, setOf, { lagLimitMs })
      } catch (err) {
        p.report.problems.push(`check failed: ${errorText(err)}`)
      }
      checkLag(p.report, options)
      if (p.sameAs.length > 0 && !p.report.problems.some((m) => m.includes('same server'))) {
        p.report.warnings.push(`is the same server as ${p.sameAs.map((a) => `"${a}"`).join(', ')}`)
      }
    }))
  } finally {
    await Promise.all(probed.map((p) => p.session?.close().catch(() => {})))
  }
  const aliases = probed.map((p) => p.report)
  const problems = aliases.flatMap((a) => a.problems.map((m) => `${a.alias}: ${m}`))
  const warnings = aliases.flatMap((a) => a.warnings.map((m) => `${a.alias}: ${m}`))
  const failing = aliases.filter((a) => a.problems.length > 0).length
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`
  const verdict = problems.length === 0
    ? `OK: ${plural(aliases.length, 'alias')} checked with ${config.driver}; the topology matches the config${warnings.length > 0 ? ` (${plural(warnings.length, 'warning')})` : ''}.`
    : `FAIL: ${plural(problems.length, 'problem')} on ${failing} of ${plural(aliases.length, 'alias')}: the topology does not match the config, or is broken. Do not deploy.`
  return {
    ok: problems.length === 0, config: config.file, driver: config.driver, maxLagMs: options.maxLagMs, timeoutMs: options.timeoutMs,
    aliases, problems, warnings, verdict,
  }
}

/**
 * Loads the config module and checks every alias.
 * @throws {@link CliError} with exit code 2 (config) or 3 (driver missing).
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const config = await loadConfig(options.cwd, options.config, options.driver)
  try {
    const connect = await loadDriver(config.driver, options.cwd)
    return config.driver === 'pg'
      ? await examine(config, connect, pgChecks, options)
      : await examine(config, connect, myChecks, options)
  } finally {
    await config.close().catch(() => {})
  }
}

/** Runs `pindb doctor`; returns the exit code. */
export async function doctorCommand(args: readonly string[]): Promise<number> {
  const parsed = parse('doctor', args, {
    config: { type: 'string', short: 'c' },
    driver: { type: 'string' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
    'max-lag-ms': { type: 'string' },
    'max-lag-bytes': { type: 'string' },
    'lag-watch-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, 0)
  if (parsed.values['help'] === true) {
    process.stdout.write(DOCTOR_HELP)
    return EXIT.ok
  }
  const config = str(parsed, 'config')
  const driver = oneOf<DriverName>(parsed, 'driver', { pg: 'pg', mysql2: 'mysql2' })
  const maxLagBytes = str(parsed, 'max-lag-bytes') === undefined ? undefined : int(parsed, 'max-lag-bytes', 0)
  const lagWatchMs = str(parsed, 'lag-watch-ms') === undefined ? undefined : int(parsed, 'lag-watch-ms', 0)
  const report = await runDoctor({
    cwd: process.cwd(),
    ...(config === undefined ? {} : { config }),
    ...(driver === undefined ? {} : { driver }),
    timeoutMs: int(parsed, 'timeout', 5000, true),
    maxLagMs: int(parsed, 'max-lag-ms', 30_000),
    ...(maxLagBytes === undefined ? {} : { maxLagBytes }),
    ...(lagWatchMs === undefined ? {} : { lagWatchMs }),
  })
  process.stdout.write(parsed.values['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report))
  return report.ok ? EXIT.ok : EXIT.problems
}
