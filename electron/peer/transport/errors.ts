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
