/**
 * A tiny Express 5 notes API over an ORM, with `pindb/express` mounted: `POST /notes/:body`
 * writes through the ORM (and so sets the pin cookie), `GET /notes/:body` counts through the ORM
 * and reports which server answered.
 */
import type { AddressInfo } from 'node:net'
import express from 'express'
import { expect } from 'vitest'
import { pinDbExpress } from '../../src/express/index.js'
import type { PinDb } from '../../src/index.js'
import type { OrmOps } from './matrix.js'

const SECRET = 'orm-matrix-secret-0123456789-abcdefghijklmnop'
const REQUEST_TIMEOUT_MS = 10_000

/** The running app. */
export interface NotesApp {
  /** Creates a note; returns the `pindb=…` cookie pair the response set. */
  create(body: string): Promise<string>
  /** Reads the note count (and the answering port), with or without a cookie. */
  read(body: string, cookie?: string): Promise<{ n: number; port: number }>
  close(): Promise<void>
}

/** Starts the app on a loopback ephemeral port. */
export async function startNotesApp(pindb: PinDb, orm: OrmOps): Promise<NotesApp> {
  const app = express()
  app.use(pinDbExpress(pindb, { secrets: [SECRET] }))
  app.post('/notes/:body', async (req, res) => {
    await orm.insert(req.params.body)
    res.status(201).end()
  })
  app.get('/notes/:body', async (req, res) => {
    res.json({ n: await orm.count(req.params.body), port: await orm.rawPort() })
  })
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)))
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const call = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  return {
    async create(body) {
      const response = await call(`/notes/${encodeURIComponent(body)}`, { method: 'POST' })
      expect(response.status).toBe(201)
      const cookies = response.headers.getSetCookie().filter((c) => c.startsWith('pindb='))
      expect(cookies).toHaveLength(1)
      return cookies[0]!.split(';')[0]!
    },
    async read(body, cookie) {
      const response = await call(`/notes/${encodeURIComponent(body)}`, cookie === undefined ? {} : { headers: { cookie } })
      expect(response.status).toBe(200)
      return (await response.json()) as { n: number; port: number }
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
