// Bounds-checked primitives for the hand-written wire encoding. Every read checks the bytes
// remaining before it touches or allocates anything, so a hostile length prefix costs nothing.
//
// Integers are unsigned LEB128 varints limited to Number.MAX_SAFE_INTEGER and must be in their
// shortest form, so each value has exactly one encoding. Strings are UTF-8 with a varint length;
// byte strings are a varint length and the raw bytes (no base64).
import { FrameDecodeError } from './errors';

const MAX_VARINT_BYTES = 8; // 8 × 7 = 56 bits covers 2^53 − 1
const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF is data and survives the round trip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Appends encoded values to a buffer that grows as needed. */
export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(initialCapacity = 256) {
    this.buffer = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buffer.buffer);
  }

  /** Bytes written so far. */
  get size(): number {
    return this.length;
  }

  u8(value: number): this {
    this.reserve(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
    return this;
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  varint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`);
    this.reserve(MAX_VARINT_BYTES);
    let rest = value;
    while (rest >= 0x80) {
      this.view.setUint8(this.length++, (rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.view.setUint8(this.length++, rest);
    return this;
  }

  /** Bytes of a length both sides know (keys, nonces, signatures): no length prefix. */
  fixed(bytes: Uint8Array): this {
    this.reserve(bytes.byteLength);
    this.buffer.set(bytes, this.length);
    this.length += bytes.byteLength;
    return this;
  }

  bytes(bytes: Uint8Array): this {
    return this.varint(bytes.byteLength).fixed(bytes);
  }

  /** Throws RangeError past `maxBytes`, the same limit the reader enforces, so we never send what a peer must refuse. */
  string(value: string, maxBytes = Number.MAX_SAFE_INTEGER): this {
    const encoded = utf8Encoder.encode(value);
    if (encoded.byteLength > maxBytes) throw new RangeError(`string of ${encoded.byteLength} bytes exceeds ${maxBytes}`);
    return this.bytes(encoded);
  }

  nullableString(value: string | null): this {
    if (value === null) return this.u8(0);
    return this.u8(1).string(value);
  }

  /** The bytes written, as a view on the internal buffer (valid until the next write). */
  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.byteLength) return;
    let capacity = this.buffer.byteLength * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}

/** Reads values back, throwing `FrameDecodeError` on anything short, overlong or out of range. */
export class ByteReader {
  private readonly view: DataView;
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.offset++);
  }

  bool(what: string): boolean {
    const value = this.u8(what);
    if (value > 1) throw new FrameDecodeError(`${what}: ${value} is not a boolean`);
    return value === 1;
  }

  varint(what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.u8(what);
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) throw new FrameDecodeError(`${what}: varint not in shortest form`);
        if (!Number.isSafeInteger(value)) throw new FrameDecodeError(`${what}: integer too large`);
        return value;
      }
      scale *= 0x80;
    }
    throw new FrameDecodeError(`${what}: varint longer than ${MAX_VARINT_BYTES} bytes`);
  }

  /** A count of items that each take at least one byte, so it cannot exceed what remains. */
  count(what: string): number {
    const count = this.varint(what);
    if (count > this.remaining) throw new FrameDecodeError(`${what}: count ${count} exceeds the ${this.remaining} bytes left`);
    return count;
  }

  /** A copy of the next `length` bytes, so no decoded value pins the whole frame in memory. */
  fixed(length: number, what: string): Uint8Array {
    this.need(length, what);
    // Not bytes.slice(): on a Buffer (what ws delivers) that is a view, not a copy.
    const copy = new Uint8Array(length);
    copy.set(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return copy;
  }

  bytesField(what: string): Uint8Array {
    return this.fixed(this.varint(what), what);
  }

  string(what: string, maxBytes = Number.MAX_SAFE_INTEGER): string {
    const length = this.varint(what);
    if (length > maxBytes) throw new FrameDecodeError(`${what}: ${length} bytes exceeds ${maxBytes}`);
    this.need(length, what);
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    try {
      return utf8Decoder.decode(slice);
    } catch {
      throw new FrameDecodeError(`${what}: invalid UTF-8`);
    }
  }

  nullableString(what: string): string | null {
    return this.bool(`${what} presence`) ? this.string(what) : null;
  }

  /** The bytes left, copied; for a field that runs to the end of the frame. */
  rest(): Uint8Array {
    return this.fixed(this.remaining, 'rest');
  }

  /** Every frame is consumed exactly: trailing bytes mean the peer and we disagree on the format. */
  expectEnd(what: string): void {
    if (this.remaining !== 0) throw new FrameDecodeError(`${this.remaining} trailing bytes after ${what}`);
  }

  private need(length: number, what: string): void {
    if (length > this.remaining) throw new FrameDecodeError(`${what}: needs ${length} bytes, ${this.remaining} left`);
  }
}
