// AES-256-GCM for frames after the handshake. Each direction has its own key and a counter that
// starts at 0 and goes up by one per frame; the counter is the nonce and is never sent. A frame
// that was replayed, reordered, dropped before another, truncated or altered is opened with the
// wrong counter or fails its tag, and the connection ends: there is no resynchronising.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import {
  decodeFrame,
  encodeFrame,
  GCM_TAG_BYTES,
  SEALED_FRAME_HEADER,
  SEALED_OVERHEAD_BYTES,
  type InnerFrame,
  type SealedFrame,
} from './codec';
import { FrameAuthenticationError, FrameDecodeError } from './errors';

const NONCE_BYTES = 12;

/** 4 zero bytes then the 64-bit big-endian counter: unique per key for 2^53 frames, far beyond a session. */
function counterNonce(counter: number): Buffer {
  const nonce = Buffer.alloc(NONCE_BYTES);
  nonce.writeBigUInt64BE(BigInt(counter), 4);
  return nonce;
}

function nextCounter(counter: number): number {
  if (counter >= Number.MAX_SAFE_INTEGER) throw new FrameAuthenticationError('frame counter exhausted');
  return counter + 1;
}

/** Encrypts outgoing frames; `associatedData` (the frame header) is authenticated but not encrypted. */
export class RecordSealer {
  private counter = 0;

  constructor(private readonly key: Uint8Array) {}

  seal(plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
    const cipher = createCipheriv('aes-256-gcm', this.key, counterNonce(this.counter), { authTagLength: GCM_TAG_BYTES });
    this.counter = nextCounter(this.counter);
    cipher.setAAD(associatedData);
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    return new Uint8Array(Buffer.concat([head, tail, cipher.getAuthTag()]));
  }
}

/** Decrypts incoming frames in order; throws `FrameAuthenticationError` for anything not sealed next by the peer. */
export class RecordOpener {
  private counter = 0;

  constructor(private readonly key: Uint8Array) {}

  open(sealed: Uint8Array, associatedData: Uint8Array): Uint8Array {
    if (sealed.byteLength < GCM_TAG_BYTES) throw new FrameAuthenticationError('sealed frame shorter than its tag');
    const tagStart = sealed.byteLength - GCM_TAG_BYTES;
    const decipher = createDecipheriv('aes-256-gcm', this.key, counterNonce(this.counter), { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(associatedData);
    decipher.setAuthTag(sealed.subarray(tagStart));
    const head = decipher.update(sealed.subarray(0, tagStart));
    let tail: Buffer;
    try {
      tail = decipher.final();
    } catch {
      throw new FrameAuthenticationError(`frame ${this.counter} failed authentication (tampered, replayed, reordered or forged)`);
    }
    // Only an authentic frame advances the counter; a failure ends the connection anyway.
    this.counter = nextCounter(this.counter);
    return new Uint8Array(Buffer.concat([head, tail]));
  }
}

/** The wire bytes of `frame` sealed with the next counter; throws `FrameTooLargeError` if it would exceed the limit. */
export function sealFrame(sealer: RecordSealer, frame: InnerFrame, maxFrameBytes: number): Uint8Array {
  return sealEncoded(sealer, encodeInnerFrame(frame, maxFrameBytes));
}

/** The plaintext of a sealed frame, sized so that sealing keeps it within `maxFrameBytes`. */
export function encodeInnerFrame(frame: InnerFrame, maxFrameBytes: number): Uint8Array {
  return encodeFrame(frame, maxFrameBytes - SEALED_OVERHEAD_BYTES);
}

/** Seals an inner frame encoded earlier (queued frames are sealed when sent, so counters follow send order). */
export function sealEncoded(sealer: RecordSealer, plaintext: Uint8Array): Uint8Array {
  const sealed = sealer.seal(plaintext, SEALED_FRAME_HEADER);
  const wire = new Uint8Array(SEALED_FRAME_HEADER.byteLength + sealed.byteLength);
  wire.set(SEALED_FRAME_HEADER);
  wire.set(sealed, SEALED_FRAME_HEADER.byteLength);
  return wire;
}

/** Opens a sealed frame and decodes what it carries; only inner kinds are acceptable inside. */
export function openFrame(opener: RecordOpener, frame: SealedFrame, maxFrameBytes: number): InnerFrame {
  const inner = decodeFrame(opener.open(frame.ciphertext, SEALED_FRAME_HEADER), maxFrameBytes);
  if (inner.kind === 'hello' || inner.kind === 'sealed') {
    throw new FrameDecodeError(`a ${inner.kind} frame inside a sealed frame`);
  }
  return inner;
}
