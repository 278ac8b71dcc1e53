/**
 * Regression: "credentials in logs". `console.log(pindb.databases)`, `util.inspect(pindb, { depth: 5 })`
 * and `JSON.stringify(pindb.databases)` printed the database password — twice, since every config
 * was stored as given and copied into each replica's config — and SSL keys and connection-string
 * passwords too. They now print `[redacted]`, while reading a property (what drivers do) still
 * gives the real value. The real-driver half of this is test/integration/secrets.test.ts.
 */
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { createPinDb } from '../../src/index.js'
import { REDACTED, hideSecrets, isSecretKey, redact, redactConnectionString } from '../../src/secrets.js'

const PASSWORD = 'hunter2-Secret-Pw'
const KEY = '-----BEGIN PRIVATE KEY-----MIIEvQ'
const PFX = 'pfx-bytes-Secret'
const PASSPHRASE = 'ssl-Passphrase-Secret'
const URL_PW = 'url-Pw-Secret'
const SECRETS = [PASSWORD, KEY, PFX, PASSPHRASE, URL_PW]

function config(): Record<string, unknown> {
  return {
    host: 'db-primary',
    user: 'app',
    password: PASSWORD,
    ssl: { rejectUnauthorized: true, ca: 'public-ca', key: KEY, pfx: PFX, passphrase: PASSPHRASE },
  }
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret)
}

describe('regression: credentials in logs (pindb.databases, util.inspect(pindb))', () => {
  const primary = config()
  const pindb = createPinDb({
    primaries: { default: primary, other: { connectionString: `postgres://app:${URL_PW}@db/app?sslmode=require` } },
    replicas: { default: [{ host: 'r1' }, { host: 'r2', password: PASSWORD }], other: [{ host: 'r3' }] },
  })

  it('console.log / util.inspect of pindb.databases shows no secret (it printed the password for every alias)', () => {
    const text = inspect(pindb.databases, { depth: 10 })
    expectNoSecret(text)
    expect(text).toContain(REDACTED)
    expect(text).toContain('db-primary')
    expect(text).toContain('public-ca')
    expect(text).toContain(`postgres://app:${REDACTED}@db/app?sslmode=require`)
  })

  it('util.inspect(pindb, { depth: 5 }) and with showHidden show no secret', () => {
    expectNoSecret(inspect(pindb, { depth: 5 }))
    expectNoSecret(inspect(pindb, { depth: 10, showHidden: true }))
    expectNoSecret(inspect(pindb.topology, { depth: Number.POSITIVE_INFINITY }))
  })

  it('JSON.stringify of pindb.databases, of one config and of pindb shows no secret', () => {
    const json = JSON.stringify(pindb.databases)
    expectNoSecret(json)
    expect(JSON.parse(json)).toMatchObject({ 'default-1': { host: 'r2', password: REDACTED, user: 'app', ssl: { key: REDACTED, ca: 'public-ca' } } })
    expectNoSecret(JSON.stringify(pindb.databases['default-0']))
    expectNoSecret(JSON.stringify(pindb))
  })

  it('drivers still read the real values: properties, spread copies and Object.entries are untouched', () => {
    const replica = pindb.databases['default-0'] as Record<string, unknown>
    expect(replica['password']).toBe(PASSWORD)
    expect((replica['ssl'] as Record<string, unknown>)['key']).toBe(KEY)
    expect({ ...replica }).toMatchObject({ host: 'r1', password: PASSWORD })
    expect(Object.fromEntries(Object.entries(replica))).toMatchObject({ password: PASSWORD })
    expect(Object.keys(replica)).toEqual(['host', 'user', 'password', 'ssl'])
    expect((pindb.databases['other'] as Record<string, unknown>)['connectionString']).toBe(`postgres://app:${URL_PW}@db/app?sslmode=require`)
  })

  it("the user's config object is not modified", () => {
    expect(inspect(primary)).toContain(PASSWORD)
    expect(Object.getOwnPropertySymbols(primary)).toEqual([])
    expect('toJSON' in primary).toBe(false)
  })

  it('a non-enumerable password given by the user (e.g. copied from pg-pool options) is kept', () => {
    const given = { host: 'p' }
    Object.defineProperty(given, 'password', { value: PASSWORD, enumerable: false })
    const db = createPinDb({ primaries: { default: given }, replicas: { default: [{ host: 'r' }] } })
    expect((db.databases['default'] as Record<string, unknown>)['password']).toBe(PASSWORD)
    expect((db.databases['default-0'] as Record<string, unknown>)['password']).toBe(PASSWORD)
  })
})

describe('redact / hideSecrets / redactConnectionString', () => {
  it('recognises secret field names', () => {
    for (const k of ['password', 'PASSWORD', 'passphrase', 'passwordSha1', 'secret', 'clientSecret', 'token', 'accessToken', 'key', 'pfx', 'privateKey', 'apiKey', 'credentials', 'sslpassword']) {
      expect(isSecretKey(k), k).toBe(true)
    }
    for (const k of ['host', 'user', 'ca', 'cert', 'database', 'port', 'keepAlive', 'keys', 'monkey']) expect(isSecretKey(k), k).toBe(false)
  })

  it('redacts connection strings: URL userinfo, query and libpq key=value passwords', () => {
    expect(redactConnectionString('postgres://app:pw@db:5432/app')).toBe(`postgres://app:${REDACTED}@db:5432/app`)
    expect(redactConnectionString('mysql://root:p%40ss@127.0.0.1/x')).toBe(`mysql://root:${REDACTED}@127.0.0.1/x`)
    expect(redactConnectionString('postgres://db/app?user=a&password=pw&sslmode=require')).toBe(`postgres://db/app?user=a&password=${REDACTED}&sslmode=require`)
    expect(redactConnectionString("host=db password='p w' user=a")).toBe(`host=db password=${REDACTED} user=a`)
    expect(redactConnectionString('postgres://app@db/app')).toBe('postgres://app@db/app')
  })

  it('redact copies deeply, keeps non-secrets, survives cycles, redacts password functions', () => {
    const cyclic: Record<string, unknown> = { password: 'x', nested: { token: 't', list: [{ secret: 's', ok: 1 }] }, fn: () => 1, password2: async () => 'pw' }
    cyclic['self'] = cyclic
    const out = redact(cyclic) as Record<string, unknown>
    expect(out).toMatchObject({ password: REDACTED, nested: { token: REDACTED, list: [{ secret: REDACTED, ok: 1 }] }, password2: REDACTED })
    expect(out['self']).toBe('[…]')
    expect(cyclic['password']).toBe('x')
    expect(redact({ password: '' })).toEqual({ password: '' })
  })

  it('hideSecrets protects inspect and JSON in place, is idempotent, and skips frozen objects', () => {
    const obj = hideSecrets({ password: 'pw', host: 'h' })
    expect(hideSecrets(obj)).toBe(obj)
    expect(inspect(obj)).toBe(`{ password: '${REDACTED}', host: 'h' }`)
    expect(JSON.stringify({ db: obj })).toBe(`{"db":{"password":"${REDACTED}","host":"h"}}`)
    expect(obj.password).toBe('pw')
    const frozen = Object.freeze({ password: 'pw' })
    expect(hideSecrets(frozen)).toBe(frozen)
  })
})
