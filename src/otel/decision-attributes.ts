/**
 * The attributes of one kind of routing decision, built once per (intent, alias, reason) and
 * reused, so that recording a decision allocates nothing on the metric path.
 *
 * @module
 */
import type { Attributes } from '@opentelemetry/api'
import type { RouteEvent } from '../route-event.js'
import { PINDB_ATTRIBUTES as A } from './names.js'

/** @internal Attributes of one kind of decision. */
export interface DecisionAttributes {
  /** For spans and span events: server, role, reason, DB set and intent. */
  readonly span: Attributes
  /** For metric points: server, role, reason, DB set and the user's extra attributes. */
  readonly metric: Attributes
}

/** @internal A cache of {@link DecisionAttributes}; bounded by aliases × reasons × 2. */
export class DecisionAttributeCache {
  readonly #extra: Attributes
  readonly #byIntent = { read: new Map<string, Map<string, DecisionAttributes>>(), write: new Map<string, Map<string, DecisionAttributes>>() }

  constructor(extra: Attributes) {
    this.#extra = extra
  }

  /** The attributes of `event`'s kind of decision. */
  get(event: RouteEvent): DecisionAttributes {
    const byAlias = this.#byIntent[event.intent]
    let byReason = byAlias.get(event.alias)
    if (byReason === undefined) byAlias.set(event.alias, (byReason = new Map()))
    let attrs = byReason.get(event.reason)
    if (attrs === undefined) byReason.set(event.reason, (attrs = build(event, this.#extra)))
    return attrs
  }
}

function build(event: RouteEvent, extra: Attributes): DecisionAttributes {
  const common: Attributes = { [A.server]: event.alias, [A.role]: event.role, [A.reason]: event.reason }
  if (event.set !== undefined) common[A.dbSet] = event.set
  return Object.freeze({
    span: Object.freeze({ ...common, [A.intent]: event.intent }),
    metric: Object.freeze({ ...extra, ...common }),
  })
}
