// The wire format: every Raft message survives a round trip, and every malformed input is
// refused with FrameDecodeError (never another exception, never a hang or a huge allocation).
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  REQUEST_OVERHEAD_BYTES,
  RESPONSE_OVERHEAD_BYTES,
  SEALED_OVERHEAD_BYTES,
  type Frame,
} from '../../../electron/peer/transport/codec';
import { FrameDecodeError, FrameTooLargeError } from '../../../electron/peer/transport/errors';
import { MESSAGE_TYPES, MessageGenerator, testSeed } from './random-messages';

const ROUNDS_PER_TYPE = 300;

function expectDecodeError(bytes: Uint8Array, code?: string, maxFrameBytes?: number): FrameDecodeError {
  try {
    decodeFrame(bytes, maxFrameBytes);
  } catch (error) {
    expect(error).toBeInstanceOf(FrameDecodeError);
    if (code) expect((error as FrameDecodeError).code).toBe(code);
    return error as FrameDecodeError;
  }
  throw new Error(`decoded ${Buffer.from(bytes).toString('hex')} without error`);
}

/** A valid raft frame whose message is an `appResp` with small fields, for hand-made corruptions. */
function smallFrame(): Uint8Array {
  return encodeFrame({
    kind: 'raft',
    classTag: 'c',
    message: { type: 'appResp', from: 'a', to: 'b', term: 1, index: 2, reject: true, hintIndex: 3, hintTerm: 4 },
  });
}

describe('raft frames round-trip', () => {
  const seed = testSeed('codec round trip');
  const gen = new MessageGenerator(seed);

  it.each(MESSAGE_TYPES)('%s', (type) => {
    for (let round = 0; round < ROUNDS_PER_TYPE; round++) {
      const frame: Frame = { kind: 'raft', classTag: gen.text(8) || 'class-1', message: gen.message(type) };
      const decoded = decodeFrame(encodeFrame(frame));
      expect(decoded, `seed ${seed} round ${round}`).toEqual(frame);
    }
  });

  it('payloads cost their length plus a few bytes, not base64', () => {
    const data = new Uint8Array(100_000).fill(7);
    const encoded = encodeFrame({
      kind: 'raft',
      classTag: 'c',
      message: {
        ...{ type: 'app', from: 'a', to: 'b', term: 1, index: 0, logTerm: 0, commit: 0 },
        entries: [{ type: 'normal', index: 1, term: 1, data }],
      },
    });
    expect(encoded.byteLength).toBeLessThan(data.byteLength + 32);
  });
});

describe('handshake frames round-trip', () => {
  const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);
  it.each<Frame>([
    { kind: 'hello', ephemeralPublicKey: bytes(32, 1), nonce: bytes(32, 2) },
    { kind: 'sealed', ciphertext: bytes(40, 3) },
    { kind: 'auth', identityPublicKey: bytes(32, 4), signature: bytes(64, 5), classProofs: [bytes(32, 6), bytes(32, 7)] },
    { kind: 'auth', identityPublicKey: bytes(32, 4), signature: bytes(64, 5), classProofs: [] },
    { kind: 'classClaim', proof: bytes(32, 8) },
  ])('$kind', (frame) => {
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('refuses to encode fields of the wrong length', () => {
    expect(() => encodeFrame({ kind: 'hello', ephemeralPublicKey: bytes(31, 1), nonce: bytes(32, 2) })).toThrow(RangeError);
    expect(() => encodeFrame({ kind: 'classClaim', proof: bytes(33, 1) })).toThrow(RangeError);
  });
});

describe('request and response frames round-trip', () => {
  const payload = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
  it.each<[string, Frame]>([
    ['an empty request', { kind: 'request', classTag: 'math', requestId: 1, payload: payload(0) }],
    ['a small request', { kind: 'request', classTag: 'math', requestId: 127, payload: payload(100) }],
    ['a request with id 0', { kind: 'request', classTag: 'm', requestId: 0, payload: payload(1) }],
    ['a request with a two-byte id', { kind: 'request', classTag: 'm', requestId: 128, payload: payload(3) }],
    ['a request with the largest id', { kind: 'request', classTag: 'x'.repeat(255), requestId: 2 ** 32 - 1, payload: payload(70_000) }],
    ['an empty ok response', { kind: 'response', requestId: 1, status: 'ok', payload: payload(0) }],
    ['an ok response', { kind: 'response', requestId: 2 ** 32 - 1, status: 'ok', payload: payload(300) }],
    ['an error response', { kind: 'response', requestId: 9, status: 'error', errorCode: 'HANDLER_FAILED' }],
    ['an error code of 64 characters', { kind: 'response', requestId: 9, status: 'error', errorCode: `E${'_9'.repeat(31)}Z` }],
  ])('%s', (_name, frame) => {
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('random requests and responses', () => {
    const seed = testSeed('codec requests');
    const gen = new MessageGenerator(seed);
    for (let round = 0; round < 500; round++) {
      const requestId = gen.int(0, 2 ** 32);
      const frame: Frame =
        round % 3 === 0
          ? { kind: 'request', classTag: gen.text(8) || 'class-1', requestId, payload: gen.bytes(300) }
          : round % 3 === 1
            ? { kind: 'response', requestId, status: 'ok', payload: gen.bytes(300) }
            : { kind: 'response', requestId, status: 'error', errorCode: gen.pick(['BUSY', 'NO_HANDLER', 'X1']) };
      expect(decodeFrame(encodeFrame(frame)), `seed ${seed} round ${round}`).toEqual(frame);
    }
  });

  it('refuses to encode an id that is not a 32-bit integer, or an error code that is not an identifier', () => {
    const request = (requestId: number): Frame => ({ kind: 'request', classTag: 'c', requestId, payload: new Uint8Array(1) });
    for (const requestId of [-1, 1.5, 2 ** 32, Number.NaN]) expect(() => encodeFrame(request(requestId))).toThrow(RangeError);
    const error = (errorCode: string): Frame => ({ kind: 'response', requestId: 1, status: 'error', errorCode });
    for (const errorCode of ['', 'busy', '1BUSY', 'NOT FOUND', 'A'.repeat(65), 'Error: at /home/x.ts:12']) {
      expect(() => encodeFrame(error(errorCode)), errorCode).toThrow(RangeError);
    }
    expect(() => encodeFrame({ kind: 'request', classTag: '', requestId: 1, payload: new Uint8Array(0) })).toThrow(RangeError);
  });

  it('the overhead constants bound what a frame adds to its payload', () => {
    const max = 64 * 1024;
    const request: Frame = {
      kind: 'request',
      classTag: 'x'.repeat(255),
      requestId: 2 ** 32 - 1,
      payload: new Uint8Array(max - REQUEST_OVERHEAD_BYTES),
    };
    expect(encodeFrame(request, max - SEALED_OVERHEAD_BYTES).byteLength).toBeLessThanOrEqual(max - SEALED_OVERHEAD_BYTES);
    const response: Frame = { kind: 'response', requestId: 2 ** 32 - 1, status: 'ok', payload: new Uint8Array(max - RESPONSE_OVERHEAD_BYTES) };
    expect(encodeFrame(response, max - SEALED_OVERHEAD_BYTES).byteLength).toBeLessThanOrEqual(max - SEALED_OVERHEAD_BYTES);
  });

  it('a payload over the limit is refused before it is copied', () => {
    const huge = new Uint8Array(64 * 1024 * 1024);
    expect(() => encodeFrame({ kind: 'request', classTag: 'c', requestId: 1, payload: huge }, 1024)).toThrow(FrameTooLargeError);
    expect(() => encodeFrame({ kind: 'response', requestId: 1, status: 'ok', payload: huge }, 1024)).toThrow(FrameTooLargeError);
  });
});

describe('malformed frames are refused', () => {
  it.each<[string, number[], string?]>([
    ['empty', []],
    ['only a version', [1]],
    ['an unknown version', [2, 4], 'FRAME_VERSION'],
    ['version 0', [0, 1], 'FRAME_VERSION'],
    ['an unknown kind', [1, 99]],
    ['a short hello', [1, 1, ...new Array(63).fill(0)]],
    ['a sealed frame shorter than its tag', [1, 2, ...new Array(15).fill(0)]],
    ['an empty class tag', [1, 4, 0, 2]],
    ['an unknown message type', [1, 4, 1, 0x63, 99]],
    ['a non-canonical varint', [1, 4, 1, 0x63, 2, 1, 0x61, 1, 0x62, 0x81, 0x00]],
    ['a varint longer than 8 bytes', [1, 4, 1, 0x63, 2, 1, 0x61, 1, 0x62, ...new Array(9).fill(0xff), 1]],
    ['an integer above 2^53', [1, 4, 1, 0x63, 2, 1, 0x61, 1, 0x62, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]],
    ['invalid UTF-8 in the class tag', [1, 4, 2, 0xc3, 0x28]],
    ['a string longer than the frame', [1, 4, 100, 0x63]],
    ['a class tag over 255 bytes', [1, 4, 0x80, 0x02, ...new Array(256).fill(0x61)]],
    ['an entry count larger than the bytes left', [1, 4, 1, 0x63, 1, 1, 0x61, 1, 0x62, 1, 0, 0, 0, 0xff, 0xff, 0x03]],
    ['a proof count over the limit', [1, 3, ...new Array(96).fill(0), 0x81, 0x08, ...new Array(1025 * 32).fill(0)]],
    ['a request with an empty class tag', [1, 6, 0, 1, 0]],
    ['a request with an id over 32 bits', [1, 6, 1, 0x63, 0x80, 0x80, 0x80, 0x80, 0x10, 0]],
    ['a request with a non-canonical id', [1, 6, 1, 0x63, 0x81, 0x00, 0]],
    ['a request without a payload', [1, 6, 1, 0x63, 1]],
    ['a request whose payload is longer than the frame', [1, 6, 1, 0x63, 1, 5, 1, 2]],
    ['a request with trailing bytes', [1, 6, 1, 0x63, 1, 1, 9, 9]],
    ['a response without a status', [1, 7, 1]],
    ['a response with an unknown status', [1, 7, 1, 2, 0]],
    ['a response with an id over 32 bits', [1, 7, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0]],
    ['an ok response whose payload is longer than the frame', [1, 7, 1, 0, 3, 1]],
    ['an ok response with trailing bytes', [1, 7, 1, 0, 0, 9]],
    ['an error response with an empty code', [1, 7, 1, 1, 0]],
    ['an error response with a lower-case code', [1, 7, 1, 1, 4, 0x62, 0x75, 0x73, 0x79]],
    ['an error response with a space in its code', [1, 7, 1, 1, 3, 0x41, 0x20, 0x42]],
    ['an error response with invalid UTF-8 in its code', [1, 7, 1, 1, 2, 0xc3, 0x28]],
    ['an error response with a code over 64 bytes', [1, 7, 1, 1, 65, ...new Array(65).fill(0x41)]],
    ['an error response with a payload after its code', [1, 7, 1, 1, 1, 0x41, 0]],
  ])('%s', (_name, bytes, code) => {
    expectDecodeError(Uint8Array.from(bytes), code);
  });

  it('a boolean other than 0 or 1', () => {
    const bytes = smallFrame();
    const rejectAt = bytes.byteLength - 3; // appResp ends with reject, hintIndex, hintTerm (one byte each here)
    expect(decodeFrame(bytes)).toMatchObject({ message: { reject: true } });
    const corrupt = bytes.slice();
    corrupt[rejectAt] = 2;
    expectDecodeError(corrupt);
  });

  it('trailing bytes', () => {
    const bytes = smallFrame();
    expectDecodeError(Uint8Array.from([...bytes, 0]));
  });

  it('every truncation of every message type', () => {
    const gen = new MessageGenerator(testSeed('codec truncation'));
    for (const type of MESSAGE_TYPES) {
      const bytes = encodeFrame({ kind: 'raft', classTag: 'class', message: gen.message(type) });
      for (let length = 0; length < bytes.byteLength; length++) expectDecodeError(bytes.subarray(0, length));
    }
  });

  it('every truncation of requests and responses', () => {
    const payload = Uint8Array.from([1, 2, 3, 4, 5]);
    const frames: Frame[] = [
      { kind: 'request', classTag: 'class', requestId: 300, payload },
      { kind: 'response', requestId: 300, status: 'ok', payload },
      { kind: 'response', requestId: 300, status: 'error', errorCode: 'BUSY' },
    ];
    for (const frame of frames) {
      const bytes = encodeFrame(frame);
      for (let length = 0; length < bytes.byteLength; length++) expectDecodeError(bytes.subarray(0, length));
    }
  });

  it('random corruption only ever yields FrameDecodeError or a frame', () => {
    const seed = testSeed('codec corruption');
    const gen = new MessageGenerator(seed);
    for (let round = 0; round < 3000; round++) {
      const bytes = encodeFrame(
        round % 4 === 0
          ? { kind: 'request', classTag: 'class', requestId: gen.int(0, 2 ** 32), payload: gen.bytes(50) }
          : round % 4 === 1
            ? { kind: 'response', requestId: gen.int(0, 2 ** 32), status: 'error', errorCode: 'HANDLER_FAILED' }
            : { kind: 'raft', classTag: 'class', message: gen.message(gen.pick(MESSAGE_TYPES)) },
      );
      const flips = gen.int(1, 4);
      for (let i = 0; i < flips; i++) bytes[gen.int(0, bytes.byteLength)] ^= 1 << gen.int(0, 8);
      try {
        decodeFrame(bytes);
      } catch (error) {
        expect(error, `seed ${seed} round ${round}`).toBeInstanceOf(FrameDecodeError);
      }
    }
  });

  it('random garbage only ever yields FrameDecodeError', () => {
    const seed = testSeed('codec garbage');
    const gen = new MessageGenerator(seed);
    for (let round = 0; round < 3000; round++) {
      const bytes = gen.bytes(200);
      if (round % 2 === 0 && bytes.byteLength > 2) bytes.set([1, gen.int(1, 8)]); // get past the header half the time
      try {
        decodeFrame(bytes);
      } catch (error) {
        expect(error, `seed ${seed} round ${round}`).toBeInstanceOf(FrameDecodeError);
      }
    }
  });
});

describe('the size limit', () => {
  it('is checked before anything is parsed', () => {
    const error = expectDecodeError(new Uint8Array(1025), 'FRAME_TOO_LARGE', 1024);
    expect(error).toBeInstanceOf(FrameTooLargeError);
  });

  it('applies to encoding, so we never send what a peer must refuse', () => {
    const data = new Uint8Array(2000);
    const frame: Frame = {
      kind: 'raft',
      classTag: 'c',
      message: {
        ...{ type: 'snap', from: 'a', to: 'b', term: 1, attempt: 1, offset: 0, totalBytes: 2000, data },
        meta: { index: 1, term: 1, confState: { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
      },
    };
    expect(() => encodeFrame(frame, 1024)).toThrow(FrameTooLargeError);
    expect(decodeFrame(encodeFrame(frame, 4096), 4096)).toEqual(frame);
  });

  it('defaults to 4 MiB', () => {
    expectDecodeError(new Uint8Array(4 * 1024 * 1024 + 1), 'FRAME_TOO_LARGE');
  });
});
