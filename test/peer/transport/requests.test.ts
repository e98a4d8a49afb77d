// Requests between real transports on 127.0.0.1: a payload goes to the peer's handler and its
// answer comes back to the caller, or the caller gets a named error soon enough to retry;
// nothing ever hangs and no failure takes the connection down.
import { afterEach, describe, expect, it } from 'vitest';
import type { InnerFrame, RequestFrame } from '../../../electron/peer/transport/codec';
import { RequestFailedError, type RequestFailureCode } from '../../../electron/peer/transport/errors';
import type { RequestHandler } from '../../../electron/peer/transport/types';
import { Harness, LOOPBACK, sleep, waitFor, type NodeOptions, type TestNode } from './harness';
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

/** A and B in class math, connected (A dialed). */
async function connectedPair(options: NodeOptions = {}): Promise<[TestNode, TestNode]> {
  const a = await harness.node({ classes: { math: 'math' }, ...options });
  const b = await harness.node({ classes: { math: 'math' }, ...options });
  harness.link(a, b);
  await waitFor(() => a.connectedTo(b) && b.connectedTo(a), 'A and B to connect');
  return [a, b];
}

/** Bytes that differ with `seed`, so a payload answered to the wrong request shows. */
function patterned(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7) & 0xff);
}

/** The error `promise` rejects with, checked to be a RequestFailedError with `code`. */
async function failure(promise: Promise<unknown>, code: RequestFailureCode): Promise<RequestFailedError> {
  const error = await promise.then(
    () => {
      throw new Error(`resolved, expected ${code}`);
    },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(RequestFailedError);
  expect((error as RequestFailedError).code).toBe(code);
  return error as RequestFailedError;
}

/** A promise and the function that settles it, for handlers that should wait until the test says so. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const reversed = (payload: Uint8Array) => payload.slice().reverse();

describe('requests', () => {
  it.each([
    ['an empty payload', 0],
    ['a small payload', 100],
    ['the largest payload that fits in a frame', -1],
  ])('round trip: %s', async (_name, size) => {
    const maxFrameBytes = 256 * KiB;
    const [a, b] = await connectedPair({ maxFrameBytes });
    // Header 2, class tag 1 + 4, id 1, payload length 3, seal 18.
    const length = size >= 0 ? size : maxFrameBytes - 29;
    const seen: { from: string; classTag: string; payload: Uint8Array }[] = [];
    b.transport.onRequest(async (from, classTag, payload) => {
      seen.push({ from, classTag, payload });
      return reversed(payload);
    });
    const payload = patterned(length, 1);
    const answer = await a.transport.request(b.id, 'math', payload, 5000);
    // Compared as Buffers: deep equality element by element is slow for a quarter of a megabyte.
    expect(Buffer.from(answer).equals(reversed(payload))).toBe(true);
    expect(seen.map(({ from, classTag }) => ({ from, classTag }))).toEqual([{ from: a.id, classTag: 'math' }]);
    expect(Buffer.from(seen[0]!.payload).equals(payload)).toBe(true);
    expect(a.transport.stats().requests).toMatchObject({ sent: 1, answered: 1, unmatchedResponses: 0 });
    expect(b.transport.stats().requests).toMatchObject({ served: 1, refusedBusy: 0, responsesDropped: 0 });
    expect(a.transport.peerStats(b.id)).toMatchObject({ requestsPending: 0 });
    expect(b.transport.peerStats(a.id)).toMatchObject({ requestsServing: 0 });
  });

  it('one byte more than fits is refused as TOO_LARGE without sending anything', async () => {
    const maxFrameBytes = 256 * KiB;
    const [a, b] = await connectedPair({ maxFrameBytes });
    b.transport.onRequest(async () => new Uint8Array(0));
    const framesBefore = a.transport.stats().framesSent;
    await failure(a.transport.request(b.id, 'math', new Uint8Array(maxFrameBytes - 28), 5000), 'TOO_LARGE');
    await failure(a.transport.request(b.id, 'math', new Uint8Array(10 * maxFrameBytes), 5000), 'TOO_LARGE');
    expect(a.transport.stats().framesSent).toBe(framesBefore);
    expect(a.transport.stats().requests).toMatchObject({ sent: 0, failed: { TOO_LARGE: 2 } });
    expect(await a.transport.request(b.id, 'math', new Uint8Array(maxFrameBytes - 29), 5000)).toEqual(new Uint8Array(0));
  });

  it('an answer too large for a frame comes back as REMOTE_ERROR RESPONSE_TOO_LARGE', async () => {
    const [a, b] = await connectedPair({ maxFrameBytes: 64 * KiB });
    b.transport.onRequest(async () => new Uint8Array(64 * KiB));
    const error = await failure(a.transport.request(b.id, 'math', new Uint8Array(1), 5000), 'REMOTE_ERROR');
    expect(error.remoteCode).toBe('RESPONSE_TOO_LARGE');
    expect(a.connectedTo(b)).toBe(true);
  });

  it('concurrent requests both ways are matched to their own answers', async () => {
    const seed = testSeed('concurrent requests');
    const gen = new MessageGenerator(seed);
    const [a, b] = await connectedPair();
    // Answers come back in a shuffled order: each handler waits a random while.
    const handler: RequestHandler = async (_from, _classTag, payload) => {
      await sleep(gen.int(0, 20));
      return reversed(payload);
    };
    a.transport.onRequest(handler);
    b.transport.onRequest(handler);
    const count = 200;
    const payloads = Array.from({ length: count }, (_, i) => patterned(gen.int(0, 2000), i));
    const answers = await Promise.all(
      payloads.map((payload, i) => (i % 2 === 0 ? a : b).transport.request((i % 2 === 0 ? b : a).id, 'math', payload, 10_000)),
    );
    answers.forEach((answer, i) => expect(answer, `seed ${seed} request ${i}`).toEqual(reversed(payloads[i]!)));
    expect(a.transport.stats().requests).toMatchObject({ sent: count / 2, answered: count / 2, served: count / 2 });
    expect(b.transport.stats().requests).toMatchObject({ sent: count / 2, answered: count / 2, served: count / 2 });
  });

  it('a handler that throws or rejects is answered HANDLER_FAILED; no detail crosses the wire and the connection stays up', async () => {
    const [a, b] = await connectedPair();
    let call = 0;
    b.transport.onRequest(async (_from, _classTag, payload) => {
      call++;
      if (call === 1) throw new Error('secret detail at /home/teacher/grades.ts:12');
      if (call === 2) return Promise.reject(new TypeError('secret rejection'));
      if (call === 3) return 'not bytes' as unknown as Uint8Array;
      return payload;
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      const error = await failure(a.transport.request(b.id, 'math', new Uint8Array(1), 5000), 'REMOTE_ERROR');
      expect(error.remoteCode).toBe('HANDLER_FAILED');
      expect(error.message).not.toMatch(/secret|grades|home/);
      expect(error.stack ?? '').not.toMatch(/secret|grades/);
    }
    // The detail stays in the answering laptop's own log.
    expect(b.logs.filter((entry) => entry.message === 'request handler failed').map((entry) => entry.fields?.error)).toEqual([
      'secret detail at /home/teacher/grades.ts:12',
      'secret rejection',
      'the request handler resolved with something other than a Uint8Array',
    ]);
    expect(await a.transport.request(b.id, 'math', Uint8Array.of(7), 5000)).toEqual(Uint8Array.of(7));
    expect(a.events.filter((event) => event.state === 'disconnected')).toEqual([]);
    expect(a.transport.stats().requests).toMatchObject({ sent: 4, answered: 1, failed: { REMOTE_ERROR: 3 } });
  });

  it('without a handler requests are answered NO_HANDLER; there is one handler at a time', async () => {
    const [a, b] = await connectedPair();
    expect((await failure(a.transport.request(b.id, 'math', new Uint8Array(0), 5000), 'REMOTE_ERROR')).remoteCode).toBe('NO_HANDLER');
    const remove = b.transport.onRequest(async () => Uint8Array.of(1));
    expect(() => b.transport.onRequest(async () => Uint8Array.of(2))).toThrow(/already/);
    expect(await a.transport.request(b.id, 'math', new Uint8Array(0), 5000)).toEqual(Uint8Array.of(1));
    remove();
    expect((await failure(a.transport.request(b.id, 'math', new Uint8Array(0), 5000), 'REMOTE_ERROR')).remoteCode).toBe('NO_HANDLER');
    b.transport.onRequest(async () => Uint8Array.of(3));
    expect(await a.transport.request(b.id, 'math', new Uint8Array(0), 5000)).toEqual(Uint8Array.of(3));
  });

  it('no answer in time rejects TIMEOUT; the late answer is ignored and counted, the connection stays up', async () => {
    const [a, b] = await connectedPair();
    const release = gate();
    b.transport.onRequest(async (_from, _classTag, payload) => {
      if (payload[0] === 1) await release.opened;
      return payload;
    });
    const started = Date.now();
    await failure(a.transport.request(b.id, 'math', Uint8Array.of(1), 150), 'TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(a.transport.peerStats(b.id)?.requestsPending).toBe(0);
    expect(b.transport.peerStats(a.id)?.requestsServing).toBe(1);
    release.open();
    await waitFor(() => a.transport.stats().requests.unmatchedResponses === 1, 'the late answer to be counted');
    expect(b.transport.peerStats(a.id)?.requestsServing).toBe(0);
    expect(await a.transport.request(b.id, 'math', Uint8Array.of(2), 5000)).toEqual(Uint8Array.of(2));
    expect(a.transport.stats().requests.failed.TIMEOUT).toBe(1);
    expect(a.events.filter((event) => event.state === 'disconnected')).toEqual([]);
  });

  it.each([
    ['the peer stops', (_a: TestNode, b: TestNode) => b.transport.stop()],
    ['we remove the peer', (a: TestNode, b: TestNode) => a.transport.removePeer(b.id)],
    ['we stop', (a: TestNode) => a.transport.stop()],
  ])('requests in flight reject DISCONNECTED at once when %s', async (_name, disconnect) => {
    const [a, b] = await connectedPair();
    const handled = gate();
    b.transport.onRequest(() => {
      handled.open();
      return new Promise<Uint8Array>(() => {}); // never answers
    });
    const outcomes = [1, 2, 3].map(() => failure(a.transport.request(b.id, 'math', new Uint8Array(10), 30_000), 'DISCONNECTED'));
    await handled.opened;
    expect(a.transport.peerStats(b.id)?.requestsPending).toBe(3);
    const started = Date.now();
    await disconnect(a, b);
    await Promise.all(outcomes);
    expect(Date.now() - started).toBeLessThan(2000); // the 30 s timeout played no part
    expect(a.transport.stats().requests.failed.DISCONNECTED).toBe(3);
    await failure(a.transport.request(b.id, 'math', new Uint8Array(10), 30_000), 'NOT_CONNECTED');
  });

  it('a request on a connection that loses the tie-break rejects DISCONNECTED at once, and a retry succeeds on the winner', async () => {
    const x = await harness.node({ classes: { math: 'math' } });
    const y = await harness.node({ classes: { math: 'math' } });
    const [lower, higher] = x.id < y.id ? [x, y] : [y, x];
    harness.link(higher, lower); // the connection the higher id dials, which loses any tie-break
    await waitFor(() => higher.connectedTo(lower) && lower.connectedTo(higher), 'the first connection');
    const handled = gate();
    lower.transport.onRequest(() => {
      handled.open();
      return new Promise<Uint8Array>(() => {}); // never answers: only the tie-break can end the wait
    });
    const inFlight = failure(higher.transport.request(lower.id, 'math', Uint8Array.of(1), 30_000), 'DISCONNECTED');
    await handled.opened;

    // Now the lower id dials as well (here by hand, with its identity, so the moment is ours to pick):
    // its connection wins and the higher id closes the one carrying the request.
    const started = Date.now();
    const winner = await harness.handshakeByHand(higher, { math: 'math' }, lower.identity);
    await inFlight;
    expect(Date.now() - started).toBeLessThan(3000); // not the 30 s timeout
    expect(higher.transport.peerStats(lower.id)).toMatchObject({ connected: true, direction: 'incoming', requestsPending: 0 });

    // The retry goes out on the winner at once.
    const retry = higher.transport.request(lower.id, 'math', Uint8Array.of(2), 5000);
    const frames: InnerFrame[] = [];
    await waitFor(() => (frames.push(...winner.openNew()), frames.some((frame) => frame.kind === 'request')), 'the retried request');
    const request = frames.find((frame) => frame.kind === 'request')!;
    expect(request).toMatchObject({ kind: 'request', classTag: 'math', payload: Uint8Array.of(2) });
    winner.send(winner.seal({ kind: 'response', requestId: (request as RequestFrame).requestId, status: 'ok', payload: Uint8Array.of(9) }));
    expect(await retry).toEqual(Uint8Array.of(9));
    expect(higher.transport.stats().closes.duplicate).toBe(1);
    expect(higher.transport.stats().requests).toMatchObject({ answered: 1, unmatchedResponses: 0, failed: { DISCONNECTED: 1 } });
  });

  it('a class the connection does not carry is refused as CLASS_NOT_SHARED without sending anything', async () => {
    const a = await harness.node({ classes: { math: 'math', art: 'art' } });
    const b = await harness.node({ classes: { math: 'math' } });
    harness.link(a, b);
    await waitFor(() => a.connectedTo(b) && b.connectedTo(a), 'A and B to connect');
    let handled = 0;
    b.transport.onRequest(async () => {
      handled++;
      return new Uint8Array(0);
    });
    const framesBefore = a.transport.stats().framesSent;
    await failure(a.transport.request(b.id, 'art', new Uint8Array(5), 5000), 'CLASS_NOT_SHARED');
    await failure(a.transport.request(b.id, 'history', new Uint8Array(5), 5000), 'CLASS_NOT_SHARED');
    await failure(a.transport.request('nobody', 'math', new Uint8Array(5), 5000), 'NOT_CONNECTED');
    await expect(a.transport.request(b.id, 'math', new Uint8Array(5), 0)).rejects.toThrow(RangeError);
    await expect(a.transport.request(b.id, 'math', new Uint8Array(5), Number.NaN)).rejects.toThrow(RangeError);
    await expect(a.transport.request(b.id, 'math', new Uint8Array(5), 2 ** 31)).rejects.toThrow(RangeError);
    expect(a.transport.stats().framesSent).toBe(framesBefore);
    expect(a.transport.stats().requests).toMatchObject({ sent: 0, failed: { CLASS_NOT_SHARED: 2, NOT_CONNECTED: 1 } });
    await sleep(50);
    expect(handled).toBe(0);
  });

  it('a request for a class the answering laptop just left is answered CLASS_NOT_SHARED', async () => {
    const a = await harness.node({ classes: { math: 'math', art: 'art' } });
    a.transport.onRequest(async () => Uint8Array.of(1));
    const client = await harness.handshakeByHand(a, { math: 'math', art: 'art' });
    const answers: unknown[] = [];
    const collect = () => (answers.push(...client.openNew()), answers.length);
    client.send(client.seal({ kind: 'request', classTag: 'art', requestId: 1, payload: new Uint8Array(0) }));
    await waitFor(() => collect() === 1, 'the first answer');
    a.transport.removeClass('art'); // the client has not heard yet
    client.send(client.seal({ kind: 'request', classTag: 'art', requestId: 2, payload: new Uint8Array(0) }));
    await waitFor(() => collect() === 2, 'the second answer');
    expect(answers).toEqual([
      { kind: 'response', requestId: 1, status: 'ok', payload: Uint8Array.of(1) },
      { kind: 'response', requestId: 2, status: 'error', errorCode: 'CLASS_NOT_SHARED' },
    ]);
    expect(a.transport.stats().openConnections).toBe(1);
  });

  it('a request that finds the send queue full rejects QUEUE_FULL; those queued are answered once the peer reads', async () => {
    const maxFrameBytes = 64 * KiB;
    const a = await harness.node({
      classes: { math: 'math' },
      maxFrameBytes,
      maxQueueBytes: 256 * KiB,
      maxSocketBufferedBytes: 64 * KiB,
      heartbeatTimeoutMs: 60_000, // the stalled peer is slow, not dead
    });
    const b = await harness.node({ classes: { math: 'math' }, maxFrameBytes });
    b.transport.onRequest(async (_from, _classTag, payload) => payload.subarray(0, 4));
    proxy = await TcpProxy.start(b.transport.port);
    a.transport.addPeer(b.id, { host: LOOPBACK, port: proxy.port });
    await waitFor(() => a.connectedTo(b) && b.connectedTo(a), 'the connection through the proxy');

    proxy.pauseClientReads();
    const queued: Promise<Uint8Array>[] = [];
    const expected: Uint8Array[] = [];
    let queueFull: RequestFailedError | null = null;
    for (let i = 0; i < 10_000 && !queueFull; i++) {
      const payload = patterned(60 * KiB, i);
      const request = a.transport.request(b.id, 'math', payload, 60_000);
      // A refusal rejects before the next request is made; an accepted one waits for its answer.
      const refused = await Promise.race([request.then(() => null, (error: RequestFailedError) => error), sleep(1).then(() => null)]);
      if (refused) queueFull = refused;
      else {
        queued.push(request);
        expected.push(payload.subarray(0, 4));
      }
    }
    expect(queueFull?.code).toBe('QUEUE_FULL');
    expect(a.transport.peerStats(b.id)!.queuedBytes).toBeLessThanOrEqual(256 * KiB);
    expect(a.transport.stats().requests.failed.QUEUE_FULL).toBe(1);

    proxy.resumeClientReads();
    expect(await Promise.all(queued)).toEqual(expected);
    expect(a.transport.stats().requests).toMatchObject({ sent: queued.length, answered: queued.length });
  });
});
