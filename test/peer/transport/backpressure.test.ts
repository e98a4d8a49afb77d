// A peer that stops reading must not make the sender buffer without bound: the per-peer queue
// stops at its limit, what does not fit is dropped and counted (Raft retransmits), and once the
// peer reads again everything that was queued arrives, in order.
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, LOOPBACK, sleep, waitFor } from './harness';
import { MessageGenerator, testSeed } from './random-messages';
import { TcpProxy } from './tcp-proxy';

const harness = new Harness();
let proxy: TcpProxy | null = null;
afterEach(async () => {
  await proxy?.stop();
  proxy = null;
  await harness.stopAll();
});

const KiB = 1024;
const MiB = 1024 * KiB;

describe('backpressure', () => {
  it('a peer that stops reading fills the queue to its limit, then messages are dropped and counted', async () => {
    const gen = new MessageGenerator(testSeed('backpressure'));
    const maxQueueBytes = 1 * MiB;
    const maxSocketBufferedBytes = 256 * KiB;
    const maxFrameBytes = 256 * KiB;
    const a = await harness.node({
      classes: { math: 'math' },
      maxQueueBytes,
      maxSocketBufferedBytes,
      maxFrameBytes,
      heartbeatTimeoutMs: 60_000, // the stalled peer is slow, not dead
    });
    const b = await harness.node({ classes: { math: 'math' }, maxFrameBytes });
    proxy = await TcpProxy.start(b.transport.port);
    a.transport.addPeer(b.id, { host: LOOPBACK, port: proxy.port });
    await waitFor(() => a.connectedTo(b) && b.connectedTo(a), 'the connection through the proxy');

    proxy.pauseClientReads();
    const data = new Uint8Array(64 * KiB).fill(1);
    const accepted: number[] = [];
    let maxQueued = 0;
    let maxBuffered = 0;
    for (let round = 0; round < 300 && a.transport.stats().drops.queueFull < 50; round++) {
      for (let i = 0; i < 10; i++) {
        const index = round * 10 + i + 1;
        const message = { ...gen.message('app', a.id, b.id), entries: [{ type: 'normal' as const, index, term: 1, data }] };
        if (a.transport.send(b.id, 'math', message)) accepted.push(index);
      }
      const peer = a.transport.peerStats(b.id)!;
      maxQueued = Math.max(maxQueued, peer.queuedBytes);
      maxBuffered = Math.max(maxBuffered, peer.socketBufferedBytes);
      await sleep(2);
    }
    const stats = a.transport.stats();
    const peer = a.transport.peerStats(b.id)!;
    console.log(`[backpressure] accepted ${accepted.length}, dropped ${stats.drops.queueFull}, max queued ${maxQueued}, max buffered ${maxBuffered}`);
    expect(stats.drops.queueFull).toBeGreaterThanOrEqual(50);
    expect(peer.droppedQueueFull).toBe(stats.drops.queueFull);
    // The queue grew to its limit and no further; the socket held no more than its share.
    expect(maxQueued).toBeLessThanOrEqual(maxQueueBytes);
    expect(maxQueued).toBeGreaterThan(maxQueueBytes - 2 * 65 * KiB);
    expect(maxBuffered).toBeLessThanOrEqual(maxSocketBufferedBytes + maxFrameBytes);
    expect(a.connectedTo(b)).toBe(true);

    // The peer reads again: everything that was accepted arrives, in order, and nothing else.
    proxy.resumeClientReads();
    await waitFor(() => b.received.length === accepted.length, 'every accepted message', 20_000);
    expect(b.received.map((received) => (received.message.type === 'app' ? received.message.entries[0]?.index : -1))).toEqual(accepted);
    expect(a.transport.peerStats(b.id)?.queuedBytes).toBe(0);
  });
});
