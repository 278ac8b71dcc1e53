/**
 * Benchmarks that cannot rot: every benchmark command the README and docs/*.md document — lines
 * like `node bench/….mjs …`, `npm run build && node bench/….mjs`, `npm run bench…` — is found here
 * and run, in quick mode, exactly as documented: it must exit 0 and print something. A new
 * benchmark is picked up as soon as it is documented; an undocumented `bench/*.bench.mjs` fails.
 *
 * Regression: `node bench/sql-classify.bench.mjs` (documented in the README and
 * docs/benchmarks.md) crashed with ERR_MODULE_NOT_FOUND … rng.js — it transpiled the SQL corpus
 * generator but not the module that generator imports — and nothing ran it.
 *
 * Quick-mode contract, for every benchmark: with PINDB_BENCH_QUICK=1 it runs its whole code path
 * with tiny sizes (few iterations / users / fractions of a second per phase, every variant at
 * least once), finishes in seconds, exits 0 on success and non-zero on any failure, prints its
 * results to stdout, writes no result files (bench/results, docs), and uses the test bed named by
 * the PINDB_* environment (starting it via bench/lib/testbed.mjs if it needs it and it is down,
 * stopping only what it started). Explicit BENCH_* settings still win over the quick defaults.
 *
 * `npm run build` steps run once per file; under `npm test` (PINDB_DIST_BUILT=1) not at all: the
 * test command has just built dist/ from the same sources, and lines running at once must not
 * rewrite dist/ under each other's benchmarks.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const run = promisify(execFile)
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts

/** The documents searched: the README and every docs/*.md. */
const DOCS = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

/**
 * Benchmark commands in a markdown text: `[npm run build && ]node bench/x.mjs [args]` or
 * `npm run bench[:name] [-- args]`, ending at a backtick, `#` comment, table bar or line end.
 * Optional-argument syntax (`[--flag]`) and placeholders (`<n>`) are dropped.
 */
function findBenchCommands(markdown: string): string[] {
  const found: string[] = []
  const pattern = /(?:npm run build && )?(?:node bench\/[\w./-]+\.mjs|npm run bench[\w:-]*)[^`#|\n]*/g
  for (const match of markdown.matchAll(pattern)) {
    const words: string[] = []
    for (const word of match[0].trim().split(/\s+/)) {
      if (word.startsWith('[') || word.startsWith('<') || word.startsWith('(')) break
      words.push(word)
    }
    found.push(words.join(' '))
  }
  return found
}

/** Each benchmark once: keyed without the `npm run build && ` prefix, kept when any document has it. */
const commands = new Map<string, { command: string; docs: Set<string> }>()
for (const doc of DOCS) {
  for (const command of findBenchCommands(readFileSync(join(root, doc), 'utf8'))) {
    const key = command.replace(/^npm run build && /, '')
    const entry = commands.get(key) ?? { command, docs: new Set<string>() }
    if (command.startsWith('npm run build && ')) entry.command = command
    entry.docs.add(doc)
    commands.set(key, entry)
  }
}

let built = process.env['PINDB_DIST_BUILT'] === '1'
const env = { ...process.env, PINDB_BENCH_QUICK: '1', NO_COLOR: '1' }

/** Runs one `&&`-part of a documented command, in quick mode. */
async function runPart(part: string): Promise<{ stdout: string; stderr: string }> {
  const [cmd, ...args] = part.split(' ')
  if (cmd === 'node') {
    expect(existsSync(join(root, args[0]!)), `${args[0]} exists`).toBe(true)
    return run(process.execPath, args, { cwd: root, env, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 })
  }
  if (cmd === 'npm' && args[0] === 'run') {
    expect(Object.keys(scripts), `package.json has the script "${args[1]}"`).toContain(args[1])
    return run('npm', args, { cwd: root, env, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 })
  }
  throw new Error(`unexpected benchmark command part "${part}"`)
}

describe('documented benchmark commands run (PINDB_BENCH_QUICK=1)', () => {
  it('finds the documented benchmarks, and every bench/*.bench.mjs is documented', () => {
    const all = [...commands.values()].map((c) => c.command).join('\n')
    for (const known of ['bench/sql-classify.bench.mjs', 'bench/staleness.bench.mjs', 'bench/pg-routing.bench.mjs']) expect(all).toContain(known)
    const undocumented = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.bench.mjs') && !all.includes(`bench/${f}`))
    expect(undocumented, 'benchmarks no document names (README.md, docs/*.md)').toEqual([])
    expect(findBenchCommands('```sh\nnpm run build && node bench/a.bench.mjs --x 1   # note\n```\n(`node bench/b.mjs`) | `npm run bench:c -- --y` |')).toEqual([
      'npm run build && node bench/a.bench.mjs --x 1',
      'node bench/b.mjs',
      'npm run bench:c -- --y',
    ])
  })

  it.each([...commands.values()].map(({ command, docs }) => ({ command, docs: [...docs].join(', ') })))(
    '$command  ($docs)',
    async ({ command }) => {
      let output = ''
      for (const part of command.split(' && ').map((p) => p.trim())) {
        if (part === 'npm run build') {
          if (built) continue
          await runPart(part)
          built = true
          continue
        }
        const { stdout, stderr } = await runPart(part).catch((err: { code?: unknown; stdout?: string; stderr?: string; message?: string }) => {
          throw new Error(`\`${part}\` failed (exit ${String(err.code)}):\n${err.stderr ?? ''}\n${err.stdout ?? ''}\n${err.message ?? ''}`.slice(-6000))
        })
        output += stdout
        void stderr
      }
      expect(output.trim().length, 'the benchmark printed its results').toBeGreaterThan(0)
    },
    600_000,
  )
})
