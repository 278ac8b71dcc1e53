/**
 * The measurement core of the routing benchmarks, as bench/pg-routing.bench.mjs does it:
 * closed-loop workers for a fixed time, throughput, p50/p99 latency, client CPU per operation,
 * and how many cores the database servers and everything else on the machine used meanwhile
 * (Linux /proc), so that phases disturbed by other work can be flagged and measured again.
 */
import { readFileSync, readdirSync } from 'node:fs'

/** A small deterministic PRNG (xorshift32) in [0, 1). */
export function rng(seed) {
  let x = (seed * 2654435761) >>> 0 || 1
  return () => {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    return x / 4294967296
  }
}

/** CPU seconds used so far: this process, postgres / pgpool processes, every other task, and steal. Linux only. */
export function cpuSnapshot() {
  try {
    const hz = 100 // USER_HZ
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
    const pids = new Map()
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue
      let stat
      try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { continue }
      const close = stat.lastIndexOf(')')
      const comm = stat.slice(stat.indexOf('(') + 1, close)
      const rest = stat.slice(close + 2).split(' ')
      const who = Number(pid) === process.pid ? 'self' : comm === 'postgres' || comm.startsWith('pgpool') ? 'db' : 'other'
      pids.set(pid, { who, t: (Number(rest[11]) + Number(rest[12])) / hz })
    }
    return { tasks: (f[0] + f[1] + f[2]) / hz, steal: f[7] / hz, pids }
  } catch {
    return undefined
  }
}

/** Cores busy on average between two snapshots, by who used them. */
export function cpuSplit(a, b, seconds) {
  if (a === undefined || b === undefined) return undefined
  let self = 0
  let db = 0
  for (const [pid, { who, t }] of b.pids) {
    const d = t - (a.pids.get(pid)?.t ?? 0)
    if (who === 'self') self += d
    else if (who === 'db') db += d
  }
  return { self: self / seconds, db: db / seconds, other: Math.max(0, b.tasks - a.tasks - self - db) / seconds, steal: (b.steal - a.steal) / seconds }
}

/** A phase during which other processes (or steal) used more than this many cores is "disturbed". */
export const OTHER_CPU_FLAG = 0.1
export const disturbed = (res) => res.machine !== undefined && (res.machine.other > OTHER_CPU_FLAG || res.machine.steal > OTHER_CPU_FLAG)

/** Runs `op(random)` from `concurrency` workers for `ms`; `{ count, rate, p50, p99, cpuUsPerOp, machine }`. */
export async function phase(ms, op, { concurrency, seed = 1 }) {
  const machine0 = cpuSnapshot()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const deadline = t0 + ms
  const perWorker = await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    const random = rng(seed * 1000 + w + 1)
    const lat = []
    for (;;) {
      const s = performance.now()
      if (s >= deadline) break
      await op(random)
      lat.push(performance.now() - s)
    }
    return lat
  }))
  const elapsed = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const machine = cpuSplit(machine0, cpuSnapshot(), elapsed / 1000)
  const all = Float64Array.from(perWorker.flat()).sort()
  const count = all.length
  const q = (p) => all[Math.min(count - 1, Math.max(0, Math.ceil(p * count) - 1))]
  return { count, elapsed, rate: count / (elapsed / 1000), p50: q(0.5), p99: q(0.99), cpuUsPerOp: (cpu.user + cpu.system) / count, machine }
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Order of the variants in repetition `r`: forwards, backwards, … (cancels drift). */
export const orderFor = (variants, r) => (r % 2 === 0 ? variants : [...variants].reverse())

export const fmtInt = (x) => Math.round(x).toLocaleString('en-US')
export const fmtMs = (x) => (x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(1))
export const fmtMachine = (m) => (m === undefined ? '' : `[cores: self ${m.self.toFixed(2)}, db ${m.db.toFixed(2)}, other ${m.other.toFixed(2)}, steal ${m.steal.toFixed(2)}]`)
