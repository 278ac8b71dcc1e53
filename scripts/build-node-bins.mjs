#!/usr/bin/env node
/**
 * Node.js binaries of other major versions, for the test command's Node lines and the package
 * test: installed from the npm registry (the `node-<platform>-<arch>` packages that the `node`
 * package itself installs) into a cache OUTSIDE the repository, once per major, with nothing
 * installed by hand — so `.ci/run` works on a fresh machine.
 *
 *   node scripts/build-node-bins.mjs 22 24 26     # installs what is missing, prints the paths
 *
 * Cache: $PINDB_NODE_CACHE, else $XDG_CACHE_HOME/pindb/node-bins, else ~/.cache/pindb/node-bins;
 * one directory per major. A cached major is reused as is (delete its directory to get the
 * newest release of that major). Installs go to a temporary directory renamed into place, so two
 * processes installing the same major at once both end up with one complete copy.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

/** The major version of the Node.js running this script. */
export const HOST_MAJOR = Number(process.versions.node.split('.')[0])

/** The cache directory of the binaries (see the header). */
export function nodeCacheDir() {
  if (process.env.PINDB_NODE_CACHE) return resolve(process.env.PINDB_NODE_CACHE)
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(base, 'pindb', 'node-bins')
}

const packageName = `node-${process.platform}-${process.arch}`
const binIn = (dir) => join(dir, 'node_modules', packageName, 'bin', 'node')

/**
 * The path of a `node` binary of `major`: this process's own for the host major, else the cached
 * (or now installed) registry binary. Rejects with a message naming the fix when npm fails.
 */
export async function nodeBinary(major) {
  if (major === HOST_MAJOR) return process.execPath
  const dir = join(nodeCacheDir(), String(major))
  if (existsSync(binIn(dir))) return binIn(dir)
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
  mkdirSync(tmp, { recursive: true })
  try {
    await promisify(execFile)('npm', ['install', '--prefix', tmp, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', `${packageName}@${major}`], {
      cwd: tmp,
      maxBuffer: 16 * 1024 * 1024,
    })
    if (!existsSync(binIn(tmp))) throw new Error(`the package installed no ${binIn(tmp)}`)
    try {
      renameSync(tmp, dir)
    } catch (err) {
      // Another process installed the same major first: use its copy.
      if (!existsSync(binIn(dir))) throw err
    }
  } catch (err) {
    throw new Error(
      `[pindb] [node-bins] could not install ${packageName}@${major} from the npm registry into ${dir}: ${err instanceof Error ? err.message : String(err)}\n` +
        'Check network access to the registry, or restrict the Node lines with PINDB_NODE_LINES=current.',
      { cause: err },
    )
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  return binIn(dir)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const major of process.argv.slice(2).map(Number)) console.log(`${major}\t${await nodeBinary(major)}`)
}
