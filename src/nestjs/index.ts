/**
 * `pindb/nestjs`: pins that travel between requests in a NestJS app (tested with Nest 12, on
 * `@nestjs/platform-express` or `@nestjs/platform-fastify`). Import
 * `PinDbModule.forRoot({ pindb, secrets })`: every request runs as a fresh pindb unit of work
 * carrying the pins of its signed cookie and/or `x-pindb-token` header, and the response carries
 * the live pins on. Inject the instance with `@Inject(PINDB)`.
 *
 * No runtime dependency on Nest: the module is a plain dynamic module.
 *
 * @module
 */
export {
  PINDB,
  PinDbModule,
  type MiddlewareConsumerLike,
  type PinDbDynamicModule,
  type PinDbModuleOptions,
  type PinDbNestModule,
} from './pin-db-module.js'
export { markWrite, MAX_TOKENS_PER_REQUEST, type PinCarrierOptions, type PinCookieOptions, type PinRequestInfo } from '../http/index.js'
export { TOKEN_CHANNEL, type TokenRejectedEvent, type TokenRejectedHandler } from '../jobs.js'
