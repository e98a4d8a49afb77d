// "Please hold this file": before a command that refers to a file is proposed, the laptop that
// has the file asks the leader to pull it, so the file is on a laptop that stays in the class
// before anyone reads the reference. Tag 8 (blob reads use 6 and 7).
//   request: [8][JSON {sha256, size, name}]   reply: [JSON {ok: true} | {ok: false, reason}]

const HOLD = 8;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface HoldRequest {
  sha256: string;
  size: number;
  name: string;
}

export type HoldReply = { ok: true } | { ok: false; reason: string };

export function isHoldRequest(payload: Uint8Array): boolean {
  return payload.byteLength > 1 && payload[0] === HOLD;
}

export function encodeHoldRequest(request: HoldRequest): Uint8Array {
  const body = encoder.encode(JSON.stringify(request));
  const out = new Uint8Array(1 + body.byteLength);
  out[0] = HOLD;
  out.set(body, 1);
  return out;
}

export function decodeHoldRequest(payload: Uint8Array): HoldRequest | null {
  if (!isHoldRequest(payload) || payload.byteLength > 1024) return null;
  try {
    const value = JSON.parse(decoder.decode(payload.subarray(1))) as Partial<HoldRequest>;
    if (typeof value.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(value.sha256)) return null;
    if (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0) return null;
    if (typeof value.name !== 'string' || value.name.length > 255) return null;
    return { sha256: value.sha256, size: value.size, name: value.name };
  } catch {
    return null;
  }
}

export function encodeHoldReply(reply: HoldReply): Uint8Array {
  return encoder.encode(JSON.stringify(reply));
}

export function decodeHoldReply(bytes: Uint8Array): HoldReply | null {
  try {
    const value = JSON.parse(decoder.decode(bytes)) as Partial<{ ok: boolean; reason: string }>;
    if (value.ok === true) return { ok: true };
    if (value.ok === false && typeof value.reason === 'string') return { ok: false, reason: value.reason.slice(0, 500) };
    return null;
  } catch {
    return null;
  }
}
