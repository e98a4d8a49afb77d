// The request a follower sends to the leader on a client's behalf, and the answer. Carried by
// the transport's request frames and validated on receipt: a peer may be broken or hostile.

/**
 * A write, or a laptop asking to be admitted, with the token the class's join code gave it (empty
 * from a laptop of the class asking again, which needs none).
 */
export type ForwardRequest = { kind: 'write'; envelope: Uint8Array } | { kind: 'join'; laptopId: string; token: string };

export type ForwardReply =
  | { kind: 'applied'; index: number }
  | { kind: 'notLeader'; leader: string | null }
  | { kind: 'error'; code: string; message: string };

const WRITE = 1;
const JOIN = 2;
const MAX_ID_LENGTH = 128;
const MAX_TOKEN_LENGTH = 128;
const encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF of a laptop id is part of it, as in every other decoder of the wire.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function encodeForwardRequest(request: ForwardRequest): Uint8Array {
  const body = request.kind === 'write' ? request.envelope : encoder.encode(`${request.laptopId}\n${request.token}`);
  const out = new Uint8Array(1 + body.byteLength);
  out[0] = request.kind === 'write' ? WRITE : JOIN;
  out.set(body, 1);
  return out;
}

/** The request in `bytes`, or null when it is not one. */
export function decodeForwardRequest(bytes: Uint8Array): ForwardRequest | null {
  if (bytes.byteLength < 2) return null;
  const body = bytes.slice(1);
  if (bytes[0] === WRITE) return { kind: 'write', envelope: body };
  if (bytes[0] === JOIN && body.byteLength <= MAX_ID_LENGTH + 1 + MAX_TOKEN_LENGTH) {
    try {
      const text = decoder.decode(body);
      // The token never holds a line break; a (hostile) laptop id might.
      const split = text.lastIndexOf('\n');
      if (split < 0) return null;
      const laptopId = text.slice(0, split);
      const token = text.slice(split + 1);
      if (laptopId.length > MAX_ID_LENGTH || token.length > MAX_TOKEN_LENGTH || token.includes('\n')) return null;
      return { kind: 'join', laptopId, token };
    } catch {
      return null;
    }
  }
  return null;
}

export function encodeForwardReply(reply: ForwardReply): Uint8Array {
  return encoder.encode(JSON.stringify(reply));
}

export function decodeForwardReply(bytes: Uint8Array): ForwardReply | null {
  try {
    const reply = JSON.parse(decoder.decode(bytes)) as ForwardReply;
    // A fresh object with only the known fields: a peer's extra fields go no further.
    if (reply.kind === 'applied' && Number.isSafeInteger(reply.index) && reply.index > 0) return { kind: 'applied', index: reply.index };
    if (reply.kind === 'notLeader' && (reply.leader === null || typeof reply.leader === 'string')) {
      return { kind: 'notLeader', leader: reply.leader };
    }
    if (reply.kind === 'error' && typeof reply.code === 'string' && typeof reply.message === 'string') {
      return { kind: 'error', code: reply.code, message: reply.message };
    }
    return null;
  } catch {
    return null;
  }
}
