// The wire format: every Raft message survives a round trip, and every malformed input is
// refused with FrameDecodeError (never another exception, never a hang or a huge allocation).
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, type Frame } from '../../../electron/peer/transport/codec';
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

  it('random corruption only ever yields FrameDecodeError or a frame', () => {
    const seed = testSeed('codec corruption');
    const gen = new MessageGenerator(seed);
    for (let round = 0; round < 3000; round++) {
      const bytes = encodeFrame({ kind: 'raft', classTag: 'class', message: gen.message(gen.pick(MESSAGE_TYPES)) });
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
      if (round % 2 === 0 && bytes.byteLength > 2) bytes.set([1, gen.int(1, 6)]); // get past the header half the time
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
