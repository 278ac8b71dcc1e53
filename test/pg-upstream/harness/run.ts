/**
 * Runs node-postgres's own pool tests (vendored in `test/pg-upstream/`, MIT, see `../LICENSE`) with
 * mocha, programmatically, against pindb's routed pool over the PostgreSQL test bed (primary + 2
 * streaming replicas), or — `mode: 'plain'` — against a plain `pg.Pool` for the baseline.
 *
 * Adaptations, all mechanical (test bodies are unchanged):
 * 1. requires/imports rewritten: pg-pool's `require('../')` / `('..')` / `('../index')` →
 *    `../harness/pool.cjs`; `require('pg')` / `from 'pg'` → `../harness/pg.cjs`; pg-cursor's
 *    `require('../')` → `require('pg-cursor')`; pg-query-stream's `from '../src'` →
 *    `from 'pg-query-stream'` (the installed packages); `require('lodash')` → `../harness/lodash.cjs`
 *    (only `_.times`); pg-query-stream's `from './helper'` → `'./helper.ts'`.
 * 2. pg-query-stream's TypeScript tests: a `// @ts-nocheck` line on top; at load time their types are
 *    stripped by `typescript.transpileModule` (CommonJS, esModuleInterop, as upstream's ts-node did).
 * 3. pg-pool's `test/setup.js` (it exits the process on an unhandled rejection) is not vendored:
 *    Vitest reports unhandled errors itself.
 * 4. Each test body and hook runs as one unit of work: `pindb.run(() => fn.call(this, done?))`,
 *    with the same arity, so mocha still sees `done` tests as async.
 * 5. `pg-pool/idle-timeout-exit.js` is renamed `.cjs` (this package is `"type": "module"`; the test forks
 *    it as a script), and `idle-timeout.js` forks it by that name; the child preloads
 *    `child-register.mjs` (through `NODE_OPTIONS`) to get the same Pool.
 * 6. The environment: `PGHOST`/`PGPORT`/`PGUSER`/`PGDATABASE` name the primary, for tests that
 *    build their own client; mocha's per-test timeout is 15 s (upstream: 2 s; a forked child that
 *    loads pindb's sources takes ~5 s on this shared, loaded machine), 3 s for known pindb defects.
 *
 * Routed mode: `pg` is `createPgModule(pindb, { pg })` — its `new Pool(opts)` is the pool that
 * `createPgPool(pindb, { pg, ...opts })` makes; its `Client` is pindb's logical client.
 *
 * @module
 */
import Module, { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { exclusionsFor, knownDefectsFor } from './exclusions.js'
import { installState, setPgEnv, type HarnessState, type UpstreamMode } from './state.js'

export { exclusionsFor, knownDefectsFor } from './exclusions.js'

export type { UpstreamMode } from './state.js'

/** The vendored files, relative to `test/pg-upstream/`, in the order they run. */
export const UPSTREAM_FILES = [
  ...['connection-strings', 'connection-timeout', 'ending', 'error-handling', 'events', 'idle-timeout',
    'index', 'lifecycle-hooks', 'lifetime-timeout', 'logging', 'max-uses', 'releasing-clients', 'sizing',
    'submittable', 'verify'].map((f) => `pg-pool/${f}.js`),
  'pg-cursor/pool.js',
  'pg-query-stream/pool.ts',
  'pg-query-stream/async-iterator.ts',
  'pg-query-stream/error.ts',
] as const

/** The outcome of one vendored file, by mocha full title. */
export interface FileReport {
  readonly passed: string[]
  readonly failed: { title: string; error: unknown }[]
  readonly excluded: string[]
}

/** One loaded (not yet run) vendored file. */
export interface LoadedFile {
  /** Full titles of all its tests, in order. */
  readonly titles: readonly string[]
  /** Tests that upstream itself leaves pending (`it(title, false, fn)`): they never run. */
  readonly pendingUpstream: readonly string[]
  /** Runs its tests once (excluded ones are skipped), then ends every pool it left open. */
  run(): Promise<FileReport>
}

// Structural types of the parts of mocha the harness uses (mocha ships no types).
type Fn = (this: unknown, ...args: unknown[]) => unknown
interface MochaRunnable { fn: Fn | undefined; title: string; pending: boolean; fullTitle(): string; timeout(ms: number): void }
interface MochaSuite {
  suites: MochaSuite[]
  tests: MochaRunnable[]
  _beforeAll: MochaRunnable[]
  _beforeEach: MochaRunnable[]
  _afterEach: MochaRunnable[]
  _afterAll: MochaRunnable[]
  emit(event: string, ...args: unknown[]): boolean
}
interface MochaRunner { on(event: string, listener: (test: MochaRunnable, err?: unknown) => void): MochaRunner }
interface MochaInstance { suite: MochaSuite; run(done: (failures: number) => void): MochaRunner; dispose(): void }
type MochaCtor = new (options: Record<string, unknown>) => MochaInstance

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const requireHere = createRequire(import.meta.url)
/** mocha 12 is ESM (`require` returns its namespace); the vendored files `require('mocha')` too. */
// Newer Node lines honour the module's `module.exports` export under require(esm) and return the
// class itself; older ones return the namespace.
const mochaModule = requireHere('mocha') as MochaCtor | { default: MochaCtor }
const Mocha = typeof mochaModule === 'function' ? mochaModule : mochaModule.default
const CHILD_REGISTER = fileURLToPath(new URL('./child-register.mjs', import.meta.url))
const HARNESS_MODULES = ['./pool.cjs', './pg.cjs'].map((m) => requireHere.resolve(m))
const PER_TEST_TIMEOUT_MS = 15_000
/** Known pindb defects hang until mocha's timeout: keep that short. */
const KNOWN_DEFECT_TIMEOUT_MS = 3_000
/** Exports of the vendored modules loaded for the current file, by file name. */
const tsCache = new Map<string, unknown>()

/** Loads a vendored module: `.ts` files have their types stripped; `.ts` imports load the same way. */
function loadModule(filename: string): void {
  const source = readFileSync(filename, 'utf8')
  const code = filename.endsWith('.ts')
    ? ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText
    : source
  const mod = new Module(filename) as Module & { _compile(code: string, filename: string): void; paths: string[] }
  mod.filename = filename
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(filename))
  const nativeRequire = mod.require.bind(mod)
  mod.require = ((id: string) => {
    if (id.startsWith('.') && id.endsWith('.ts')) {
      const target = resolve(dirname(filename), id)
      const cached = tsCache.get(target)
      if (cached !== undefined) return cached
      loadModule(target)
      return tsCache.get(target)
    }
    return nativeRequire(id)
  }) as NodeJS.Require
  mod._compile(code, filename)
  tsCache.set(filename, mod.exports)
}

function allSuites(suite: MochaSuite): MochaSuite[] {
  return [suite, ...suite.suites.flatMap(allSuites)]
}

/** Wraps a test or hook body so it runs as one pindb unit of work, keeping its arity (`done`). */
function asUnitOfWork(pindb: { run<T>(fn: () => T): T }, fn: Fn): Fn {
  return fn.length > 0
    ? function (this: unknown, done: unknown) { return pindb.run(() => fn.call(this, done)) }
    : function (this: unknown) { return pindb.run(() => fn.call(this)) }
}

/**
 * Lists the tests of one vendored file (loads it, runs nothing). For Vitest's collection phase.
 */
export async function listUpstreamTests(file: string, mode: UpstreamMode): Promise<Pick<LoadedFile, 'titles' | 'pendingUpstream'>> {
  const { titles, pendingUpstream, state } = load(file, mode)
  await state.close()
  return { titles, pendingUpstream }
}

/**
 * Loads one vendored file into a fresh mocha instance (nothing runs yet). The harness state (which
 * `Pool`) is set here, and some tests `require('pg')` in their body: load and run one file before
 * loading the next.
 */
export function loadUpstreamFile(file: string, mode: UpstreamMode): LoadedFile {
  const { titles, pendingUpstream, run } = load(file, mode)
  return { titles, pendingUpstream, run }
}

function load(file: string, mode: UpstreamMode): LoadedFile & { state: HarnessState } {
  setPgEnv()
  const state = installState(mode)
  for (const m of HARNESS_MODULES) delete requireHere.cache[m]
  tsCache.clear()
  const filename = resolve(ROOT, file)
  const mocha = new Mocha({ ui: 'bdd', timeout: PER_TEST_TIMEOUT_MS, reporter: function Silent() {} })
  mocha.suite.emit('pre-require', globalThis, filename, mocha)
  loadModule(filename)
  mocha.suite.emit('require', tsCache.get(filename), filename, mocha)
  mocha.suite.emit('post-require', globalThis, filename, mocha)

  const excluded = exclusionsFor(file, mode)
  const defects = knownDefectsFor(file, mode)
  const runner = state.pindb
  const titles: string[] = []
  const pendingUpstream: string[] = []
  for (const suite of allSuites(mocha.suite)) {
    for (const test of suite.tests) {
      titles.push(test.fullTitle())
      if (test.pending || test.fn === undefined) pendingUpstream.push(test.fullTitle())
      else if (test.fullTitle() in excluded) test.pending = true
      if (test.fullTitle() in defects) test.timeout(KNOWN_DEFECT_TIMEOUT_MS)
      if (runner !== undefined && test.fn !== undefined) test.fn = asUnitOfWork(runner, test.fn)
    }
    if (runner === undefined) continue
    for (const hook of [...suite._beforeAll, ...suite._beforeEach, ...suite._afterEach, ...suite._afterAll]) {
      if (hook.fn !== undefined) hook.fn = asUnitOfWork(runner, hook.fn)
    }
  }

  return {
    titles,
    pendingUpstream,
    state,
    run: () => new Promise<FileReport>((resolveRun) => {
      const report: FileReport = { passed: [], failed: [], excluded: [] }
      const restoreEnv = childEnv(mode)
      mocha.run(() => {
        restoreEnv()
        // A finished runner keeps its process-wide uncaughtException listener (the mocha CLI
        // exits instead); remove it, or the next file's stray error would hit a stopped runner.
        mocha.dispose()
        state.close().then(() => resolveRun(report), () => resolveRun(report))
      })
        .on('pass', (t) => report.passed.push(t.fullTitle()))
        .on('fail', (t, err) => report.failed.push({ title: t.fullTitle(), error: err }))
        .on('pending', (t) => {
          if (!pendingUpstream.includes(t.fullTitle())) report.excluded.push(t.fullTitle())
        })
    }),
  }
}

/**
 * While a file runs, child processes it forks (pg-pool's `idle-timeout.js`) preload
 * `child-register.mjs`, so they get the same Pool. Returns the function that restores the env.
 */
function childEnv(mode: UpstreamMode): () => void {
  const saved = { NODE_OPTIONS: process.env['NODE_OPTIONS'], PINDB_PG_UPSTREAM_MODE: process.env['PINDB_PG_UPSTREAM_MODE'] }
  process.env['NODE_OPTIONS'] = `${saved.NODE_OPTIONS ?? ''} --import=${CHILD_REGISTER}`.trim()
  process.env['PINDB_PG_UPSTREAM_MODE'] = mode
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}
