// Pulling attachments between laptops over real WebSocket transports on 127.0.0.1, each laptop
// with its own store on real files: a multi-chunk file arrives whole and verified, with progress;
// a damaged copy is repaired with only its damaged chunks, fetched again from an honest laptop;
// a laptop that vouches for chunks that do not make up the file, one that sends chunks longer
// than asked, and one that stops answering are each left for an honest one; a laptop never hands
// out a copy damaged on its own disk; a file nobody has fails with a sentence to show.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobFetcher, type BlobFetcherOptions, type BlobProgress } from '../../../electron/peer/blobs/blob-fetcher';
import { sha256Hex } from '../../../electron/peer/blobs/blob-hash';
import { answerBlobRequest } from '../../../electron/peer/blobs/blob-server';
import { BlobStore } from '../../../electron/peer/blobs/blob-store';
import { BlobFetchAbortedError, BlobTooLargeError, BlobUnavailableError } from '../../../electron/peer/blobs/errors';
import { decodeBlobReply, encodeBlobReply } from '../../../electron/peer/blobs/protocol';
import { RequestFailedError } from '../../../electron/peer/transport/errors';
import type { RequestHandler } from '../../../electron/peer/transport/types';
import { connectAll, Harness, type TestNode } from '../transport/harness';

const harness = new Harness();
const folders: string[] = [];
afterEach(async () => {
  await harness.stopAll();
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

const KiB = 1024;
const MiB = 1024 * KiB;
const CLASS = 'math';

interface Laptop {
  node: TestNode;
  /** Replaced to model a restart of the laptop. */
  store: BlobStore;
  /** Blob requests this laptop's handler received. */
  served: number;
}

/** `count` laptops in one class, all connected, each with an empty store. */
async function laptops(count: number): Promise<Laptop[]> {
  const all: Laptop[] = [];
  for (let i = 0; i < count; i++) {
    const folder = await mkdtemp(join(tmpdir(), 'quorum-blobs-'));
    folders.push(folder);
    all.push({ node: await harness.node({ classes: { [CLASS]: CLASS } }), store: await BlobStore.open(folder), served: 0 });
  }
  await connectAll(
    harness,
    all.map((laptop) => laptop.node),
  );
  return all;
}

/** Serves the laptop's store as the peer will: the transport's request handler calls answerBlobRequest. */
function serve(laptop: Laptop, tamper?: (reply: Uint8Array) => Uint8Array | Promise<Uint8Array>): void {
  const handler: RequestHandler = async (_from, _classTag, payload) => {
    laptop.served++;
    const reply = await answerBlobRequest(laptop.store, payload); // the store in use now
    return tamper ? tamper(reply) : reply;
  };
  laptop.node.transport.onRequest(handler);
}

/** A fetcher on `laptop` that pulls over its real transport. */
function fetcherOn(laptop: Laptop, options: Partial<BlobFetcherOptions> = {}): BlobFetcher {
  return new BlobFetcher({
    store: laptop.store,
    request: (laptopId, payload, timeoutMs) => laptop.node.transport.request(laptopId, CLASS, payload, timeoutMs),
    ...options,
  });
}

/** A file of 1 MiB and a few bytes: five chunks of 256 KiB, the last of 3 bytes. */
async function worksheet(): Promise<{ bytes: Buffer; sha256: string; size: number; name: string }> {
  const bytes = randomBytes(MiB + 3);
  return { bytes, sha256: sha256Hex(bytes), size: bytes.byteLength, name: 'worksheet.pdf' };
}

/** Stores `bytes` on `laptop`, then damages one byte on its disk, keeping the size. */
async function storeDamaged(laptop: Laptop, bytes: Buffer): Promise<void> {
  const sha256 = await laptop.store.put(bytes);
  const damaged = Buffer.from(bytes);
  damaged[700_000]! ^= 0xff;
  await writeFile(join(laptop.store.directory, sha256.slice(0, 2), sha256), damaged);
}

async function storedBytes(laptop: Laptop, sha256: string): Promise<Buffer> {
  const size = (await laptop.store.size(sha256))!;
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < size; offset += MiB) parts.push(await laptop.store.read(sha256, offset, MiB));
  return Buffer.concat(parts);
}

describe('BlobFetcher over real transports', () => {
  it('pulls a multi-chunk file from the laptop that has it, verified, reporting progress', async () => {
    const [teacher, student] = await laptops(2);
    const file = await worksheet();
    await teacher!.store.put(file.bytes);
    serve(teacher!);

    const progress: BlobProgress[] = [];
    const result = await fetcherOn(student!).fetch(file, [teacher!.node.id], { onProgress: (p) => progress.push(p) });

    expect(result).toEqual({ sha256: file.sha256, size: file.size, source: teacher!.node.id, damagedBy: [], repairedChunks: 0 });
    expect((await storedBytes(student!, file.sha256)).equals(file.bytes)).toBe(true);
    // One query, then five reads.
    expect(teacher!.served).toBe(6);
    expect(progress.map((p) => p.bytesDone)).toEqual([0, 256 * KiB, 512 * KiB, 768 * KiB, MiB, MiB + 3]);
    expect(progress.every((p) => p.totalBytes === file.size && p.source === teacher!.node.id && p.sha256 === file.sha256)).toBe(true);
    expect(await readdir(join(student!.store.directory, 'tmp'))).toEqual([]);
  });

  it('keeps no more reads in flight than allowed', async () => {
    const [teacher, student] = await laptops(2);
    const bytes = randomBytes(20 * 64 * KiB);
    const sha256 = await teacher!.store.put(bytes);
    let serving = 0;
    let mostAtOnce = 0;
    serve(teacher!, async (reply) => {
      serving++;
      mostAtOnce = Math.max(mostAtOnce, serving);
      await new Promise((resolve) => setTimeout(resolve, 5));
      serving--;
      return reply;
    });

    await fetcherOn(student!, { chunkBytes: 64 * KiB, maxInFlight: 3 }).fetch({ sha256, size: bytes.byteLength }, [teacher!.node.id]);

    expect(teacher!.served).toBe(21);
    expect(mostAtOnce).toBeLessThanOrEqual(3);
    expect(mostAtOnce).toBeGreaterThan(1); // and they do overlap
    expect((await storedBytes(student!, sha256)).equals(bytes)).toBe(true);
  });

  it('repairs a damaged copy with the one damaged chunk, fetched again from an honest laptop', async () => {
    const [damaged, honest, student] = await laptops(3);
    const file = await worksheet();
    await storeDamaged(damaged!, file.bytes); // byte 700 000: the third chunk
    await honest!.store.put(file.bytes);
    serve(damaged!);
    serve(honest!);

    const progress: BlobProgress[] = [];
    const result = await fetcherOn(student!).fetch(file, [damaged!.node.id, honest!.node.id], { onProgress: (p) => progress.push(p) });

    expect(result).toEqual({ sha256: file.sha256, size: file.size, source: honest!.node.id, damagedBy: [damaged!.node.id], repairedChunks: 1 });
    expect((await storedBytes(student!, file.sha256)).equals(file.bytes)).toBe(true);
    expect(damaged!.served).toBe(6); // the whole file, once: a laptop that sent a damaged copy is not asked again
    expect(honest!.served).toBe(2); // its chunk hashes, then the one chunk that differed
    expect(progress.filter((p) => p.source === honest!.node.id).map((p) => p.bytesDone)).toEqual([MiB + 3 - 256 * KiB, MiB + 3]);
    expect(await readdir(join(student!.store.directory, 'tmp'))).toEqual([]);
  });

  it('throws a repair away when the laptop asked vouches for chunks that do not make up the file, and pulls it whole from another', async () => {
    const [damaged, liar, honest, student] = await laptops(4);
    const file = await worksheet();
    await storeDamaged(damaged!, file.bytes);
    await liar!.store.put(file.bytes);
    await honest!.store.put(file.bytes);
    serve(damaged!);
    // The liar's hashes and first chunk agree with each other, but not with the file.
    const forged = Buffer.alloc(256 * KiB, 7);
    let chunksSent = 0;
    serve(liar!, (reply) => {
      const decoded = decodeBlobReply(reply);
      if (decoded?.kind === 'hashes') return encodeBlobReply({ kind: 'hashes', hashes: [sha256Hex(forged), ...decoded.hashes.slice(1)] });
      // Chunks differing from the damaged copy's are asked in order: 0 (forged here), then 2.
      if (decoded?.kind === 'chunk' && chunksSent++ === 0) return encodeBlobReply({ kind: 'chunk', bytes: forged });
      return reply;
    });
    serve(honest!);

    const result = await fetcherOn(student!).fetch(file, [damaged!.node.id, liar!.node.id, honest!.node.id]);

    expect(result).toEqual({ sha256: file.sha256, size: file.size, source: honest!.node.id, damagedBy: [damaged!.node.id], repairedChunks: 0 });
    expect((await storedBytes(student!, file.sha256)).equals(file.bytes)).toBe(true);
    expect(liar!.served).toBe(3); // its chunk hashes and the two chunks they said differ
    expect(honest!.served).toBe(6); // the whole file: the repaired copy was thrown away
    expect(await readdir(join(student!.store.directory, 'tmp'))).toEqual([]);
  });

  it('never has a laptop hand out a copy damaged on its own disk: it drops the copy and says it does not have it', async () => {
    const [rotten, honest, student] = await laptops(3);
    const file = await worksheet();
    await storeDamaged(rotten!, file.bytes);
    // As after a restart: the laptop has not checked this copy since its store opened.
    rotten!.store = await BlobStore.open(rotten!.store.directory);
    await honest!.store.put(file.bytes);
    serve(rotten!);
    serve(honest!);

    const result = await fetcherOn(student!).fetch(file, [rotten!.node.id, honest!.node.id]);

    expect(result).toEqual({ sha256: file.sha256, size: file.size, source: honest!.node.id, damagedBy: [], repairedChunks: 0 });
    expect(rotten!.served).toBe(1); // the query, answered "missing"
    expect(await rotten!.store.has(file.sha256)).toBe(false);
    expect((await storedBytes(student!, file.sha256)).equals(file.bytes)).toBe(true);
  });

  it('asks the next laptop when the one asked to help repair has a damaged copy too, which it drops', async () => {
    const [damaged, alsoDamaged, honest, student] = await laptops(4);
    const file = await worksheet();
    await storeDamaged(damaged!, file.bytes);
    await storeDamaged(alsoDamaged!, file.bytes);
    await honest!.store.put(file.bytes);
    serve(damaged!);
    serve(alsoDamaged!);
    serve(honest!);

    // Only two candidates tried before the honest one; the first sends its damaged copy.
    const result = await fetcherOn(student!).fetch(file, [damaged!.node.id, alsoDamaged!.node.id, honest!.node.id]);

    expect(result).toMatchObject({ source: honest!.node.id, damagedBy: [damaged!.node.id], repairedChunks: 1 });
    expect(alsoDamaged!.served).toBe(1); // asked for chunk hashes, it checked its copy and found it damaged
    expect(await alsoDamaged!.store.has(file.sha256)).toBe(false);
    expect((await storedBytes(student!, file.sha256)).equals(file.bytes)).toBe(true);
  });

  it('drops a laptop that sends a chunk longer than asked', async () => {
    const [liar, honest, student] = await laptops(3);
    const file = await worksheet();
    await liar!.store.put(file.bytes);
    await honest!.store.put(file.bytes);
    serve(liar!, (reply) => {
      const decoded = decodeBlobReply(reply);
      return decoded?.kind === 'chunk' ? encodeBlobReply({ kind: 'chunk', bytes: Buffer.concat([decoded.bytes, Buffer.of(0)]).subarray(0, 256 * KiB) }) : reply;
    });
    serve(honest!);

    const result = await fetcherOn(student!, { chunkBytes: 64 * KiB, maxInFlight: 1 }).fetch(file, [liar!.node.id, honest!.node.id]);

    expect(result.source).toBe(honest!.node.id);
    expect((await storedBytes(student!, file.sha256)).equals(file.bytes)).toBe(true);
    expect(liar!.served).toBe(2); // the query and the first read, then never again
  });

  it('moves on from a laptop that stops answering halfway', async () => {
    const [stalls, honest, student] = await laptops(3);
    const file = await worksheet();
    await stalls!.store.put(file.bytes);
    await honest!.store.put(file.bytes);
    serve(stalls!, (reply) => (stalls!.served > 3 ? new Promise<Uint8Array>(() => {}) : reply));
    serve(honest!);

    const progress: BlobProgress[] = [];
    const fetcher = fetcherOn(student!, { timeoutMs: 300, readRetries: 0, maxInFlight: 1 });
    const result = await fetcher.fetch(file, [stalls!.node.id, honest!.node.id], { onProgress: (p) => progress.push(p) });

    expect(result.source).toBe(honest!.node.id);
    expect((await storedBytes(student!, file.sha256)).equals(file.bytes)).toBe(true);
    // Two chunks came from the laptop that stalled; the count starts again with the honest one.
    expect(progress.map((p) => `${p.source === honest!.node.id ? 'honest' : 'stalls'} ${p.bytesDone / KiB}`)).toEqual([
      'stalls 0',
      'stalls 256',
      'stalls 512',
      'honest 0',
      'honest 256',
      'honest 512',
      'honest 768',
      'honest 1024',
      `honest ${(MiB + 3) / KiB}`,
    ]);
  });

  it('skips a candidate that is not connected', async () => {
    const [teacher, student] = await laptops(2);
    const file = await worksheet();
    await teacher!.store.put(file.bytes);
    serve(teacher!);

    const result = await fetcherOn(student!).fetch(file, ['laptop-that-left', teacher!.node.id]);
    expect(result.source).toBe(teacher!.node.id);
  });

  it('asks a laptop that was unreachable again in the next round', async () => {
    const [teacher, student] = await laptops(2);
    const file = await worksheet();
    await teacher!.store.put(file.bytes);
    serve(teacher!);
    let calls = 0;
    const fetcher = new BlobFetcher({
      store: student!.store,
      request: (laptopId, payload, timeoutMs) => {
        // The first request meets a connection that just dropped.
        if (calls++ === 0) return Promise.reject(new RequestFailedError('DISCONNECTED', 'connection closed'));
        return student!.node.transport.request(laptopId, CLASS, payload, timeoutMs);
      },
    });

    expect((await fetcher.fetch(file, [teacher!.node.id])).source).toBe(teacher!.node.id);
    expect(teacher!.served).toBe(6);
  });

  it('fails with a sentence to show when no laptop has the file', async () => {
    const [a, b, student] = await laptops(3);
    serve(a!);
    serve(b!);
    const file = await worksheet();

    const error = await fetcherOn(student!)
      .fetch(file, [a!.node.id, b!.node.id])
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BlobUnavailableError);
    expect((error as BlobUnavailableError).code).toBe('UNAVAILABLE');
    expect((error as BlobUnavailableError).message).toBe(
      'The file "worksheet.pdf" could not be downloaded: none of the 2 laptops asked has it. ' +
        "It will be available when the laptop it was attached on, or a teacher's laptop, is back in class.",
    );
    expect((error as BlobUnavailableError).attempts.map((attempt) => attempt.outcome)).toEqual(['missing', 'missing']);
    // A laptop that does not have it is asked once, not once per round.
    expect([a!.served, b!.served]).toEqual([1, 1]);
    expect(await student!.store.list()).toEqual([]);
    expect(await readdir(join(student!.store.directory, 'tmp'))).toEqual([]);
  });

  it('says why when only damaged copies could be found', async () => {
    const [damaged, student] = await laptops(2);
    const file = await worksheet();
    await storeDamaged(damaged!, file.bytes);
    serve(damaged!);

    const error = await fetcherOn(student!)
      .fetch(file, [damaged!.node.id])
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BlobUnavailableError);
    expect((error as BlobUnavailableError).attempts).toEqual([{ laptopId: damaged!.node.id, outcome: 'damaged', detail: expect.any(String) }]);
    expect((error as Error).message).toMatch(/^The file "worksheet.pdf" could not be downloaded: the one laptop asked did not answer in time or sent damaged copies\./);
    expect(await student!.store.has(file.sha256)).toBe(false);
  });

  it('fails at once, without a laptop to ask', async () => {
    const [student] = await laptops(1);
    const error = await fetcherOn(student!)
      .fetch(await worksheet(), [])
      .catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/no other laptop of this class is reachable right now/);
  });

  it('refuses a file over the size limit before asking anyone', async () => {
    const [teacher, student] = await laptops(2);
    const file = await worksheet();
    await teacher!.store.put(file.bytes);
    serve(teacher!);
    const small = await BlobStore.open(student!.store.directory, { maxBlobBytes: MiB });

    const fetcher = new BlobFetcher({ store: small, request: (id, payload, ms) => student!.node.transport.request(id, CLASS, payload, ms) });
    await expect(fetcher.fetch(file, [teacher!.node.id])).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(teacher!.served).toBe(0);
  });

  it('asks nobody for a file already here', async () => {
    const [teacher, student] = await laptops(2);
    const file = await worksheet();
    await student!.store.put(file.bytes);
    serve(teacher!);

    expect(await fetcherOn(student!).fetch(file, [teacher!.node.id])).toEqual({
      sha256: file.sha256,
      size: file.size,
      source: null,
      damagedBy: [],
      repairedChunks: 0,
    });
    expect(teacher!.served).toBe(0);
  });

  it('stops when the download is cancelled', async () => {
    const [teacher, student] = await laptops(2);
    const file = await worksheet();
    await teacher!.store.put(file.bytes);
    serve(teacher!);
    const cancel = new AbortController();

    const fetching = fetcherOn(student!, { maxInFlight: 1 }).fetch(file, [teacher!.node.id], {
      signal: cancel.signal,
      onProgress: (p) => {
        if (p.bytesDone >= 256 * KiB) cancel.abort();
      },
    });

    await expect(fetching).rejects.toBeInstanceOf(BlobFetchAbortedError);
    expect(teacher!.served).toBe(2); // the query and the first chunk
    expect(await student!.store.has(file.sha256)).toBe(false);
    expect(await readdir(join(student!.store.directory, 'tmp'))).toEqual([]);
  });
});
