// The leader's clock on a client write. The classroom judges lateness by when a write was
// committed, and every replica must decide alike, so the time travels in the log: the leader
// stamps each write as it proposes it. Replicas trust the leader for ordering and for this time
// (the state machine never lets its clock go back); they trust it for nothing else.
//   [STAMPED][proposedAt: float64 ms][the client's envelope]

const STAMPED = 2;
const HEADER_BYTES = 1 + 8;

export function stampWrite(envelope: Uint8Array, proposedAt: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + envelope.byteLength);
  out[0] = STAMPED;
  new DataView(out.buffer).setFloat64(1, proposedAt);
  out.set(envelope, HEADER_BYTES);
  return out;
}

/** The envelope and the leader's time; an unstamped entry (or a nonsense time) has none. */
export function unstampWrite(data: Uint8Array): { envelope: Uint8Array; proposedAt: number | null } {
  if (data.byteLength < HEADER_BYTES || data[0] !== STAMPED) return { envelope: data, proposedAt: null };
  const proposedAt = new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(1);
  const valid = Number.isSafeInteger(proposedAt) && proposedAt >= 0;
  return { envelope: data.subarray(HEADER_BYTES), proposedAt: valid ? proposedAt : null };
}
