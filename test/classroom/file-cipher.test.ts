// The cipher of files attached to work: a file sealed in 64 KiB chunks opens whole and in any
// range (ranges across and at chunk edges open only what they need), and a sealed file that was
// cut short, had chunks swapped, a byte flipped, or is opened with another file's key is refused
// with a sentence, never with a crash or wrong bytes.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  chunkCount,
  FILE_CHUNK_BYTES,
  FileCipherError,
  largestPlainSize,
  newFileSecret,
  openFile,
  openFileRange,
  sealedFileSize,
  sealFile,
  type FileSecret,
} from '../../electron/classroom/sealing/file-cipher';
import { LIMITS } from '../../shared/classroom/commands';

const SEED = process.env.QUORUM_FUZZ_SEED ?? randomBytes(8).toString('hex');
console.log(`file-cipher seed ${SEED} (replay with QUORUM_FUZZ_SEED=${SEED})`);

/** `size` bytes drawn from the seed: the same file on every replay. */
function fileOf(size: number, label: string): Buffer {
  const out = Buffer.alloc(size);
  for (let block = 0; block * 32 < size; block++) {
    createHash('sha256').update(`${SEED} ${label} ${block}`).digest().copy(out, block * 32);
  }
  return out;
}

/** Reads of `sealed` that record which byte ranges were asked for. */
function readerOf(sealed: Uint8Array) {
  const asked: [number, number][] = [];
  return {
    asked,
    read: async (offset: number, length: number) => {
      asked.push([offset, length]);
      return sealed.subarray(offset, offset + length);
    },
  };
}

async function refusal(open: () => Promise<unknown>): Promise<string> {
  try {
    await open();
  } catch (error) {
    expect(error).toBeInstanceOf(FileCipherError);
    return (error as Error).message;
  }
  throw new Error('the file opened');
}

const TAG = 16;
const STRIDE = FILE_CHUNK_BYTES + TAG;

describe('sealing a file in chunks', () => {
  it.each([0, 1, FILE_CHUNK_BYTES - 1, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES + 1, 3 * FILE_CHUNK_BYTES + 12_345])('opens a file of %i bytes whole', async (size) => {
    const plain = fileOf(size, `whole ${size}`);
    const secret = newFileSecret();
    const sealed = sealFile(plain, secret);
    expect(sealed.byteLength).toBe(sealedFileSize(size));
    expect(sealed.byteLength).toBe(size + chunkCount(size) * TAG);
    expect((await openFile(secret, size, sealed)).equals(plain)).toBe(true);
  });

  it('holds none of the file’s bytes in the clear', () => {
    const plain = fileOf(5 * FILE_CHUNK_BYTES, 'clear');
    const sealed = sealFile(plain, newFileSecret());
    for (let at = 0; at + 64 <= plain.byteLength; at += 4096) expect(sealed.includes(plain.subarray(at, at + 64))).toBe(false);
  });

  it('seals the same file differently under each new key, so equal files cannot be told apart', () => {
    const plain = fileOf(1000, 'twice');
    expect(sealFile(plain, newFileSecret()).equals(sealFile(plain, newFileSecret()))).toBe(false);
  });

  it('keeps the largest attachment within the size a file reference may declare', () => {
    expect(largestPlainSize(LIMITS.fileBytes)).toBe(LIMITS.attachmentBytes);
    expect(sealedFileSize(LIMITS.attachmentBytes)).toBeLessThanOrEqual(LIMITS.fileBytes);
    expect(sealedFileSize(LIMITS.attachmentBytes + 1)).toBeGreaterThan(LIMITS.fileBytes);
  });
});

describe('reading a range of a sealed file', () => {
  const size = 4 * FILE_CHUNK_BYTES + 777;
  const plain = fileOf(size, 'ranges');
  const secret = newFileSecret();
  const sealed = sealFile(plain, secret);
  const C = FILE_CHUNK_BYTES;

  it.each([
    ['the first byte', 0, 1, [0]],
    ['the last byte of the first chunk', C - 1, 1, [0]],
    ['the first byte of the second chunk', C, 1, [1]],
    ['two bytes across the first edge', C - 1, 2, [0, 1]],
    ['exactly the second chunk', C, C, [1]],
    ['from the middle of one chunk to the middle of the fourth', C / 2, 3 * C, [0, 1, 2, 3]],
    ['the short last chunk', 4 * C, 777, [4]],
    ['past the end, cut at the end', 4 * C + 700, 10_000, [4]],
  ] as const)('%s opens only the chunks it needs', async (_, offset, length, chunks) => {
    const reader = readerOf(sealed);
    const bytes = await openFileRange(secret, size, sealed.byteLength, reader.read, offset, length);
    expect(bytes.equals(plain.subarray(offset, Math.min(size, offset + length)))).toBe(true);
    expect(reader.asked.map(([at]) => at / STRIDE)).toEqual(chunks);
  });

  it('answers a range from the end on with no bytes', async () => {
    expect((await openFileRange(secret, size, sealed.byteLength, readerOf(sealed).read, size, 10)).byteLength).toBe(0);
  });

  it('opens random ranges as the plaintext has them', async () => {
    const draw = createHash('sha256').update(`ranges ${SEED}`).digest();
    for (let i = 0; i + 8 <= draw.byteLength; i += 8) {
      const offset = draw.readUInt32BE(i) % size;
      const length = 1 + (draw.readUInt32BE(i + 4) % (2 * C));
      const bytes = await openFileRange(secret, size, sealed.byteLength, readerOf(sealed).read, offset, length);
      expect(bytes.equals(plain.subarray(offset, Math.min(size, offset + length))), `offset ${offset} length ${length}`).toBe(true);
    }
  });
});

describe('a sealed file that was tampered with', () => {
  const size = 3 * FILE_CHUNK_BYTES + 100;
  const plain = fileOf(size, 'tamper');
  const secret = newFileSecret();
  const sealed = sealFile(plain, secret);
  const whole = (bytes: Uint8Array, key: FileSecret = secret, plainSize = size) =>
    openFileRange(key, plainSize, bytes.byteLength, readerOf(bytes).read, 0, plainSize);

  it('is refused when cut short at a chunk edge, even with a matching size', async () => {
    const cut = sealed.subarray(0, 2 * STRIDE);
    expect(await refusal(() => whole(cut))).toMatch(/not the size it was sealed at/);
    // Claiming the cut file was sealed that short: its last chunk was not sealed as the last.
    expect(await refusal(() => whole(cut, secret, 2 * FILE_CHUNK_BYTES))).toMatch(/^Part 2 of 2 of this file does not open/);
  });

  it('is refused when its chunks are swapped', async () => {
    const swapped = Buffer.concat([sealed.subarray(STRIDE, 2 * STRIDE), sealed.subarray(0, STRIDE), sealed.subarray(2 * STRIDE)]);
    expect(await refusal(() => whole(swapped))).toMatch(/^Part 1 of 4 of this file does not open with its key/);
    // Even a read of just the second chunk's range is refused: it holds the first chunk.
    expect(await refusal(() => openFileRange(secret, size, swapped.byteLength, readerOf(swapped).read, FILE_CHUNK_BYTES, 10))).toMatch(/^Part 2 of 4/);
  });

  it('is refused, in the part that holds it, when one byte is flipped', async () => {
    const at = 2 * STRIDE + 5;
    const flipped = Buffer.from(sealed);
    flipped[at]! ^= 0x01;
    expect(await refusal(() => whole(flipped))).toBe(
      'Part 3 of 4 of this file does not open with its key: the file was damaged or altered, so it is not shown. Ask for it to be attached again.',
    );
    // The parts before it still open: a range read touches only its own chunks.
    const first = await openFileRange(secret, size, flipped.byteLength, readerOf(flipped).read, 0, 2 * FILE_CHUNK_BYTES);
    expect(first.equals(plain.subarray(0, 2 * FILE_CHUNK_BYTES))).toBe(true);
  });

  it('is refused under another file’s key or nonce, or with a chunk from another file', async () => {
    expect(await refusal(() => whole(sealed, newFileSecret()))).toMatch(/^Part 1 of 4/);
    expect(await refusal(() => whole(sealed, { key: secret.key, nonce: newFileSecret().nonce }))).toMatch(/^Part 1 of 4/);
    const other = sealFile(fileOf(size, 'other'), { key: secret.key, nonce: newFileSecret().nonce });
    const mixed = Buffer.concat([sealed.subarray(0, STRIDE), other.subarray(STRIDE, 2 * STRIDE), sealed.subarray(2 * STRIDE)]);
    expect(await refusal(() => whole(mixed))).toMatch(/^Part 2 of 4/);
  });

  it('is refused with a sentence when the key is not a key at all', async () => {
    expect(await refusal(() => whole(sealed, { key: new Uint8Array(5), nonce: secret.nonce }))).toMatch(/not a key this app made/);
  });
});
