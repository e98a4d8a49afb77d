// Sealed frames open once, in order, unaltered, and under their own direction's key only.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FrameAuthenticationError } from '../../../electron/peer/transport/errors';
import { RecordOpener, RecordSealer } from '../../../electron/peer/transport/record-cipher';

const header = Uint8Array.of(1, 2);
const text = (value: string) => new TextEncoder().encode(value);

function pair() {
  const key = new Uint8Array(randomBytes(32));
  return { sealer: new RecordSealer(key), opener: new RecordOpener(key) };
}

describe('record cipher', () => {
  it('opens frames in the order they were sealed', () => {
    const { sealer, opener } = pair();
    const frames = ['one', 'two', '', 'four'].map((value) => sealer.seal(text(value), header));
    expect(frames.map((frame) => new TextDecoder().decode(opener.open(frame, header)))).toEqual(['one', 'two', '', 'four']);
  });

  it.each<[string, (frames: Uint8Array[]) => Uint8Array]>([
    ['a replayed frame', (frames) => frames[0]!],
    ['a frame out of order', (frames) => frames[2]!],
    ['a truncated frame', (frames) => frames[1]!.subarray(0, frames[1]!.byteLength - 1)],
    ['a frame with a flipped bit', (frames) => frames[1]!.map((byte, i) => (i === 3 ? byte ^ 1 : byte))],
    ['a frame under another key', () => new RecordSealer(new Uint8Array(32)).seal(text('x'), header)],
    ['a frame shorter than its tag', () => new Uint8Array(10)],
  ])('refuses %s', (_name, pick) => {
    const { sealer, opener } = pair();
    const frames = ['a', 'b', 'c'].map((value) => sealer.seal(text(value), header));
    opener.open(frames[0]!, header);
    expect(() => opener.open(pick(frames), header)).toThrow(FrameAuthenticationError);
  });

  it('authenticates the frame header', () => {
    const { sealer, opener } = pair();
    expect(() => opener.open(sealer.seal(text('x'), header), Uint8Array.of(1, 3))).toThrow(FrameAuthenticationError);
  });
});
