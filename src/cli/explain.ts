/**
 * `pindb explain`: classify one SQL statement with {@link classifySql} and turn it into a routing
 * plan with {@link planFor} — the same two steps the pg and mysql2 adapters take — and say where
 * pindb sends it.
 *
 * @internal
 * @module
 */
import { planFor, type StatementPlan } from '../adapter/statement-plan.js'
import { classifySql, type SqlClassification, type SqlDialect } from '../sql/index.js'
import { oneOf, parse, str } from './args.js'
import { EXPLAIN_HELP } from './help.js'
import { EXIT, usageError } from './types.js'

/** Where pindb routes a statement. */
export interface ExplainRoute {
  /** `transaction`: transaction control, run where the open transaction runs. */
  target: 'replica' | 'primary' | 'transaction'
  /** Greedy mode pins the DB set. */
  pinsInGreedy: boolean
  /** Strict mode throws `UnpinnedWriteError` unless the set is pinned. */
  needsPinInStrict: boolean
  /** A checked-out client stays on this connection: until the transaction ends, or until released (session state). */
  anchors: 'transaction' | 'session' | null
  /** One-line explanation. */
  description: string
}

/** What `pindb explain --json` prints. */
export interface ExplainResult {
  sql: string
  dialect: SqlDialect
  kind: 'read' | 'write'
  reason: string
  hint: SqlClassification['hint'] | null
  transaction: SqlClassification['transaction'] | null
  session: SqlClassification['session'] | null
  plan: StatementPlan
  route: ExplainRoute
}

/** Explains a classification and its plan in routing terms. */
export function describeRoute(c: SqlClassification, plan: StatementPlan): ExplainRoute {
  const anchors = plan.transaction === 'begin' || plan.transaction === 'begin-read-only' ? 'transaction' as const
    : plan.session ? 'session' as const : null
  const keep = anchors === 'session' ? '; a checked-out client then stays on that connection until released' : ''
  if (plan.transaction === 'begin') {
    return { target: 'primary', pinsInGreedy: true, needsPinInStrict: true, anchors,
      description: 'the primary, and the whole transaction runs there; it counts as a write: pins the DB set in greedy mode, needs a pin in strict mode' }
  }
  if (plan.transaction === 'begin-read-only') {
    return { target: 'replica', pinsInGreedy: false, needsPinInStrict: false, anchors,
      description: "the context's replica (the primary when the set is pinned), and the whole read-only transaction runs there" }
  }
  if (plan.transaction !== undefined) {
    return { target: 'transaction', pinsInGreedy: false, needsPinInStrict: false, anchors,
      description: `transaction control (${plan.transaction}): runs on the open transaction's server; outside a transaction, the primary without pinning${keep}` }
  }
  if (plan.intent === 'read' && plan.force === 'replica') {
    return { target: 'replica', pinsInGreedy: false, needsPinInStrict: false, anchors,
      description: "a replica even if the DB set is pinned (hint comment pindb:replica)" }
  }
  if (plan.intent === 'read' && plan.force === 'primary') {
    const why = plan.reason === 'session' ? `session state: ${c.session ?? 'other'}` : 'hint comment pindb:primary'
    return { target: 'primary', pinsInGreedy: false, needsPinInStrict: false, anchors, description: `the primary without pinning (${why})${keep}` }
  }
  if (plan.intent === 'read') {
    return { target: 'replica', pinsInGreedy: false, needsPinInStrict: false, anchors,
      description: "the context's replica (the primary when the DB set is pinned; with causal reads, a replica that has caught up)" }
  }
  const why = plan.reason === 'hint' ? ' (hint comment pindb:primary)' : ''
  return { target: 'primary', pinsInGreedy: true, needsPinInStrict: true, anchors,
    description: `the primary${why}: pins the DB set in greedy mode, needs a pin in strict mode (else UnpinnedWriteError)${keep}${keep === '' ? '' : ` (session state: ${c.session ?? 'other'})`}` }
}

/** Classifies and plans `sql` exactly as the adapters do. */
export function explainSql(sql: string, dialect: SqlDialect, writeFunctions: readonly string[] = []): ExplainResult {
  const c = classifySql(sql, { dialect, writeFunctions })
  const plan = planFor(c)
  return {
    sql, dialect, kind: c.kind, reason: c.reason,
    hint: c.hint ?? null, transaction: c.transaction ?? null, session: c.session ?? null,
    plan, route: describeRoute(c, plan),
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Formats a result for people. */
export function formatExplain(r: ExplainResult): string {
  const row = (k: string, v: string): string => `  ${k.padEnd(13)}${v}`
  const flags = [r.route.pinsInGreedy ? 'pins in greedy mode' : 'never pins', r.route.needsPinInStrict ? 'needs a pin in strict mode' : 'allowed unpinned in strict mode']
  return [
    `${r.kind}  (${r.reason})`,
    row('dialect', r.dialect),
    row('hint', r.hint ?? '-'),
    row('transaction', r.transaction ?? '-'),
    row('session', r.session ?? '-'),
    row('routes to', r.route.description),
    row('pinning', flags.join('; ')),
    '',
  ].join('\n')
}

const DIALECTS: Record<string, SqlDialect> = { postgres: 'postgres', postgresql: 'postgres', pg: 'postgres', mysql: 'mysql', mariadb: 'mysql' }
const KINDS: Record<string, 'read' | 'write'> = { read: 'read', write: 'write' }

/** Runs `pindb explain`; returns the exit code. */
export async function explainCommand(args: readonly string[]): Promise<number> {
  const parsed = parse('explain', args, {
    dialect: { type: 'string' },
    'write-functions': { type: 'string' },
    expect: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, 1)
  if (parsed.values['help'] === true) {
    process.stdout.write(EXPLAIN_HELP)
    return EXIT.ok
  }
  const dialect = oneOf<SqlDialect>(parsed, 'dialect', DIALECTS, 'postgres')
  const expect = oneOf(parsed, 'expect', KINDS)
  const writeFunctions = (str(parsed, 'write-functions') ?? '').split(',').map((f) => f.trim().toLowerCase()).filter((f) => f !== '')
  const arg = parsed.positionals[0]
  let sql: string
  if (arg === '-') sql = await readStdin()
  else if (arg === undefined) throw usageError('explain: give the SQL statement as one (quoted) argument, or - to read it from stdin. See `pindb explain --help`.')
  else sql = arg
  if (sql.trim() === '') throw usageError('explain: the SQL statement is empty.')
  const result = explainSql(sql, dialect, writeFunctions)
  const mismatch = expect !== undefined && expect !== result.kind
  if (parsed.values['json'] === true) {
    process.stdout.write(`${JSON.stringify(expect === undefined ? result : { ...result, expect, matches: !mismatch }, null, 2)}\n`)
  } else {
    process.stdout.write(formatExplain(result))
  }
  if (mismatch) {
    process.stderr.write(`pindb explain: expected ${expect}, but pindb classifies this statement as ${result.kind} (${result.reason}).\n`)
    return EXIT.problems
  }
  return EXIT.ok
}
