/**
 * The README's Quick start compiles as written against this package (strict TypeScript, the
 * package's own subpath imports resolved to `src/`), so the documented API cannot drift from the
 * code. It is type-checked, not run: its hosts are placeholders for the reader's servers.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')

function quickStart(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Quick start'))
  const match = /```ts\n([\s\S]*?)```/.exec(section)
  if (match === null) throw new Error('no ```ts block under "## Quick start"')
  return match[1]!
}

describe('README', () => {
  it('the Quick start type-checks as written', () => {
    const code = quickStart()
    expect(code).toContain("from 'pindb'")
    // Inside the repo's node_modules so that `pg`, `express` and their typings resolve normally.
    const cache = join(root, 'node_modules', '.cache')
    mkdirSync(cache, { recursive: true })
    const dir = mkdtempSync(join(cache, 'pindb-readme-'))
    try {
      writeFileSync(join(dir, 'quick-start.ts'), code)
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true,
          noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, noEmit: true, skipLibCheck: true,
          types: ['node'],
          paths: {
            'pindb': [join(root, 'src', 'index.ts')],
            'pindb/*': [join(root, 'src', '*', 'index.ts')],
          },
        },
        files: ['quick-start.ts'],
      }))
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
      let output = ''
      try {
        execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' })
      } catch (err) {
        output = String((err as { stdout?: string }).stdout ?? err)
      }
      expect(output).toBe('')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
