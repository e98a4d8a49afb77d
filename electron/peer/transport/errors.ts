// Named errors of the transport. Inside the process they are classes to branch on; on the wire
// a peer only ever sees a WebSocket close code and a short generic reason (see close-codes.ts).

/** Base of every error the transport throws; `code` is stable for callers to branch on. */
export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bytes from the wire that are not a well-formed frame of a version this build speaks. */
export class FrameDecodeError extends TransportError {
  constructor(reason: string, code = 'FRAME_MALFORMED') {
    super(code, `malformed frame: ${reason}`);
  }
}

/** A frame (to send or received) larger than the configured maximum. */
export class FrameTooLargeError extends FrameDecodeError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`${size} bytes exceeds the limit of ${limit}`, 'FRAME_TOO_LARGE');
  }
}

/** A sealed frame that does not decrypt under the expected key and counter: tampered, replayed, reordered or forged. */
export class FrameAuthenticationError extends TransportError {
  constructor(reason: string) {
    super('FRAME_AUTHENTICATION', reason);
  }
}

/** The peer failed to prove its identity, broke the handshake protocol, or shares no class. */
export class HandshakeError extends TransportError {
  constructor(reason: string, code = 'HANDSHAKE_FAILED') {
    super(code, reason);
  }
}

/** The identity key file is missing, unreadable or not an Ed25519 key. */
export class IdentityError extends TransportError {
  constructor(reason: string) {
    super('IDENTITY', reason);
  }
}

/** A well-formed, authentic frame that breaks the protocol: wrong kind now, a class the peer never proved, a forged sender. */
export class ProtocolViolationError extends TransportError {
  constructor(reason: string) {
    super('PROTOCOL_VIOLATION', reason);
  }
}

/** Why `Transport.request` rejected; each is counted in `stats().requests.failed`. */
export type RequestFailureCode =
  | 'NOT_CONNECTED' // no authenticated connection to the laptop: nothing was sent
  | 'CLASS_NOT_SHARED' // the connection does not carry the class: nothing was sent
  | 'TOO_LARGE' // the request does not fit in one frame: nothing was sent
  | 'QUEUE_FULL' // the peer's send queue is full: nothing was sent
  | 'TIMEOUT' // no response in time; the peer may still have handled it
  | 'DISCONNECTED' // the connection closed (or lost a tie-break) first; the peer may have handled it
  | 'REMOTE_ERROR'; // the peer answered with an error, see `remoteCode`

/**
 * A request that got no payload back. Only `TIMEOUT`, `DISCONNECTED` and `REMOTE_ERROR` can
 * follow a sent request, so the peer may or may not have acted on it: callers that retry must
 * make requests idempotent.
 */
export class RequestFailedError extends TransportError {
  constructor(
    override readonly code: RequestFailureCode,
    message: string,
    /** With `REMOTE_ERROR`: the code the peer answered (`HANDLER_FAILED`, `NO_HANDLER`, `BUSY`, ...). */
    readonly remoteCode: string | null = null,
  ) {
    super(code, message);
  }
}
