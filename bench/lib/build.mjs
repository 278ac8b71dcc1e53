/**
 * Makes sure `dist/` is usable before a benchmark or the demo imports pindb from it: runs the
 * TypeScript build when `dist/index.js` is missing or older than any file under `src/`.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs)
  }
  return newest
}

/** True when `dist/index.js` is missing or older than the newest file in `src/`. */
export function buildNeeded() {
  const index = path.join(ROOT, 'dist', 'index.js')
  if (!existsSync(index)) return true
  return statSync(index).mtimeMs < newestMtime(path.join(ROOT, 'src'))
}

/**
 * Builds when needed (`tsc -p tsconfig.build.json`, what `npm run build` runs). Type errors are
 * reported but do not stop us when tsc still emitted `dist/index.js` (tsc emits despite errors).
 * Returns a short description of what happened.
 */
export function ensureBuilt({ log = console.log } = {}) {
  if (!buildNeeded()) return 'dist/ is up to date'
  log('  building pindb (dist/ is missing or older than src/) …')
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' })
  if (result.status !== 0) {
    const lines = `${result.stdout}${result.stderr}`.trim().split('\n')
    if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) {
      throw new Error(`the build failed and produced no dist/index.js:\n${lines.slice(0, 20).join('\n')}`)
    }
    log(`  warning: the build reported ${lines.length} type error line(s); using what it emitted. First: ${lines[0]}`)
    return 'built with type errors'
  }
  return 'built'
}

/** Imports a module of the built package, e.g. `importDist('pg/index.js')`. */
export function importDist(relative) {
  return import(pathToFileURL(path.join(ROOT, 'dist', relative)).href)
}
