/**
 * Replica choice strategies: which of a set's eligible replicas a context sticks to.
 *
 * @module
 */
import { PinDbConfigError } from './errors.js'

/** What a strategy is given to choose from. */
export interface ReplicaChoiceInput {
  /** The DB set (primary alias). */
  readonly set: string
  /** Eligible replicas (healthy, not lagging, caught up), never empty, in index order. */
  readonly candidates: readonly string[]
  /** Uniform random number in [0, 1), the instance's injectable source. */
  random(): number
  /** Queries in flight on a replica through pindb's adapters. */
  outstanding(alias: string): number
}

/** A custom strategy: return one of `input.candidates`. */
export type ReplicaChooser = (input: ReplicaChoiceInput) => string

/**
 * How a context picks its replica: `'round-robin'` (default; spreads contexts evenly),
 * `'random'`, `'least-outstanding'` (fewest queries in flight), `{ weights }` (weighted random;
 * weight per replica alias, default 1, 0 = never unless nothing else), or a custom function.
 */
export type ReplicaChoice = 'round-robin' | 'random' | 'least-outstanding' | { weights: Readonly<Record<string, number>> } | ReplicaChooser

/** @internal Builds the chooser for an option value. */
export function createChooser(choice: ReplicaChoice): ReplicaChooser {
  if (typeof choice === 'function') return choice
  if (choice === 'round-robin') return roundRobin()
  if (choice === 'random') return ({ candidates, random }) => candidates[Math.floor(random() * candidates.length)] ?? candidates[0]!
  if (choice === 'least-outstanding') return leastOutstanding()
  if (typeof choice === 'object' && choice !== null && typeof choice.weights === 'object' && choice.weights !== null) {
    for (const [alias, w] of Object.entries(choice.weights)) {
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
        throw new PinDbConfigError(`replicaChoice.weights.${alias}`, 'must be a finite number ≥ 0.')
      }
    }
    return weighted(choice.weights)
  }
  throw new PinDbConfigError(
    'replicaChoice',
    `must be 'round-robin', 'random', 'least-outstanding', { weights: { alias: n } } or a function; got ${JSON.stringify(choice)}.`,
  )
}

function roundRobin(): ReplicaChooser {
  const next = new Map<string, number>()
  return ({ set, candidates }) => {
    const n = next.get(set) ?? 0
    next.set(set, (n + 1) % 1_000_000_007)
    return candidates[n % candidates.length]!
  }
}

function leastOutstanding(): ReplicaChooser {
  // Ties rotate so that an idle system still spreads contexts.
  const rr = roundRobin()
  return (input) => {
    let best = Infinity
    for (const alias of input.candidates) best = Math.min(best, input.outstanding(alias))
    const least = input.candidates.filter((alias) => input.outstanding(alias) === best)
    return rr({ ...input, candidates: least })
  }
}

function weighted(weights: Readonly<Record<string, number>>): ReplicaChooser {
  return ({ candidates, random }) => {
    const w = candidates.map((alias) => weights[alias] ?? 1)
    const total = w.reduce((a, b) => a + b, 0)
    if (total <= 0) return candidates[Math.floor(random() * candidates.length)] ?? candidates[0]!
    let r = random() * total
    for (let i = 0; i < candidates.length; i++) {
      r -= w[i]!
      if (r < 0) return candidates[i]!
    }
    return candidates[candidates.length - 1]!
  }
}
