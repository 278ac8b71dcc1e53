#!/usr/bin/env node
/**
 * Benchmark: statements per second of pindb's `classifySql` vs libpg-query's `parseSync` (the
 * real PostgreSQL parser, WASM) over the same generated corpus (test/support/sql-corpus.ts),
 * in the same process: warm-up, then several alternating rounds; reports ops/s for both
 * (median of the rounds) and the ratio.
 *
 *   node bench/sql-classify.bench.mjs [--rounds 7] [--seconds 1]
 *
 * The TypeScript sources (src/sql/*.ts and the corpus generator) are transpiled in-process
 * with the `typescript` dev dependency into a temporary directory and run as plain
 * JavaScript, exactly as the published build runs them — no build step, no vite-node
 * transform in the measured code.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'
import { loadModule, parseSync } from 'libpg-query'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback
}
// Quick mode (PINDB_BENCH_QUICK=1; test/integration/bench-commands.test.ts): one short round.
const QUICK = process.env.PINDB_BENCH_QUICK === '1'
const ROUNDS = arg('rounds', QUICK ? 1 : 7)
const SECONDS = arg('seconds', QUICK ? 0.05 : 1)

/**
 * Transpiles src/sql/*.ts and the corpus generator — with the test/support modules it imports
 * (`./rng.js`, …), followed transitively — into a temp dir; returns their module URLs.
 */
function transpile() {
  const out = mkdtempSync(join(tmpdir(), 'pindb-sql-bench-'))
  const compile = (from, to) => {
    const js = ts.transpileModule(readFileSync(from, 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
    }).outputText
    mkdirSync(dirname(to), { recursive: true })
    writeFileSync(to, js)
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}')
  for (const file of readdirSync(join(root, 'src/sql'))) {
    if (file.endsWith('.ts')) compile(join(root, 'src/sql', file), join(out, 'sql', file.replace(/\.ts$/, '.js')))
  }
  // The corpus and its relative imports (a missed one crashed this script: ERR_MODULE_NOT_FOUND rng.js).
  const pending = ['sql-corpus.ts']
  for (const done = new Set(); pending.length > 0; ) {
    const file = pending.pop()
    if (done.has(file)) continue
    done.add(file)
    const source = readFileSync(join(root, 'test/support', file), 'utf8')
    for (const m of source.matchAll(/from '\.\/([\w-]+)\.js'/g)) pending.push(`${m[1]}.ts`)
    compile(join(root, 'test/support', file), join(out, file.replace(/\.ts$/, '.js')))
  }
  return { out, sql: pathToFileURL(join(out, 'sql/index.js')).href, corpus: pathToFileURL(join(out, 'sql-corpus.js')).href }
}

const built = transpile()
const { classifySql } = await import(built.sql)
const { generateSqlCorpus, CORPUS_WRITE_FUNCTIONS } = await import(built.corpus)
rmSync(built.out, { recursive: true, force: true })
await loadModule()

const corpus = generateSqlCorpus()
const options = { dialect: 'postgres', writeFunctions: CORPUS_WRITE_FUNCTIONS }
let sink = 0

const classifyPass = () => {
  for (let i = 0; i < corpus.length; i++) sink += classifySql(corpus[i], options).reason.length
}
const parsePass = () => {
  for (let i = 0; i < corpus.length; i++) {
    try {
      sink += parseSync(corpus[i]).stmts.length
    } catch {
      sink++
    }
  }
}

/** Reference point, not a classifier: read every character of the corpus once with `charCodeAt`. */
const charPass = () => {
  for (let i = 0; i < corpus.length; i++) {
    const sql = corpus[i]
    let h = 0
    for (let j = 0; j < sql.length; j++) h = (h + sql.charCodeAt(j)) | 0
    sink = (sink + h) | 0
  }
}

/** Runs whole passes over the corpus for at least `seconds`; returns statements per second. */
function measure(pass, seconds) {
  let statements = 0
  const start = process.hrtime.bigint()
  const budget = BigInt(Math.round(seconds * 1e9))
  let elapsed = 0n
  do {
    pass()
    statements += corpus.length
    elapsed = process.hrtime.bigint() - start
  } while (elapsed < budget)
  return statements / (Number(elapsed) / 1e9)
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const fmt = (n) => Math.round(n).toLocaleString('en-US')

const chars = corpus.reduce((n, s) => n + s.length, 0)
console.log(`corpus: ${corpus.length} statements, ${(chars / corpus.length).toFixed(0)} characters on average`)
console.log(`node ${process.version}, ${ROUNDS} rounds of ${SECONDS}s per side after warm-up`)

// Warm-up: let all reach their optimised steady state.
measure(classifyPass, SECONDS)
measure(parsePass, SECONDS)
measure(charPass, SECONDS / 4)

const classifyRates = []
const parseRates = []
const charRates = []
for (let round = 1; round <= ROUNDS; round++) {
  const c = measure(classifyPass, SECONDS)
  const p = measure(parsePass, SECONDS)
  const r = measure(charPass, SECONDS / 4)
  classifyRates.push(c)
  parseRates.push(p)
  charRates.push(r)
  console.log(`round ${round}: classifySql ${fmt(c)} stmt/s, parseSync ${fmt(p)} stmt/s, ratio ${(c / p).toFixed(1)}x`)
}

const c = median(classifyRates)
const p = median(parseRates)
const r = median(charRates)
console.log('')
console.log('| | statements/s (median) | µs/statement | vs `parseSync` |')
console.log('|---|---:|---:|---:|')
console.log(`| pindb \`classifySql\` | ${fmt(c)} | ${(1e6 / c).toFixed(2)} | **${(c / p).toFixed(1)}×** |`)
console.log(`| libpg-query \`parseSync\` | ${fmt(p)} | ${(1e6 / p).toFixed(2)} | 1× |`)
console.log(`| reference: one \`charCodeAt\` pass over the text | ${fmt(r)} | ${(1e6 / r).toFixed(2)} | ${(r / p).toFixed(0)}× |`)
if (sink === 0) console.log('(unreachable)')
