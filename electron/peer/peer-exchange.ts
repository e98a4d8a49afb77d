// Peer exchange: where multicast is blocked, a laptop given one address by hand learns the
// others from it. Each asks the laptops it is connected to for the addresses they know of the
// class's laptops, telling its own address in the same request, so a laptop that was only
// ever dialed in to can still be reached by everyone. Addresses are hints: the transport's
// handshake decides who is really there.

/** First byte of a class request payload carrying a peer exchange (writes and joins use 1 and 2). */
export const PEER_EXCHANGE = 3;
const MAX_ADDRESSES = 256;
const MAX_ADDRESS_LENGTH = 128;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The request: our own "LAPTOPID@host:port". */
export function encodePeerExchangeRequest(ownAddress: string): Uint8Array {
  const body = encoder.encode(ownAddress);
  const out = new Uint8Array(1 + body.byteLength);
  out[0] = PEER_EXCHANGE;
  out.set(body, 1);
  return out;
}

export function isPeerExchangeRequest(payload: Uint8Array): boolean {
  return payload.byteLength > 0 && payload[0] === PEER_EXCHANGE;
}

/** The requester's address, or null if it is not text of a sane length. */
export function decodePeerExchangeRequest(payload: Uint8Array): string | null {
  if (payload.byteLength - 1 > MAX_ADDRESS_LENGTH) return null;
  try {
    return decoder.decode(payload.subarray(1));
  } catch {
    return null;
  }
}

export function encodePeerExchangeReply(addresses: string[]): Uint8Array {
  return encoder.encode(JSON.stringify(addresses.slice(0, MAX_ADDRESSES)));
}

/** The addresses in a reply (unvalidated strings, capped), or [] for anything malformed. */
export function decodePeerExchangeReply(bytes: Uint8Array): string[] {
  try {
    const list = JSON.parse(decoder.decode(bytes)) as unknown;
    if (!Array.isArray(list)) return [];
    return list.filter((a): a is string => typeof a === 'string' && a.length <= MAX_ADDRESS_LENGTH).slice(0, MAX_ADDRESSES);
  } catch {
    return [];
  }
}
