// Background pulls are paced so they leave room for the class's Raft traffic: an allowance of
// bytes per second, shared by every pull, that lets one burst through after a quiet spell and
// then no more than it refills; a cancelled pull stops waiting for it at once, a hurried one
// goes unpaced. Real clocks, a real store on disk served by the real blob server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobFetcher, type SendRequest } from '../../../electron/peer/blobs/blob-fetcher';
import { sha256Hex } from '../../../electron/peer/blobs/blob-hash';
import { answerBlobRequest } from '../../../electron/peer/blobs/blob-server';
import { BlobStore } from '../../../electron/peer/blobs/blob-store';
import { ByteRate, pacedRequest } from '../../../electron/peer/blobs/paced-request';

const KiB = 1024;
const MiB = 1024 * KiB;

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

async function store(): Promise<BlobStore> {
  const folder = await mkdtemp(join(tmpdir(), 'quorum-paced-'));
  folders.push(folder);
  return BlobStore.open(folder);
}

/** Milliseconds `work` took. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

describe('ByteRate', () => {
  it('lets a burst through at once, then no more than it refills', async () => {
    const rate = new ByteRate(1 * MiB, 256 * KiB);
    // 2 MiB in chunks: the burst and one chunk on credit go at once, the other 1.5 MiB at 1 MiB/s.
    const ms = await timed(async () => {
      for (let i = 0; i < 8; i++) await rate.take(256 * KiB);
    });
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(ms).toBeLessThan(2500);
  });

  it('is shared: two takers at once together get what one would alone', async () => {
    const rate = new ByteRate(2 * MiB, 0);
    const taker = async () => {
      for (let i = 0; i < 4; i++) await rate.take(256 * KiB);
    };
    // 2 MiB at 2 MiB/s, less the one chunk that goes on credit.
    const ms = await timed(() => Promise.all([taker(), taker()]));
    expect(ms).toBeGreaterThanOrEqual(800);
    expect(ms).toBeLessThan(1800);
  });

  it('stops waiting as soon as the pull is cancelled', async () => {
    const rate = new ByteRate(64 * KiB, 0);
    await rate.take(1 * MiB); // 16 s of debt
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled')), 50);
    const started = performance.now();
    await expect(rate.take(1, controller.signal)).rejects.toThrow('cancelled');
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('pacedRequest', () => {
  it('pulls a file no faster than the allowance, whole and checked', async () => {
    const holder = await store();
    const content = Buffer.alloc(1 * MiB, 7);
    const sha256 = await holder.put(content);
    const request: SendRequest = async (_laptopId, payload) => answerBlobRequest(holder, payload);
    const here = await store();
    const rate = new ByteRate(1 * MiB, 0);
    const fetcher = new BlobFetcher({ store: here, request: pacedRequest(request, rate), maxInFlight: 2 });

    const ms = await timed(() => fetcher.fetch({ sha256, size: content.byteLength }, ['holder']));

    // Four 256 KiB reads: the first on credit, the other three after 256 ms each.
    expect(ms).toBeGreaterThanOrEqual(700);
    expect(sha256Hex(await here.read(sha256, 0, content.byteLength))).toBe(sha256);
  });

  it('stops waiting for the allowance once someone waits for the file', async () => {
    const holder = await store();
    const content = Buffer.alloc(1 * MiB, 9);
    const sha256 = await holder.put(content);
    const request: SendRequest = async (_laptopId, payload) => answerBlobRequest(holder, payload);
    const rate = new ByteRate(16 * KiB, 0); // a minute for this file, paced
    let hurry = () => {};
    const hurried = new Promise<void>((resolve) => (hurry = resolve));
    const fetcher = new BlobFetcher({ store: await store(), request: pacedRequest(request, rate, { hurried }) });
    setTimeout(hurry, 200);

    const ms = await timed(() => fetcher.fetch({ sha256, size: content.byteLength }, ['holder']));

    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(2_000);
  });

  it('lets requests that are not blob requests through, however deep the allowance is in debt', async () => {
    const rate = new ByteRate(1 * KiB, 0);
    await rate.take(10 * MiB);
    const paced = pacedRequest(async () => new Uint8Array([1]), rate);
    const ms = await timed(() => paced('someone', new Uint8Array([1, 2, 3]), 1000));
    expect(ms).toBeLessThan(100);
  });
});
