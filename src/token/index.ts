/**
 * Signed pin tokens: carry a unit of work's pins between HTTP requests (cookie or header) and into
 * queued jobs. See {@link createPinTokenCodec} and the format documented in `pin-token.ts`.
 *
 * @module
 */
export {
  createPinTokenCodec,
  DEFAULT_MAX_TOKEN_LENGTH,
  MAX_PINS,
  MAX_POSITION_LENGTH,
  MAX_SET_LENGTH,
  MIN_MAX_TOKEN_LENGTH,
  MIN_SECRET_BYTES,
  PIN_TOKEN_VERSION,
} from './pin-token.js'
export type {
  DecodeResult,
  PinTokenCodec,
  PinTokenBindingOptions,
  PinTokenCodecOptions,
  PinTokenRejection,
} from './pin-token.js'
