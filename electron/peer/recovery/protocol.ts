// The requests of class recovery between laptops: a teacher's laptop asks each reachable
// laptop how much of the class it holds (probe), then asks the one holding most to rebuild the
// class from its copy (recover). Carried by the transport's authenticated request frames and
// validated on receipt, like every payload from a peer.

/** First byte of the payloads (writes, joins and peer exchange use 1 to 3). */
const PROBE = 4;
const RECOVER = 5;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export type RecoveryRequest = { kind: 'probe' } | { kind: 'recover'; minTerm: number };

/** How much of the class's log a laptop holds. */
export interface LogPosition {
  term: number;
  lastIndex: number;
  lastTerm: number;
  applied: number;
  /** The leader it knows of, if any, and how long ago it last heard from it (0 on the leader). */
  leader: string | null;
  leaderContactMs: number | null;
}

export type RecoveryReply = ({ kind: 'probe' } & LogPosition) | { kind: 'recovered'; term: number } | { kind: 'refused'; reason: string };

export function isRecoveryRequest(payload: Uint8Array): boolean {
  return payload.byteLength > 0 && (payload[0] === PROBE || payload[0] === RECOVER);
}

export function encodeRecoveryRequest(request: RecoveryRequest): Uint8Array {
  if (request.kind === 'probe') return Uint8Array.of(PROBE);
  const body = encoder.encode(JSON.stringify({ minTerm: request.minTerm }));
  const out = new Uint8Array(1 + body.byteLength);
  out[0] = RECOVER;
  out.set(body, 1);
  return out;
}

/** The request in `payload`, or null when it is not a well-formed one. */
export function decodeRecoveryRequest(payload: Uint8Array): RecoveryRequest | null {
  if (payload.byteLength === 1 && payload[0] === PROBE) return { kind: 'probe' };
  if (payload[0] !== RECOVER || payload.byteLength > 64) return null;
  const body = parse(payload.subarray(1));
  return isTerm(body?.['minTerm']) ? { kind: 'recover', minTerm: body['minTerm'] } : null;
}

export function encodeRecoveryReply(reply: RecoveryReply): Uint8Array {
  return encoder.encode(JSON.stringify(reply));
}

/** The reply in `bytes`, or null when it is not a well-formed one. */
export function decodeRecoveryReply(bytes: Uint8Array): RecoveryReply | null {
  const reply = parse(bytes);
  if (!reply) return null;
  if (reply['kind'] === 'probe') {
    const { term, lastIndex, lastTerm, applied, leader, leaderContactMs } = reply;
    if (![term, lastIndex, lastTerm, applied].every(isTerm)) return null;
    if (leader !== null && (typeof leader !== 'string' || leader.length > 128)) return null;
    if (leaderContactMs !== null && !isTerm(leaderContactMs)) return null;
    return { kind: 'probe', term, lastIndex, lastTerm, applied, leader, leaderContactMs } as RecoveryReply;
  }
  if (reply['kind'] === 'recovered' && isTerm(reply['term'])) return { kind: 'recovered', term: reply['term'] };
  if (reply['kind'] === 'refused' && typeof reply['reason'] === 'string') return { kind: 'refused', reason: reply['reason'].slice(0, 500) };
  return null;
}

function parse(bytes: Uint8Array): Record<string, unknown> | null {
  try {
    const value = JSON.parse(decoder.decode(bytes)) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function isTerm(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
