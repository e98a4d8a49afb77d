// The transport: one authenticated, encrypted WebSocket per pair of laptops, carrying every class
// both belong to. See handshake.ts for the protocol and codec.ts for the wire format.
export { WebSocketTransport, type WebSocketTransportOptions } from './transport';
export {
  generateIdentity,
  identityFromPrivateKey,
  IDENTITY_FILE,
  laptopIdFromPublicKey,
  loadOrCreateIdentity,
  type Identity,
} from './identity';
export {
  decodeFrame,
  encodeFrame,
  DEFAULT_MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  REQUEST_OVERHEAD_BYTES,
  RESPONSE_OVERHEAD_BYTES,
  type Frame,
} from './codec';
export { MIN_CLASS_SECRET_BYTES, MAX_EARLIER_SECRETS, type EarlierSecretPolicy } from './class-proofs';
export { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff';
export * from './errors';
export * from './types';
