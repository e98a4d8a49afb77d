// The blob store on real files in a temp folder: what goes in comes out under its SHA-256, a
// half-written file is never a blob and is gone after a restart, hostile names never reach the
// file system, and sizes over the limit are refused with a sentence a teacher can act on.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../electron/peer/blobs/blob-hash';
import { BlobStore } from '../../../electron/peer/blobs/blob-store';
import {
  BlobHashMismatchError,
  BlobNotFoundError,
  BlobRangeError,
  BlobSizeMismatchError,
  BlobTooLargeError,
  InvalidBlobHashError,
} from '../../../electron/peer/blobs/errors';

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'quorum-blobs-'));
  folders.push(folder);
  return folder;
}

async function freshStore(maxBlobBytes?: number): Promise<BlobStore> {
  return BlobStore.open(await freshFolder(), maxBlobBytes === undefined ? {} : { maxBlobBytes });
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('BlobStore', () => {
  it('stores bytes under their SHA-256 and gives them back, whole or in chunks', async () => {
    const store = await freshStore();
    const bytes = randomBytes(100_000);
    const sha256 = await store.put(bytes);

    expect(sha256).toBe(sha256Hex(bytes));
    expect(await store.has(sha256)).toBe(true);
    expect(await store.size(sha256)).toBe(100_000);
    expect(Buffer.from(await store.read(sha256, 0, 100_000)).equals(bytes)).toBe(true);
    expect(Buffer.from(await store.read(sha256, 40_000, 10)).equals(bytes.subarray(40_000, 40_010))).toBe(true);
    // A read running past the end stops at the end.
    expect(Buffer.from(await store.read(sha256, 99_990, 1000)).equals(bytes.subarray(99_990))).toBe(true);
    expect(await store.list()).toEqual([sha256]);
    // Fanned out by the first two hex characters.
    expect(await readFile(join(store.directory, sha256.slice(0, 2), sha256))).toEqual(bytes);
  });

  it('keeps one copy of bytes put twice, and lists blobs sorted', async () => {
    const store = await freshStore();
    const a = await store.put(Buffer.from('worksheet'));
    const again = await store.put(Buffer.from('worksheet'));
    const b = await store.put(Buffer.from('answers'));

    expect(again).toBe(a);
    expect(await store.list()).toEqual([a, b].sort());
  });

  it('stores the empty file', async () => {
    const store = await freshStore();
    expect(await store.put(new Uint8Array(0))).toBe(EMPTY_SHA256);
    expect(await store.size(EMPTY_SHA256)).toBe(0);
    expect(await store.read(EMPTY_SHA256, 0, 10)).toHaveLength(0);
  });

  it('refuses bytes that do not match the hash the caller expected', async () => {
    const store = await freshStore();
    await expect(store.put(Buffer.from('tampered'), sha256Hex(Buffer.from('original')))).rejects.toBeInstanceOf(BlobHashMismatchError);
    expect(await store.list()).toEqual([]);
  });

  it('answers missing blobs with null, false and BlobNotFoundError', async () => {
    const store = await freshStore();
    const absent = sha256Hex(Buffer.from('never stored'));
    expect(await store.has(absent)).toBe(false);
    expect(await store.size(absent)).toBeNull();
    expect(await store.delete(absent)).toBe(false);
    await expect(store.read(absent, 0, 1)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('refuses a read starting past the end or with a range that is not whole numbers', async () => {
    const store = await freshStore();
    const sha256 = await store.put(Buffer.from('0123456789'));
    for (const [offset, length] of [[11, 1], [-1, 1], [0, -1], [0.5, 1], [0, Number.NaN]] as const) {
      await expect(store.read(sha256, offset, length), `${offset}, ${length}`).rejects.toBeInstanceOf(BlobRangeError);
    }
  });

  it('deletes a blob', async () => {
    const store = await freshStore();
    const sha256 = await store.put(Buffer.from('old draft'));
    expect(await store.delete(sha256)).toBe(true);
    expect(await store.has(sha256)).toBe(false);
    expect(await store.list()).toEqual([]);
  });

  describe('hostile names', () => {
    const valid = sha256Hex(Buffer.from('x'));
    it.each([
      ['a path out of the folder', '../../../../etc/passwd'],
      ['dots and a valid-looking tail', `..${valid.slice(2)}`],
      ['a separator inside', `${valid.slice(0, 30)}/${valid.slice(31)}`],
      ['a Windows separator', `${valid.slice(0, 30)}\\${valid.slice(31)}`],
      ['uppercase hex', valid.toUpperCase()],
      ['one character short', valid.slice(1)],
      ['one character long', `${valid}0`],
      ['a trailing newline', `${valid}\n`],
      ['a NUL byte', `${valid.slice(0, 63)}\u0000`],
      ['a non-hex letter', `${valid.slice(0, 63)}g`],
      ['the empty string', ''],
      ['not a string at all', 42 as unknown as string],
    ])('refuses %s before touching the disk', async (_what, name) => {
      const store = await freshStore();
      await expect(store.has(name)).rejects.toBeInstanceOf(InvalidBlobHashError);
      await expect(store.size(name)).rejects.toBeInstanceOf(InvalidBlobHashError);
      await expect(store.read(name, 0, 1)).rejects.toBeInstanceOf(InvalidBlobHashError);
      await expect(store.delete(name)).rejects.toBeInstanceOf(InvalidBlobHashError);
      await expect(store.writer(name, 1)).rejects.toBeInstanceOf(InvalidBlobHashError);
      await expect(store.put(Buffer.from('x'), name)).rejects.toBeInstanceOf(InvalidBlobHashError);
      expect(await readdir(join(store.directory, 'tmp'))).toEqual([]);
    });

    it('lists only blob-shaped names, whatever else is in the folder', async () => {
      const store = await freshStore();
      const sha256 = await store.put(Buffer.from('real'));
      await writeFile(join(store.directory, sha256.slice(0, 2), 'notes.txt'), 'stray');
      await writeFile(join(store.directory, 'ff'), 'a file named like a shard');
      await mkdir(join(store.directory, 'zz'));
      // A valid hash in the wrong shard is not where the store would look for it.
      const misplaced = sha256Hex(Buffer.from('elsewhere'));
      const wrongShard = misplaced.startsWith('00') ? '01' : '00';
      await mkdir(join(store.directory, wrongShard), { recursive: true });
      await writeFile(join(store.directory, wrongShard, misplaced), 'elsewhere');
      expect(await store.list()).toEqual([sha256]);
    });
  });

  describe('size limits', () => {
    it('refuses a put over the limit with a sentence naming both sizes', async () => {
      const store = await freshStore(1024 * 1024);
      const error = await store.put(new Uint8Array(1024 * 1024 + 1)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BlobTooLargeError);
      expect((error as BlobTooLargeError).code).toBe('TOO_LARGE');
      expect((error as BlobTooLargeError).message).toBe(
        'This file is just over 1 MB, but attachments can be at most 1 MB. Make the file smaller (for example by compressing it or splitting it into parts) and try again.',
      );
      expect(await store.list()).toEqual([]);
    });

    it('accepts a file of exactly the limit', async () => {
      const store = await freshStore(1000);
      expect(await store.size(await store.put(new Uint8Array(1000)))).toBe(1000);
    });

    it('refuses a writer for a declared size over the limit before writing anything', async () => {
      const store = await freshStore(1000);
      await expect(store.writer(sha256Hex(Buffer.from('big')), 1001)).rejects.toBeInstanceOf(BlobTooLargeError);
      expect(await readdir(join(store.directory, 'tmp'))).toEqual([]);
    });

    it('defaults to the 50 MB a file reference may declare', async () => {
      const store = await freshStore();
      expect(store.maxBlobBytes).toBe(50 * 1024 * 1024);
      const error = new BlobTooLargeError(72 * 1024 * 1024 + 300 * 1024, store.maxBlobBytes, 'field trip.mov');
      expect(error.message).toMatch(/^The file "field trip.mov" is 72.3 MB, but attachments can be at most 50 MB\./);
    });
  });

  describe('receiving in chunks', () => {
    it('publishes the blob only when the last chunk is in and the hash matches', async () => {
      const store = await freshStore();
      const bytes = randomBytes(3000);
      const sha256 = sha256Hex(bytes);
      const writer = await store.writer(sha256, bytes.byteLength);

      await writer.append(bytes.subarray(0, 1000));
      await writer.append(bytes.subarray(1000, 2000));
      expect(await store.has(sha256)).toBe(false);
      await writer.append(bytes.subarray(2000));
      expect(writer.written).toBe(3000);
      await writer.finish();

      expect(Buffer.from(await store.read(sha256, 0, 3000)).equals(bytes)).toBe(true);
      expect(await readdir(join(store.directory, 'tmp'))).toEqual([]);
    });

    it('throws the damaged copy away when the bytes do not hash to the expected SHA-256', async () => {
      const store = await freshStore();
      const bytes = randomBytes(3000);
      const sha256 = sha256Hex(bytes);
      const damaged = Buffer.from(bytes);
      damaged[1234]! ^= 0x01;
      const writer = await store.writer(sha256, 3000);
      await writer.append(damaged);

      const error = await writer.finish().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BlobHashMismatchError);
      expect((error as Error).message).toMatch(/was damaged .* so it was thrown away\.$/);
      expect(await store.has(sha256)).toBe(false);
      expect(await readdir(join(store.directory, 'tmp'))).toEqual([]);
    });

    it('repairs a damaged copy in place: the chunk written again, the hash worked out again from the file', async () => {
      const store = await freshStore();
      const bytes = randomBytes(3000);
      const sha256 = sha256Hex(bytes);
      const damaged = Buffer.from(bytes);
      damaged[1234]! ^= 0x01;
      const writer = await store.writer(sha256, 3000);
      await writer.append(damaged.subarray(0, 1500));
      await writer.append(damaged.subarray(1500));
      expect(await writer.isIntact()).toBe(false);
      expect(await store.has(sha256)).toBe(false);

      await expect(writer.rewrite(2000, new Uint8Array(1001))).rejects.toBeInstanceOf(RangeError); // past what was written
      await writer.rewrite(1000, bytes.subarray(1000, 1500));
      expect(await writer.isIntact()).toBe(true);
      await writer.finish();

      expect(Buffer.from(await store.read(sha256, 0, 3000)).equals(bytes)).toBe(true);
      expect(await readdir(join(store.directory, 'tmp'))).toEqual([]);
    });

    it('throws away a repaired copy that still does not match', async () => {
      const store = await freshStore();
      const bytes = randomBytes(3000);
      const writer = await store.writer(sha256Hex(bytes), 3000);
      await writer.append(bytes);
      await writer.rewrite(0, Buffer.from('wrong'));
      await expect(writer.finish()).rejects.toBeInstanceOf(BlobHashMismatchError);
      expect(writer.isOpen).toBe(false);
      expect(await store.list()).toEqual([]);
      expect(await readdir(join(store.directory, 'tmp'))).toEqual([]);
    });

    it('refuses more bytes than declared at once, and fewer at the end', async () => {
      const store = await freshStore();
      const bytes = randomBytes(100);
      const sha256 = sha256Hex(bytes);

      const tooMany = await store.writer(sha256, 100);
      await tooMany.append(bytes.subarray(0, 60));
      await expect(tooMany.append(bytes.subarray(0, 60))).rejects.toBeInstanceOf(BlobSizeMismatchError);

      const tooFew = await store.writer(sha256, 100);
      await tooFew.append(bytes.subarray(0, 99));
      await expect(tooFew.finish()).rejects.toBeInstanceOf(BlobSizeMismatchError);

      expect(await store.has(sha256)).toBe(false);
      expect(await readdir(join(store.directory, 'tmp'))).toEqual([]);
    });

    it('forgets an aborted download', async () => {
      const store = await freshStore();
      const bytes = randomBytes(100);
      const writer = await store.writer(sha256Hex(bytes), 100);
      await writer.append(bytes.subarray(0, 50));
      await writer.abort();
      await writer.abort(); // twice is fine
      expect(await readdir(join(store.directory, 'tmp'))).toEqual([]);
      await expect(writer.append(bytes)).rejects.toThrow(/aborted/);
    });
  });

  describe('after a crash', () => {
    it('never shows a half-written download as a blob, and deletes it on the next open', async () => {
      const folder = await freshFolder();
      const store = await BlobStore.open(folder);
      const bytes = randomBytes(10_000);
      const sha256 = sha256Hex(bytes);
      const writer = await store.writer(sha256, bytes.byteLength);
      await writer.append(bytes.subarray(0, 5000));
      // The laptop dies here: the writer is never finished nor aborted.

      expect(await store.has(sha256)).toBe(false);
      expect(await store.list()).toEqual([]);
      expect(await readdir(join(folder, 'tmp'))).toHaveLength(1);

      const reopened = await BlobStore.open(folder);
      expect(await readdir(join(folder, 'tmp'))).toEqual([]);
      expect(await reopened.list()).toEqual([]);
      // And the download can start over.
      await reopened.put(bytes, sha256);
      expect(await reopened.list()).toEqual([sha256]);
    });

    it('ignores and cleans up whatever junk is in the temp folder', async () => {
      const folder = await freshFolder();
      const valid = sha256Hex(Buffer.from('a finished blob'));
      await mkdir(join(folder, 'tmp', 'nested'), { recursive: true });
      await writeFile(join(folder, 'tmp', 'abc.part'), 'half a file');
      await writeFile(join(folder, 'tmp', valid), 'named like a blob but never published');
      await writeFile(join(folder, 'tmp', 'nested', 'deep.part'), 'x');

      const store = await BlobStore.open(folder);
      expect(await readdir(join(folder, 'tmp'))).toEqual([]);
      expect(await store.list()).toEqual([]);
      expect(await store.has(valid)).toBe(false);
    });

    it('finds a blob damaged on disk when verifying it, and deletes it so it is fetched again', async () => {
      const store = await freshStore();
      const sound = await store.put(Buffer.from('sound'));
      const rotten = await store.put(Buffer.from('rotten'));
      await writeFile(join(store.directory, rotten.slice(0, 2), rotten), 'rotteN');

      expect(await store.verify(sound)).toBe(true);
      expect(await store.verify(rotten)).toBe(false);
      expect(await store.list()).toEqual([sound]);
    });

    it('checks a copy it has not checked since it opened before giving its size, and deletes it when damaged', async () => {
      const folder = await freshFolder();
      const first = await BlobStore.open(folder);
      const sound = await first.put(randomBytes(300_000));
      const rotten = await first.put(randomBytes(300_000));
      const path = join(folder, rotten.slice(0, 2), rotten);
      const damaged = await readFile(path);
      damaged[150_000]! ^= 0x01;
      await writeFile(path, damaged);

      // As after a restart: nothing checked yet.
      const store = await BlobStore.open(folder);
      expect(await store.size(rotten)).toBe(300_000); // present, as far as the folder says
      expect(await Promise.all([store.checkedSize(rotten), store.checkedSize(rotten)])).toEqual([null, null]);
      expect(await store.checkedSize(sound)).toBe(300_000);
      expect(await store.list()).toEqual([sound]);
    });

    it('gives the hash of each chunk of a sound copy, and none for a damaged one, which it deletes', async () => {
      const store = await freshStore();
      const bytes = randomBytes(40_000);
      const sha256 = await store.put(bytes);
      expect(await store.chunkHashes(sha256, 16_384)).toEqual([
        sha256Hex(bytes.subarray(0, 16_384)),
        sha256Hex(bytes.subarray(16_384, 32_768)),
        sha256Hex(bytes.subarray(32_768)),
      ]);
      expect(await store.chunkHashes(sha256Hex(Buffer.from('absent')), 16_384)).toBeNull();

      const damaged = Buffer.from(bytes);
      damaged[20_000]! ^= 0x80;
      await writeFile(join(store.directory, sha256.slice(0, 2), sha256), damaged);
      expect(await store.chunkHashes(sha256, 16_384)).toBeNull();
      expect(await store.has(sha256)).toBe(false);
    });

    it('replaces a damaged copy of the same size, not checked since it opened, when the right bytes are put again', async () => {
      const folder = await freshFolder();
      const bytes = Buffer.from('original');
      const sha256 = await (await BlobStore.open(folder)).put(bytes);
      await writeFile(join(folder, sha256.slice(0, 2), sha256), 'origiNal');
      const store = await BlobStore.open(folder);
      await store.put(bytes);
      expect(Buffer.from(await store.read(sha256, 0, 100)).toString()).toBe('original');
    });

    it('replaces a damaged copy when the right bytes are put again', async () => {
      const store = await freshStore();
      const sha256 = await store.put(Buffer.from('original'));
      await writeFile(join(store.directory, sha256.slice(0, 2), sha256), 'trunc');
      await store.put(Buffer.from('original'));
      expect(Buffer.from(await store.read(sha256, 0, 100)).toString()).toBe('original');
    });
  });
});
