/**
 * The NestJS module: each HTTP request runs as a pindb unit of work carrying the pins of its
 * cookie and/or header, on the Express and the Fastify platform alike.
 *
 * Built without decorators (pindb compiles with standard TypeScript settings): the module is a
 * dynamic module whose class is made per {@link PinDbModule.forRoot} call, and whose middleware is
 * the Connect-style {@link pinDbExpress} — Nest runs module middleware on Express directly and on
 * Fastify through `@fastify/middie`, with Node's request and response in both cases.
 *
 * @module
 */
import { PinDbConfigError } from '../errors.js'
import { pinDbExpress, type PinDbExpressMiddleware } from '../express/index.js'
import type { PinCarrierOptions } from '../http/index.js'
import type { PinDb } from '../pindb.js'

/**
 * Injection token of the `PinDb` instance given to {@link PinDbModule.forRoot}:
 * `constructor(@Inject(PINDB) private readonly pindb: PinDb) {}`.
 */
export const PINDB: unique symbol = Symbol.for('pindb:nestjs:pindb') as never

/** Options of {@link PinDbModule.forRoot}: the pindb instance and the carrier's options. */
export interface PinDbModuleOptions extends PinCarrierOptions {
  /** The instance whose pins the requests carry. */
  pindb: PinDb<object>
  /** Route paths (Nest syntax) the middleware runs for. Default `['{*path}']`: every route. */
  routes?: readonly string[]
  /** Register the module globally, so that {@link PINDB} can be injected anywhere. Default true. */
  global?: boolean
}

/** The part of Nest's `MiddlewareConsumer` the module uses. */
export interface MiddlewareConsumerLike {
  apply(...middleware: PinDbExpressMiddleware[]): { forRoutes(...routes: string[]): unknown }
}

/** A module class made by {@link PinDbModule.forRoot}: Nest calls its `configure`. */
export interface PinDbNestModule {
  /** Applies the pin middleware to the configured routes. */
  configure(consumer: MiddlewareConsumerLike): void
}

/** What {@link PinDbModule.forRoot} returns: a Nest `DynamicModule`, for `imports: [...]`. */
export interface PinDbDynamicModule {
  readonly module: new () => PinDbNestModule
  readonly global: boolean
  readonly providers: { provide: symbol; useValue: unknown }[]
  readonly exports: symbol[]
}

/**
 * The NestJS integration: `imports: [PinDbModule.forRoot({ pindb, secrets })]`, listed before the
 * modules whose middleware reads a database.
 */
export class PinDbModule {
  /**
   * A module that runs each request (on every route, or on `routes`) as a pindb unit of work with
   * the pins of its valid tokens, and puts the live pins on the response (`Set-Cookie` and/or the
   * `x-pindb-token` header) — error responses and streams included — and that provides
   * {@link PINDB}. Works on `@nestjs/platform-express` and `@nestjs/platform-fastify`.
   *
   * @throws {@link PinDbConfigError} for a missing `pindb` or invalid carrier options (checked here, once).
   *
   * @example
   * ```ts
   * @Module({
   *   imports: [PinDbModule.forRoot({ pindb, secrets: [process.env.PINDB_SECRET!] })],
   *   controllers: [NotesController],
   * })
   * export class AppModule {}
   * ```
   */
  static forRoot(options: PinDbModuleOptions): PinDbDynamicModule {
    if (options === null || typeof options !== 'object') {
      throw new PinDbConfigError('PinDbModule.forRoot(options)', 'pass `{ pindb, secrets: [...] }`.')
    }
    const { pindb, routes = ['{*path}'], global = true, ...carrierOptions } = options
    if (pindb === null || typeof pindb !== 'object' || typeof pindb.run !== 'function') {
      throw new PinDbConfigError('pindb', 'must be the instance returned by createPinDb().')
    }
    if (!Array.isArray(routes) || routes.length === 0 || !routes.every((r) => typeof r === 'string')) {
      throw new PinDbConfigError('routes', "must be a non-empty list of route paths, e.g. ['{*path}'] (every route).")
    }
    if (typeof global !== 'boolean') throw new PinDbConfigError('global', 'must be a boolean.')
    const middleware = pinDbExpress(pindb, carrierOptions)
    const paths = [...routes]
    // One class per call: Nest keys modules by class, and each call has its own middleware.
    class PinDbRootModule implements PinDbNestModule {
      configure(consumer: MiddlewareConsumerLike): void {
        consumer.apply(middleware).forRoutes(...paths)
      }
    }
    return { module: PinDbRootModule, global, providers: [{ provide: PINDB, useValue: pindb }], exports: [PINDB] }
  }
}
