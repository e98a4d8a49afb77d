// Pulling a 20 MiB attachment between two laptops on loopback: two real WebSocketTransports
// (authenticated, encrypted), a BlobStore on real files each, the fetcher on one side and
// answerBlobRequest on the other. Figures only, no assertions.
//   npx tsx bench/blobs.ts [--dir <folder on the disk to measure>]
// Prints MB/s for a few read windows and writes bench/results/blobs.json. Each pull ends with an
// fsync of 20 MiB, so the figures include the disk under --dir (default: the OS temp folder).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { arch, cpus, platform, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerBlobRequest, BlobFetcher, BlobStore } from '../electron/peer/blobs';
import { generateIdentity, silentLogger, WebSocketTransport } from '../electron/peer/transport';

const MiB = 1024 * 1024;
const FILE_BYTES = 20 * MiB;
const RUNS = 3;
const WINDOWS = [1, 4, 8];
const CLASS = 'bench';
const SECRET = new TextEncoder().encode('blob benchmark class secret.....');

const dirArgument = process.argv.indexOf('--dir');
const parent = dirArgument > 0 ? process.argv[dirArgument + 1]! : tmpdir();
const workDir = mkdtempSync(join(parent, 'quorum-bench-blobs-'));

function transport(): WebSocketTransport {
  return new WebSocketTransport({ identity: generateIdentity(), host: '127.0.0.1', port: 0, classes: [[CLASS, SECRET]], logger: silentLogger });
}

const server = transport();
const puller = transport();
try {
  await Promise.all([server.start(), puller.start()]);
  puller.addPeer(server.laptopId, { host: '127.0.0.1', port: server.port });
  while (!puller.connectedPeers(CLASS).includes(server.laptopId)) await new Promise((resolve) => setTimeout(resolve, 10));

  const served = await BlobStore.open(join(workDir, 'server'));
  const bytes = randomBytes(FILE_BYTES);
  const sha256 = await served.put(bytes);
  server.onRequest((_from, _classTag, payload) => answerBlobRequest(served, payload));

  const pulls: { maxInFlight: number; run: number; ms: number; megabytesPerSecond: number }[] = [];
  for (const maxInFlight of WINDOWS) {
    for (let run = 0; run < RUNS; run++) {
      const store = await BlobStore.open(join(workDir, `puller-${maxInFlight}-${run}`));
      const fetcher = new BlobFetcher({
        store,
        maxInFlight,
        request: (laptopId, payload, timeoutMs) => puller.request(laptopId, CLASS, payload, timeoutMs),
      });
      const start = performance.now();
      await fetcher.fetch({ sha256, size: FILE_BYTES }, [server.laptopId]);
      const ms = performance.now() - start;
      if (!(await store.verify(sha256))) throw new Error('the pulled copy does not verify');
      pulls.push({ maxInFlight, run, ms: round(ms), megabytesPerSecond: round(FILE_BYTES / MiB / (ms / 1000)) });
      await store.delete(sha256);
    }
  }

  const best = (window: number) => Math.max(...pulls.filter((p) => p.maxInFlight === window).map((p) => p.megabytesPerSecond));
  const results = {
    date: new Date().toISOString(),
    machine: { node: process.version, platform: `${platform()} ${release()} ${arch()}`, cpu: cpus()[0]?.model ?? 'unknown', dir: parent },
    fileBytes: FILE_BYTES,
    chunkBytes: 256 * 1024,
    bestMegabytesPerSecond: Object.fromEntries(WINDOWS.map((window) => [`maxInFlight ${window}`, best(window)])),
    pulls,
  };
  console.log(`blob pull of ${FILE_BYTES / MiB} MiB over loopback, 256 KiB chunks (${results.machine.platform}, ${results.machine.cpu})`);
  for (const window of WINDOWS) {
    const runs = pulls.filter((p) => p.maxInFlight === window).map((p) => `${p.megabytesPerSecond}`);
    console.log(`  ${window} in flight: ${runs.join(', ')} MiB/s (best ${best(window)})`);
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'blobs.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
} finally {
  await Promise.all([server.stop(), puller.stop()]);
  rmSync(workDir, { recursive: true, force: true });
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
