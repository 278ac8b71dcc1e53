/**
 * The SQL text of a postgres.js query, as routing needs it: the template strings with every
 * parameter as `$n`, and the text of nested fragments (`` sql`…${sql`…`}` ``), identifiers
 * (`sql('table')`) and helpers (`sql(obj)`, `sql(rows, 'a', 'b')`, `in ${sql([1, 2])}`) — built the
 * way postgres.js builds it when the query runs (`stringify` in its `types.js`), so that the text
 * classified is the text the server receives. A query whose parameters are all plain values is
 * built once per call site (its template strings array).
 *
 * @module
 */
import type { PgjsInstance, PgjsQuery, PgjsQueryClass } from './types.js'

type Constructor = abstract new (...args: never[]) => object

/** @internal postgres.js's classes (it exports none of them), taken from objects a template instance makes. */
export interface PgjsKit {
  /** The instance that makes helpers (`sql('t')`, `sql(obj)`, `sql.typed`, `sql.array`, `sql.json`). */
  readonly template: PgjsInstance
  readonly Query: PgjsQueryClass
  readonly Builder: Constructor
  readonly Identifier: Constructor
}

interface BuilderLike {
  build(before: string, parameters: unknown[], types: unknown[], options: object): string
}

/** @internal Reads postgres.js's classes off a template instance (makes objects, opens nothing). */
export function kitOf(template: PgjsInstance): PgjsKit {
  return {
    template,
    Query: template.unsafe('').constructor as PgjsQueryClass,
    Builder: (template({}) as object).constructor as Constructor,
    Identifier: (template('x') as object).constructor as Constructor,
  }
}

const plainTexts = new WeakMap<readonly string[], string>()

/** @internal The text of a query; throws what postgres.js would throw for an unusable value. */
export function statementText(kit: PgjsKit, query: PgjsQuery): string {
  const strings = query.strings
  if (!query.tagged) return strings[0] ?? ''
  const args = query.args
  for (let i = 0; i < args.length; i++) {
    if (isComposite(kit, args[i])) return compose(kit, query, [], [])
  }
  let text = plainTexts.get(strings)
  if (text === undefined) {
    text = strings[0] ?? ''
    for (let i = 1; i < strings.length; i++) text += `$${i}${strings[i]!}`
    plainTexts.set(strings, text)
  }
  return text
}

function isComposite(kit: PgjsKit, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  return value instanceof kit.Builder || value instanceof kit.Query || value instanceof kit.Identifier ||
    (Array.isArray(value) && value[0] instanceof kit.Query)
}

function compose(kit: PgjsKit, query: PgjsQuery, parameters: unknown[], types: unknown[]): string {
  const strings = query.strings
  let text = strings[0] ?? ''
  for (let i = 1; i < strings.length; i++) text += valueText(kit, text, query.args[i - 1], parameters, types) + strings[i]!
  return text
}

function valueText(kit: PgjsKit, before: string, value: unknown, parameters: unknown[], types: unknown[]): string {
  if (value instanceof kit.Builder) return (value as unknown as BuilderLike).build(before, parameters, types, kit.template.options)
  if (value instanceof kit.Query) return compose(kit, value as PgjsQuery, parameters, types)
  if (value instanceof kit.Identifier) return (value as unknown as { value: string }).value
  if (Array.isArray(value) && value[0] instanceof kit.Query) {
    return value.reduce<string>((text, fragment) => `${text} ${compose(kit, fragment as PgjsQuery, parameters, types)}`, '')
  }
  parameters.push(value)
  return `$${types.push(0)}`
}
