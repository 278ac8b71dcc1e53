/**
 * Pinning contexts: the per-unit-of-work state (pins, sticky replica choices) and the scoped
 * overrides of `withPrimary` / `withUnpinnedReplica`, carried by one `AsyncLocalStorage` per pindb
 * instance.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'

/** A pin on one DB set inside a context. */
export interface Pin {
  /** Pinned in this unit of work (gets a fresh expiry when carried on), as opposed to carried in. */
  newly: boolean
  /** For a carried pin: its expiry (epoch ms), kept unchanged when carried on. */
  carriedExpiresAt?: number
  /** Replication position of the set's primary after this unit of work's (or the carrier's) last write. */
  position?: string
  /** A write committed after `position` was taken: reads of the set go to the primary until the position is refreshed. */
  positionPending?: boolean
}

const NO_PINS: ReadonlyMap<string, Pin> = new Map()
const NO_CHOICES: ReadonlyMap<string, string> = new Map()

/**
 * @internal Mutable state of one unit of work. Never shared between contexts. The maps are
 * created on first write: most units of work read only, and a context is opened per request.
 */
export class PinContext {
  #pins: Map<string, Pin> | undefined
  #chosen: Map<string, string> | undefined

  /** DB set → pin (read-only view; see {@link PinContext.setPin}). */
  get pins(): ReadonlyMap<string, Pin> {
    return this.#pins ?? NO_PINS
  }

  /** DB set → replica alias chosen for this context (sticky: monotonic reads). */
  get chosenReplicas(): ReadonlyMap<string, string> {
    return this.#chosen ?? NO_CHOICES
  }

  setPin(set: string, pin: Pin): void {
    ;(this.#pins ??= new Map()).set(set, pin)
  }

  choose(set: string, replica: string): void {
    ;(this.#chosen ??= new Map()).set(set, replica)
  }

  clear(): void {
    this.#pins = undefined
    this.#chosen = undefined
  }
}

/** @internal One `withPrimary` / `withUnpinnedReplica` scope; an immutable linked list, innermost first. */
export interface Override {
  readonly set: string
  readonly kind: 'primary' | 'replica'
  readonly parent: Override | undefined
}

/** @internal What the AsyncLocalStorage holds: the unit of work (if any) and the active overrides. */
export interface Scope {
  readonly ctx: PinContext | undefined
  readonly overrides: Override | undefined
}

/** @internal The innermost override for a set, if any. */
export function findOverride(overrides: Override | undefined, set: string): Override | undefined {
  for (let o = overrides; o !== undefined; o = o.parent) if (o.set === set) return o
  return undefined
}

/** @internal Per-instance context storage. */
export class ContextStore {
  readonly #als = new AsyncLocalStorage<Scope>()

  /** The current scope, or undefined outside any context and override. */
  current(): Scope | undefined {
    return this.#als.getStore()
  }

  /** Runs `fn` in a fresh unit of work. */
  runFresh<T>(ctx: PinContext, fn: () => T): T {
    return this.#als.run({ ctx, overrides: undefined }, fn)
  }

  /**
   * `fn`, bound to the current scope: it runs in this unit of work (or outside any) wherever it is
   * called from. Cheaper than `AsyncResource.bind`: it restores pindb's scope only.
   */
  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    const scope = this.#als.getStore()
    const als = this.#als
    return (...args: A): R => als.run(scope as Scope, fn, ...args)
  }

  /** Runs `fn` with one more override, in the current unit of work (if any). */
  runWithOverride<T>(set: string, kind: Override['kind'], fn: () => T): T {
    const scope = this.#als.getStore()
    return this.#als.run({ ctx: scope?.ctx, overrides: { set, kind, parent: scope?.overrides } }, fn)
  }
}
