// A write as it travels and sits in the log: who sent it (client id), its sequence number, and
// the lowest sequence number the client still waits for, around the command itself. The
// client id and sequence make a retry after a leader change apply exactly once (Raft
// dissertation §6.3); the low-water mark lets replicas forget answers nobody will ask for.

const VERSION = 1;
const MAX_CLIENT_ID_BYTES = 255;
// ignoreBOM: a leading U+FEFF is part of the id. Dropping it made "\ufeffx" the session of "x",
// and an id of only U+FEFF an empty one that encodeEnvelope refuses.
const clientIdDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface Envelope {
  clientId: string;
  seq: number;
  /** Every sequence number below this one has been answered to the client. */
  ackedBelow: number;
  command: Uint8Array;
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const id = new TextEncoder().encode(envelope.clientId);
  if (id.byteLength === 0 || id.byteLength > MAX_CLIENT_ID_BYTES) throw new RangeError('a client id is 1 to 255 bytes');
  const out = new Uint8Array(1 + 1 + id.byteLength + 8 + 8 + envelope.command.byteLength);
  const view = new DataView(out.buffer);
  out[0] = VERSION;
  out[1] = id.byteLength;
  out.set(id, 2);
  let at = 2 + id.byteLength;
  view.setFloat64(at, envelope.seq);
  view.setFloat64(at + 8, envelope.ackedBelow);
  at += 16;
  out.set(envelope.command, at);
  return out;
}

/** The envelope in `data`, or why it is not one. Pure: every replica decides alike. */
export function decodeEnvelope(data: Uint8Array): Envelope | string {
  if (data.byteLength < 2 || data[0] !== VERSION) return 'not a client write';
  const idLength = data[1]!;
  if (idLength === 0 || data.byteLength < 2 + idLength + 16) return 'a truncated client write';
  let clientId: string;
  try {
    clientId = clientIdDecoder.decode(data.subarray(2, 2 + idLength));
  } catch {
    return 'a client id that is not text';
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const at = 2 + idLength;
  const seq = view.getFloat64(at);
  const ackedBelow = view.getFloat64(at + 8);
  if (!Number.isSafeInteger(seq) || seq < 1 || !Number.isSafeInteger(ackedBelow) || ackedBelow < 1 || ackedBelow > seq) {
    return 'a client write with an impossible sequence number';
  }
  return { clientId, seq, ackedBelow, command: data.subarray(at + 16) };
}
