#!/usr/bin/env node
/**
 * Builds and packs pindb in a private staging directory — never in the working tree's `dist/` —
 * and prints the tarball's path. The package test and `scripts/test.mjs` use it, so a test run
 * never races another process (an editor's build, a benchmark, another test line) writing
 * `dist/`, and the tarball is exactly what `npm pack` makes of the current sources.
 *
 *   node scripts/build-package.mjs [destination-dir] [--install-dist]   # prints the .tgz path
 *
 * The staging directory holds copies of what the build and `npm pack` read (package.json,
 * README.md, LICENSE, the tsconfigs, src/) and a symlink to the repository's node_modules (for
 * `typescript` and `@types/node`). `npm pack --ignore-scripts`: the build already ran.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const COPIED = ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'src']

/**
 * Builds (`tsc -p tsconfig.build.json`) and packs into `destination` (a new temp dir by default).
 * Returns `{ tarball, diagnostics }`: the tarball's absolute path and tsc's error output ('' when
 * clean). Type errors do not stop the pack when tsc still emitted every file (it does, like
 * `bench/lib/build.mjs` relies on): the type-check reports them; the package is tested anyway.
 * Throws when tsc emitted nothing usable. `{ installDist: true }` also replaces the working tree's
 * `dist/` with this build (what `npm run build` would write), for the benchmarks and the demo.
 */
export function buildPackage(destination = mkdtempSync(join(tmpdir(), 'pindb-tarball-')), { installDist = false } = {}) {
  const stage = mkdtempSync(join(tmpdir(), 'pindb-stage-'))
  try {
    for (const name of COPIED) cpSync(join(ROOT, name), join(stage, name), { recursive: true })
    symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir')
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: stage,
      encoding: 'utf8',
    })
    const diagnostics = tsc.status === 0 ? '' : `${tsc.stdout}${tsc.stderr}`
    if (tsc.status !== 0 && !existsSync(join(stage, 'dist', 'index.js'))) {
      throw new Error(`[pindb] [build] \`tsc -p tsconfig.build.json\` emitted no dist/index.js:\n${diagnostics}`)
    }
    mkdirSync(destination, { recursive: true })
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', resolve(destination)], {
      cwd: stage,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const [first] = JSON.parse(out)
    if (installDist) {
      rmSync(join(ROOT, 'dist'), { recursive: true, force: true })
      cpSync(join(stage, 'dist'), join(ROOT, 'dist'), { recursive: true })
    }
    return { tarball: join(resolve(destination), first.filename), diagnostics }
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const { tarball, diagnostics } = buildPackage(args.find((a) => !a.startsWith('--')), { installDist: args.includes('--install-dist') })
  if (diagnostics !== '') process.stderr.write(`warning: the build reported type errors (packed what tsc emitted):\n${diagnostics}`)
  console.log(tarball)
}
