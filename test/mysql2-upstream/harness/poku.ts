/**
 * A minimal stand-in for poku (mysql2's test runner) so that mysql2's own test files run unchanged
 * inside Vitest: `describe` / `it` run their callbacks at once (as poku does) and record each test's
 * outcome under its title path; `skip` skips the rest of the file; `strict` / `assert` are Node's.
 * Titles listed as excluded by the harness are not run (see `run.ts`).
 */
import nodeAssert from 'node:assert'
import { AsyncLocalStorage } from 'node:async_hooks'

/** One test's outcome. */
export interface Outcome {
  readonly title: string
  readonly status: 'passed' | 'failed' | 'excluded'
  readonly error?: unknown
}

interface State {
  outcomes: Outcome[]
  excluded: ReadonlyMap<string, string>
}

let state: State | undefined

/** @internal Starts recording for one file. */
export function beginFile(excluded: ReadonlyMap<string, string>): void {
  state = { outcomes: [], excluded }
}

/** @internal Stops recording and returns the outcomes. */
export function endFile(): Outcome[] {
  const outcomes = state?.outcomes ?? []
  state = undefined
  return outcomes
}

/** Thrown by {@link skip}: the rest of the file does not run. */
export class SkipFile extends Error {}

type Body = () => unknown

/** The title path of the describe/it being run (poku runs sibling `it`s without awaiting them). */
const titles = new AsyncLocalStorage<readonly string[]>()

function args(a: string | Body, b?: Body): [string, Body] {
  return typeof a === 'function' ? ['(untitled)', a] : [a, b ?? (() => undefined)]
}

async function run(kind: 'describe' | 'it', a: string | Body, b?: Body): Promise<void> {
  const s = state
  if (s === undefined) throw new Error('poku shim: no file is being run')
  const [title, body] = args(a, b)
  const path = [...(titles.getStore() ?? []), title]
  const full = path.join(' > ')
  if (s.excluded.has(full)) {
    s.outcomes.push({ title: full, status: 'excluded' })
    return
  }
  try {
    await titles.run(path, body)
    if (kind === 'it') s.outcomes.push({ title: full, status: 'passed' })
  } catch (error) {
    if (error instanceof SkipFile) throw error
    s.outcomes.push({ title: full, status: 'failed', error })
  }
}

/** poku's `describe(title?, fn)`. */
export function describe(a: string | Body, b?: Body): Promise<void> {
  return run('describe', a, b)
}

/** poku's `it(title?, fn)` / `test`. */
export function it(a: string | Body, b?: Body): Promise<void> {
  return run('it', a, b)
}
export { it as test }

/** poku's `skip(reason)`: skips the rest of the file. */
export function skip(reason?: string): never {
  throw new SkipFile(reason ?? 'skipped')
}

/** poku's `strict` (node:assert/strict) and `assert` (node:assert). */
export const strict = nodeAssert.strict
export const assert = nodeAssert
