#!/usr/bin/env node
// Runs `npm ci` when the locked dependencies are not installed yet, so that `npm run demo` works
// on a fresh clone. Uses only Node built-ins (nothing else is installed at this point).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.log('» installing dependencies (npm ci)')
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}
