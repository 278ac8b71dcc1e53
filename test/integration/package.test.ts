/**
 * The published package, as a user gets it: the tarball (scripts/build-package.mjs, which runs
 * the build and `npm pack` in a staging copy) is linted with publint and attw, installed into a
 * fresh project WITHOUT any optional peer (pg, mysql2, express, …), and every entry point is both
 * imported and required on each Node major of {@link MAJORS} — then a routed pool made by one
 * entry for a pindb made by the other reads from the PostgreSQL test bed's replica, pins on a
 * write and reads its write back from the primary (the repository's `pg`, passed by path);
 * TypeScript consumers type-check against it under every module resolution users run; the
 * `pindb` bin runs.
 *
 * CommonJS design — why `require('pindb')` loads the ESM build (Node's require(esm)):
 *   The pinning context and every class pindb checks with `instanceof` live in module state, so a
 *   process that imports pindb in one file and requires it in another must get ONE copy of every
 *   module. Two designs give that:
 *   (a) chosen: the ESM build is the only implementation; each `exports` entry has `types` and
 *       `default` (no `import`-only condition), so `require()` resolves to the same ESM file and
 *       Node's require(esm) — unflagged and warning-free on 20.19+, 22.12+, 24 and 26, which
 *       `engines` already demands — returns the very module instance `import` gets. One build, one
 *       set of files, nothing to keep in sync; `import.meta.url` (src/cli/main.ts) and the CLI's
 *       top-level await keep working. The entry graphs have no top-level await (require(esm)
 *       rejects that), which the require probes below would catch.
 *   (b) a CommonJS build plus thin ESM wrappers (node-postgres): works on older Node, but needs a
 *       second compile (`import.meta.url` has no CJS equivalent, the CLI's top-level await must
 *       go), a wrapper and a declaration set per entry, turns the lazy `import('pg')` of optional
 *       peers into `require` — and the CLI, which imports the core, would load a second copy
 *       unless it too became CommonJS. No benefit on the Node lines we support.
 *   Types for CommonJS TypeScript: `module: nodenext` (TS ≥ 5.8) or `node20` (TS ≥ 5.9) model
 *   require(esm) and type `require`/`import` in .cts files; `module: commonjs` with node10
 *   resolution (NestJS's default) reads `typesVersions`, which mirrors `exports`. Only TypeScript's
 *   `module: node16`/`node18` reject a CommonJS file importing ESM (TS1479), because they model
 *   Node versions without require(esm); attw's bundled TypeScript (5.6) models exactly that, hence
 *   the one ignored attw rule, `cjs-resolves-to-esm` (its "node16 (from CJS)" column).
 *
 * Source maps: the tarball ships `src/` so that the `.js.map` (stack traces with
 * --enable-source-maps) and `.d.ts.map` (go-to-definition lands in the TypeScript source) files
 * resolve; a test checks every map's `sources` are in the tarball.
 *
 * Under `npm test` (scripts/test.mjs) the tarball is built once (`PINDB_PACKAGE_TARBALL`), each
 * Node line's run probes only its own major (`PINDB_PACKAGE_MAJORS`) — together the lines cover
 * them all — and the checks that do not depend on the Node line (contents, maps, publint, attw,
 * TypeScript consumers) run on one line only (`PINDB_PACKAGE_STATIC=0` on the others: skipped).
 * Run alone, this file builds the tarball, runs everything and probes Node 20, 22, 24 and 26.
 */
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeBinary } from '../../scripts/build-node-bins.mjs'
import { testbed } from '../support/testbed.js'

const root = join(import.meta.dirname, '..', '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string
  exports: Record<string, string | { types?: string; default?: string }>
  typesVersions?: Record<string, Record<string, string[]>>
  bin: Record<string, string>
  sideEffects?: unknown
  engines?: { node?: string }
  files?: string[]
}
const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json')
const entries = subpaths.map((k) => (k === '.' ? 'pindb' : `pindb/${k.slice(2)}`))
const MAJORS = (process.env['PINDB_PACKAGE_MAJORS'] ?? '20,22,24,26').split(',').map(Number)
/** The checks of the tarball itself (contents, maps, lint, TypeScript consumers) do not depend on the Node line. */
const STATIC_CHECKS = process.env['PINDB_PACKAGE_STATIC'] !== '0'
/** attw rules ignored, each with its reason (see the header). */
const ATTW_IGNORED = { CJSResolvesToESM: 'cjs-resolves-to-esm' } as const
const run = promisify(execFile)

let work: string
let project: string
let tarball: string
let files: string[]

/** Imports (or requires) every entry, then the other way, and checks both give the same objects. */
const probe = (format: 'esm' | 'cjs'): string => `
${format === 'esm' ? "import { createRequire } from 'node:module'\nconst require = createRequire(import.meta.url)" : ';(async () => {'}
const names = ${JSON.stringify(entries)}
const load = async (how, name) => (how === 'import' ? await import(name) : require(name))
const [first, second] = ${format === 'esm' ? "['import', 'require']" : "['require', 'import']"}
const out = { node: process.version, keys: {}, mismatched: [], errors: [] }
const one = {}
for (const name of names) {
  try { one[name] = await load(first, name); out.keys[name] = Object.keys(one[name]).filter((k) => k !== '__esModule').sort() }
  catch (err) { out.errors.push(first + ' ' + name + ': ' + err.message) }
}
for (const name of names) {
  try {
    const other = await load(second, name)
    for (const key of out.keys[name] ?? []) if (other[key] !== one[name][key]) out.mismatched.push(name + '.' + key)
  } catch (err) { out.errors.push(second + ' ' + name + ': ' + err.message) }
}

// The core from one entry, the pg adapter from the other, over the real test bed with the
// repository's \`pg\` (the consumer project has none): a pin made through the pool must be the
// core's pin, and the adapter's errors the core's classes.
const pg = require(process.env.PROBE_PG_MODULE)
const nodes = JSON.parse(process.env.PROBE_PG_NODES)
const core = await load(first, 'pindb')
const pgEntry = await load(second, 'pindb/pg')
const otherCore = await load(second, 'pindb')
const options = (mode) => ({ mode, primaries: { default: nodes.primary }, replicas: { default: [{ port: nodes.replica }] } })
const pindb = core.createPinDb(options('greedy'))
const pool = pgEntry.createPgPool(pindb, { pg })
const port = async (sql) => (await pool.query(sql)).rows[0]?.port ?? 'no row'
// Its own unit of work: its pin ends with it (a write outside any would warn).
await pindb.run(() => pool.query('CREATE TABLE IF NOT EXISTS pindb_package_probe (id int)'))
out.routing = await pindb.run(async () => {
  const before = await port('SELECT inet_server_port() AS port')
  await pool.query('INSERT INTO pindb_package_probe VALUES (1)')
  const after = await port('SELECT inet_server_port() AS port')
  return { before, after, pinned: pindb.isPinned('default') }
})
await pool.end()
await pindb.close()
const strict = core.createPinDb(options('strict'))
const strictPool = pgEntry.createPgPool(strict, { pg })
out.strictError = await strict.run(() => strictPool.query('INSERT INTO pindb_package_probe VALUES (2)')).then(
  () => 'no error',
  (err) => (err instanceof core.UnpinnedWriteError && err instanceof otherCore.PinDbError ? 'same classes' : 'other classes: ' + err),
)
await strictPool.end()
await strict.close()
console.log(JSON.stringify(out))
${format === 'esm' ? '' : '})().catch((err) => { console.error(err); process.exit(1) })'}
`

/** One TypeScript consumer setup: compiler options and the files it checks. */
interface TsCase {
  name: string
  options: Record<string, unknown>
  files: string[]
}

/** A consumer file importing every entry, failing to compile if any resolves to `any` or untyped. */
const consumer = (kind: 'esm' | 'cjs'): string => {
  const lines = ['type IsAny<T> = 0 extends 1 & T ? true : false']
  entries.forEach((name, i) => {
    lines.push(`import * as e${i} from '${name}'`)
    lines.push(`export const typed${i}: IsAny<typeof e${i}> = false`)
  })
  lines.push(`import { createPinDb, PinDb, PinDbError } from 'pindb'`)
  lines.push(`import { createPgPool } from 'pindb/pg'`)
  lines.push(`export const pindb: PinDb<object> = createPinDb({ primaries: { default: {} }, replicas: { default: [] } })`)
  lines.push(`export const pools: typeof createPgPool = createPgPool`)
  lines.push(`export const routes: string = pindb.dbForRead()`)
  lines.push(`export const isError = (e: unknown): boolean => e instanceof PinDbError`)
  lines.push(`// @ts-expect-error: a typo in a name must be an error (the types are real, not any)`)
  lines.push(`export { notAnExport } from 'pindb'`)
  lines.push(`export const kind = '${kind}'`)
  return `${lines.join('\n')}\n`
}

const TS_CASES: TsCase[] = [
  { name: 'nodenext (ESM and CommonJS files)', options: { module: 'nodenext', moduleResolution: 'nodenext' }, files: ['esm.mts', 'cjs.cts'] },
  { name: 'moduleResolution node16 + module node20 (ESM and CommonJS files)', options: { module: 'node20', moduleResolution: 'node16' }, files: ['esm.mts', 'cjs.cts'] },
  { name: 'node16 (ESM files)', options: { module: 'node16', moduleResolution: 'node16' }, files: ['esm.mts'] },
  { name: 'bundler', options: { module: 'esnext', moduleResolution: 'bundler' }, files: ['app.ts'] },
  // NestJS's generated tsconfig: CommonJS output, node10 resolution (no `exports`: typesVersions).
  {
    name: 'commonjs + node10 (NestJS defaults)',
    options: { module: 'commonjs', moduleResolution: 'node10', target: 'ES2021', experimentalDecorators: true, emitDecoratorMetadata: true, ignoreDeprecations: '5.0' },
    files: ['app.ts'],
  },
]

describe('package: npm pack → lint → install → import and require', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pindb-pack-'))
    // In a child process: the build takes a while, and a blocked worker times out Vitest's RPC.
    tarball = process.env['PINDB_PACKAGE_TARBALL'] ?? (await run(process.execPath, [join(root, 'scripts', 'build-package.mjs'), join(work, 'tarball')], { cwd: root })).stdout.trim().split('\n').at(-1)!
    files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f !== '')
      .map((f) => f.replace(/^package\//, ''))
    project = join(work, 'consumer')
    execFileSync('mkdir', ['-p', project])
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: project })
    writeFileSync(join(project, 'probe.mjs'), probe('esm'))
    writeFileSync(join(project, 'probe.cjs'), probe('cjs'))
    for (const file of ['esm.mts', 'cjs.cts', 'app.ts']) writeFileSync(join(project, file), consumer(file === 'cjs.cts' ? 'cjs' : 'esm'))
  }, 300_000)

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true })
  })

  it.skipIf(!STATIC_CHECKS)('ships every export target, src/ for the source maps, LICENSE and README — and no tests, benchmarks or scripts', () => {
    for (const [key, value] of Object.entries(pkg.exports)) {
      const targets = typeof value === 'string' ? [value] : [value.types, value.default]
      for (const target of targets) {
        expect(target, key).toBeDefined()
        expect(files, key).toContain(target!.slice(2))
      }
    }
    for (const file of ['package.json', 'README.md', 'LICENSE', 'src/index.ts', 'dist/cli/index.js']) expect(files).toContain(file)
    expect(files.filter((f) => /^(test|bench|scripts|docs|demo|node_modules)\//.test(f))).toEqual([])
    expect(readFileSync(join(project, 'node_modules', 'pindb', 'LICENSE'), 'utf8')).toContain('Copyright (c) 2026 the pindb authors')
  })

  it.skipIf(!STATIC_CHECKS)('every shipped source map resolves: its sources are in the tarball, and each .js / .d.ts names a shipped map', () => {
    const maps = files.filter((f) => f.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(10)
    const missing: string[] = []
    for (const map of maps) {
      const json = JSON.parse(readFileSync(join(project, 'node_modules', 'pindb', map), 'utf8')) as { sources: string[]; sourceRoot?: string }
      expect(json.sources.length, map).toBeGreaterThan(0)
      for (const source of json.sources) {
        const resolved = posix.normalize(posix.join(posix.dirname(map), json.sourceRoot ?? '', source))
        if (!files.includes(resolved)) missing.push(`${map} → ${source}`)
      }
    }
    for (const file of files.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
      const text = readFileSync(join(project, 'node_modules', 'pindb', file), 'utf8')
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1]
      if (url !== undefined && !files.includes(posix.join(posix.dirname(file), url))) missing.push(`${file} → ${url}`)
    }
    expect(missing).toEqual([])
  })

  it.skipIf(!STATIC_CHECKS)('package.json: types then default for every subpath (no import-only condition), typesVersions mirrors exports, sideEffects false, engines', () => {
    const mirrored: Record<string, string[]> = {}
    for (const key of subpaths) {
      const value = pkg.exports[key]
      expect(typeof value === 'object' && Object.keys(value), key).toEqual(['types', 'default'])
      if (key !== '.' && typeof value === 'object') mirrored[key.slice(2)] = [value.types!]
    }
    expect(pkg.typesVersions).toEqual({ '*': mirrored })
    expect(pkg.sideEffects).toBe(false)
    expect(pkg.engines?.node).toBe('>=20.19.0')
  })

  it.skipIf(!STATIC_CHECKS)('publint (strict, every level down to suggestions) reports nothing', async () => {
    const { publint } = await import('publint')
    const { formatMessage } = await import('publint/utils')
    const data = readFileSync(tarball)
    const result = await publint({ pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer }, strict: true, level: 'suggestion' })
    expect(result.messages.map((m) => `${m.type} ${m.code}: ${formatMessage(m, result.pkg) ?? ''}`)).toEqual([])
  }, 120_000)

  it.skipIf(!STATIC_CHECKS)('attw (are the types wrong) finds no problem but the justified one, on every entry point', async () => {
    const cli = join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js')
    const args = [cli, tarball, '--format', 'json', '--ignore-rules', ...Object.values(ATTW_IGNORED)]
    const { stdout } = await run(process.execPath, args, { cwd: work, maxBuffer: 64 * 1024 * 1024 }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`attw failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`)
    })
    const report = JSON.parse(stdout) as { analysis: { entrypoints: Record<string, unknown> }; problems: Record<string, unknown[]> }
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(Object.keys(pkg.exports).sort())
    expect(Object.keys(report.problems).filter((kind) => !(kind in ATTW_IGNORED))).toEqual([])
  }, 180_000)

  it.each(MAJORS)('Node %i imports and requires every entry point without optional peers — one copy of every module', async (major) => {
    const bin = await nodeBinary(major)
    const { primary, replicas } = testbed().pg
    const env = {
      ...process.env,
      PROBE_PG_MODULE: join(root, 'node_modules', 'pg'),
      PROBE_PG_NODES: JSON.stringify({ primary, replica: replicas[0].port }),
    }
    for (const format of ['esm', 'cjs'] as const) {
      const { stdout, stderr } = await run(bin, [format === 'esm' ? 'probe.mjs' : 'probe.cjs'], { cwd: project, env })
      const result = JSON.parse(stdout) as {
        node: string
        keys: Record<string, string[]>
        mismatched: string[]
        errors: string[]
        routing: unknown
        strictError: string
      }
      expect(result.node.startsWith(`v${major}.`)).toBe(true)
      expect(result.errors, format).toEqual([])
      expect(stderr, `${format}: require(esm) must not warn`).toBe('')
      expect(Object.keys(result.keys).sort()).toEqual([...entries].sort())
      for (const [name, keys] of Object.entries(result.keys)) expect(keys.length, name).toBeGreaterThan(0)
      expect(result.keys['pindb']).toEqual(expect.arrayContaining(['createPinDb', 'PinDb', 'populateReplicas', 'PinDbError', 'PinDbConfigError', 'UnpinnedWriteError']))
      expect(result.keys['pindb/pg']).toEqual(expect.arrayContaining(['createPgPool']))
      expect(result.keys['pindb/mysql2']).toEqual(expect.arrayContaining(['createMysqlPool']))
      expect(result.mismatched, `${format}: import and require must give the same objects`).toEqual([])
      expect(result.routing, format).toEqual({ before: replicas[0].port, after: primary.port, pinned: true })
      expect(result.strictError, format).toBe('same classes')
    }
  }, 300_000)

  it.skipIf(!STATIC_CHECKS).each(TS_CASES)('TypeScript consumers get the types: $name', async ({ options, files: checked }) => {
    const tsconfig = join(project, 'tsconfig.json')
    const compilerOptions = { strict: true, noEmit: true, skipLibCheck: true, target: 'ES2022', types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], ...options }
    writeFileSync(tsconfig, JSON.stringify({ compilerOptions, files: checked }))
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const result = await run(process.execPath, [tsc, '-p', tsconfig], { cwd: project }).then(
      () => '',
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    )
    expect(result).toBe('')
  }, 120_000)

  it('installs a working `pindb` bin (--help, and --version reads the installed package.json)', async () => {
    const bin = join(project, 'node_modules', '.bin', 'pindb')
    // `#!/usr/bin/env node`: this line's node first on PATH.
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` }
    const help = await run(bin, ['--help'], { cwd: project, env })
    expect(help.stdout).toMatch(/^pindb — /)
    expect(help.stdout).toContain('Usage:')
    const version = await run(bin, ['--version'], { cwd: project, env })
    expect(version.stdout.trim()).toBe(pkg.version)
    expect(dirname(bin)).toBe(join(project, 'node_modules', '.bin'))
  }, 60_000)
})
