// What a hostile or broken peer can do to a transport: get its own connection dropped, logged
// and counted, or its requests refused. The transport keeps serving its other peers through all of it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame, type ResponseFrame } from '../../../electron/peer/transport/codec';
import type { CloseCause } from '../../../electron/peer/transport/types';
import { Harness, sleep, waitFor, type HandRolled, type TestNode } from './harness';
import { MessageGenerator, testSeed } from './random-messages';

const harness = new Harness();
let a: TestNode;
let b: TestNode;
let gen: MessageGenerator;

beforeEach(async () => {
  gen = new MessageGenerator(testSeed('hostile peers'));
  a = await harness.node({ classes: { math: 'math' }, maxFrameBytes: 64 * 1024, handshakeTimeoutMs: 300 });
  b = await harness.node({ classes: { math: 'math' } });
  harness.link(b, a);
  await waitFor(() => a.connectedTo(b) && b.connectedTo(a), 'the honest pair to connect');
});
afterEach(() => harness.stopAll());

/** A and B still exchange messages, on the connection they had before the attack. */
async function expectHonestPairUnharmed(): Promise<void> {
  const before = b.received.length;
  const message = gen.message('heartbeat', a.id, b.id);
  expect(a.transport.send(b.id, 'math', message)).toBe(true);
  await waitFor(() => b.received.length === before + 1, 'a message from A to B');
  expect(b.received.at(-1)?.message).toEqual(message);
  expect(a.events.filter((event) => event.laptopId === b.id && event.state === 'disconnected')).toEqual([]);
}

async function expectDropped(closed: Promise<unknown>, cause: CloseCause): Promise<void> {
  await closed;
  await waitFor(() => a.transport.stats().closes[cause] === 1, `a ${cause} close to be counted`);
  expect(a.logs.filter((entry) => entry.level !== 'debug' && entry.fields?.cause === cause)).toHaveLength(1); // logged, once
  expect(a.transport.stats().openConnections).toBe(1); // only B's
  await expectHonestPairUnharmed();
}

const raftFrame = (client: HandRolled, overrides: { from?: string; classTag?: string } = {}) =>
  client.seal({
    kind: 'raft',
    classTag: overrides.classTag ?? 'math',
    message: gen.message('appResp', overrides.from ?? client.identity.laptopId, a.id),
  });

describe('unauthenticated clients', () => {
  it('garbage bytes', async () => {
    const raw = await harness.rawSocket(a);
    raw.socket.send(Buffer.from('GET / HTTP/1.1 and other nonsense'));
    await expectDropped(raw.closed, 'malformed');
  });

  it('a text frame', async () => {
    const raw = await harness.rawSocket(a);
    raw.socket.send('hello?');
    await expectDropped(raw.closed, 'protocol');
  });

  it('an oversized frame, refused by its length before it is buffered', async () => {
    const raw = await harness.rawSocket(a);
    raw.socket.send(new Uint8Array(64 * 1024 + 1));
    const close = await raw.closed;
    expect(close.code).toBe(1009); // ws: message too big
    await expectDropped(raw.closed, 'tooLarge');
  });

  it('a sealed frame instead of a hello', async () => {
    const raw = await harness.rawSocket(a);
    raw.socket.send(encodeFrame({ kind: 'sealed', ciphertext: new Uint8Array(32) }));
    await expectDropped(raw.closed, 'handshake');
  });

  it('a client that says nothing is cut at the handshake timeout', async () => {
    const raw = await harness.rawSocket(a);
    const close = await raw.closed;
    expect(close.code).toBe(4004);
    await expectDropped(raw.closed, 'handshakeTimeout');
  });

  it('a replay of a whole recorded session', async () => {
    const recorded = await harness.handshakeByHand(a, { math: 'math' });
    recorded.send(raftFrame(recorded));
    await waitFor(() => a.received.length === 1, 'the recorded session to deliver its message');
    recorded.socket.close();
    // Replaying its frames to a new connection: the hello is accepted (it is only a key), the
    // recorded auth was sealed for another session's keys and fails.
    const replay = await harness.rawSocket(a);
    for (const bytes of recorded.sent) replay.socket.send(bytes);
    await expectDropped(replay.closed, 'authentication');
    expect(a.received).toHaveLength(1);
  });
});

describe('authenticated peers that misbehave', () => {
  it('a replayed frame', async () => {
    const client = await harness.handshakeByHand(a, { math: 'math' });
    const frame = raftFrame(client);
    client.send(frame);
    client.send(frame);
    await expectDropped(client.closed, 'authentication');
    expect(a.received.filter((received) => received.from === client.identity.laptopId)).toHaveLength(1);
  });

  it('a bit-flipped frame', async () => {
    const client = await harness.handshakeByHand(a, { math: 'math' });
    const frame = raftFrame(client);
    frame[frame.byteLength - 20]! ^= 0x04;
    client.send(frame);
    await expectDropped(client.closed, 'authentication');
    expect(a.received.filter((received) => received.from === client.identity.laptopId)).toHaveLength(0);
  });

  it('frames out of order', async () => {
    const client = await harness.handshakeByHand(a, { math: 'math' });
    const first = raftFrame(client);
    const second = raftFrame(client);
    client.send(second);
    client.send(first);
    await expectDropped(client.closed, 'authentication');
  });

  it('a truncated frame', async () => {
    const client = await harness.handshakeByHand(a, { math: 'math' });
    client.send(raftFrame(client).subarray(0, -1));
    await expectDropped(client.closed, 'authentication');
  });

  it('an oversized frame', async () => {
    const client = await harness.handshakeByHand(a, { math: 'math' });
    client.send(new Uint8Array(64 * 1024 + 100));
    await expectDropped(client.closed, 'tooLarge');
  });

  it('a message claiming to come from another laptop', async () => {
    const client = await harness.handshakeByHand(a, { math: 'math' });
    client.send(raftFrame(client, { from: b.id }));
    await expectDropped(client.closed, 'protocol');
    expect(a.received.filter((received) => received.from === b.id)).toHaveLength(0);
  });

  it('a message for a class it never proved', async () => {
    const client = await harness.handshakeByHand(a, { math: 'math' });
    client.send(raftFrame(client, { classTag: 'art' }));
    await expectDropped(client.closed, 'protocol');
  });

  it('a second auth', async () => {
    const client = await harness.handshakeByHand(a, { math: 'math' });
    const { publicKey } = client.identity;
    client.send(client.seal({ kind: 'auth', identityPublicKey: publicKey, signature: new Uint8Array(64), classProofs: [] }));
    await expectDropped(client.closed, 'protocol');
  });
});

describe('authenticated peers that abuse requests', () => {
  /** Collects what the node sent the client until `done` holds for it. */
  async function collectAnswers(client: HandRolled, done: (answers: ResponseFrame[]) => boolean, what: string) {
    const answers: ResponseFrame[] = [];
    await waitFor(() => {
      for (const frame of client.openNew()) if (frame.kind === 'response') answers.push(frame);
      return done(answers);
    }, what);
    return answers;
  }

  it('responses to requests it never got are ignored and counted, and the connection stays up', async () => {
    b.transport.onRequest(async (_from, _classTag, payload) => payload);
    const answer = a.transport.request(b.id, 'math', Uint8Array.of(1, 2, 3), 5000); // one of A's own in flight meanwhile
    const client = await harness.handshakeByHand(a, { math: 'math' });
    for (let i = 0; i < 500; i++) {
      const requestId = gen.int(0, 2 ** 32);
      client.send(
        client.seal(
          i % 2 === 0
            ? { kind: 'response', requestId, status: 'ok', payload: gen.bytes(2000) }
            : { kind: 'response', requestId, status: 'error', errorCode: 'BUSY' },
        ),
      );
    }
    client.send(raftFrame(client)); // arrives after all of them
    await waitFor(() => a.received.some((received) => received.from === client.identity.laptopId), 'the message after the responses');
    expect(a.transport.stats().requests.unmatchedResponses).toBe(500);
    expect(a.transport.stats().openConnections).toBe(2);
    expect(Object.values(a.transport.stats().closes).reduce((sum, count) => sum + count, 0)).toBe(0);
    expect(await answer).toEqual(Uint8Array.of(1, 2, 3));
    await expectHonestPairUnharmed();
  });

  it('a flood of requests is handled up to the limit and the rest answered BUSY at once', async () => {
    const release: (() => void)[] = [];
    a.transport.onRequest((_from, _classTag, payload) => new Promise((resolve) => release.push(() => resolve(payload))));
    const client = await harness.handshakeByHand(a, { math: 'math' });
    const flood = 3000;
    for (let requestId = 1; requestId <= flood; requestId++) {
      client.send(client.seal({ kind: 'request', classTag: 'math', requestId, payload: Uint8Array.of(requestId & 0xff) }));
    }
    const busy = await collectAnswers(client, (answers) => answers.length === flood - 1024, 'BUSY for all beyond the limit');
    expect(busy.every((answer) => answer.status === 'error' && answer.errorCode === 'BUSY' && answer.requestId > 1024)).toBe(true);
    expect(a.transport.peerStats(client.identity.laptopId)).toMatchObject({ requestsServing: 1024 });
    expect(a.transport.stats().requests).toMatchObject({ served: 1024, refusedBusy: flood - 1024 });
    expect(release).toHaveLength(1024); // the handler never saw more than the limit

    // Once answered, the budget is back: the held requests get their answers and new ones are handled.
    for (const answer of release.splice(0)) answer();
    const answered = await collectAnswers(client, (answers) => answers.length === 1024, 'the held answers');
    expect(answered.map((answer) => answer.requestId)).toEqual(Array.from({ length: 1024 }, (_, i) => i + 1));
    expect(answered.every((answer) => answer.status === 'ok')).toBe(true);
    await waitFor(() => a.transport.peerStats(client.identity.laptopId)?.requestsServing === 0, 'nothing in flight');
    client.send(client.seal({ kind: 'request', classTag: 'math', requestId: 5, payload: new Uint8Array(0) }));
    await waitFor(() => release.length === 1, 'a new request to be handled');
    await expectHonestPairUnharmed();
  });

  it('requests whose payloads together pass the byte limit are answered BUSY', async () => {
    // A's frames are at most 64 KiB, so by default it holds 16 MiB of a peer's requests at once.
    a.transport.onRequest(() => new Promise<Uint8Array>(() => {})); // holds everything
    const client = await harness.handshakeByHand(a, { math: 'math' });
    const size = 60 * 1024;
    const fit = Math.floor((16 * 1024 * 1024) / size);
    for (let requestId = 1; requestId <= fit + 20; requestId++) {
      client.send(client.seal({ kind: 'request', classTag: 'math', requestId, payload: new Uint8Array(size) }));
    }
    const busy = await collectAnswers(client, (answers) => answers.length === 20, 'BUSY beyond the byte limit');
    expect(busy.map((answer) => answer.requestId)).toEqual(Array.from({ length: 20 }, (_, i) => fit + i + 1));
    expect(a.transport.peerStats(client.identity.laptopId)).toMatchObject({ requestsServing: fit });
    await expectHonestPairUnharmed();
  });

  it('a peer that sends requests and never reads the answers fills our queue to its limit, no further', async () => {
    const KiB = 1024;
    const limits = { maxFrameBytes: 64 * KiB, maxQueueBytes: 64 * KiB, maxSocketBufferedBytes: 64 * KiB };
    const c = await harness.node({ classes: { math: 'math' }, ...limits });
    c.transport.onRequest(async () => new Uint8Array(32 * KiB)); // every answer is large
    const client = await harness.handshakeByHand(c, { math: 'math' });
    client.socket.pause(); // stops reading: the kernel's buffers fill, then ours
    const peer = () => c.transport.peerStats(client.identity.laptopId)!;
    let maxQueued = 0;
    let maxBuffered = 0;
    for (let round = 0; round < 200 && c.transport.stats().requests.responsesDropped < 100; round++) {
      for (let i = 0; i < 50; i++) {
        client.send(client.seal({ kind: 'request', classTag: 'math', requestId: round * 50 + i, payload: new Uint8Array(0) }));
      }
      await sleep(2);
      maxQueued = Math.max(maxQueued, peer().queuedBytes);
      maxBuffered = Math.max(maxBuffered, peer().socketBufferedBytes);
    }
    expect(c.transport.stats().requests.responsesDropped).toBeGreaterThanOrEqual(100);
    expect(maxQueued).toBeLessThanOrEqual(limits.maxQueueBytes);
    expect(maxBuffered).toBeLessThanOrEqual(limits.maxSocketBufferedBytes + limits.maxFrameBytes);
    expect(peer().requestsServing).toBeLessThanOrEqual(1024);
    expect(c.transport.stats().openConnections).toBe(1); // slow is not a violation; the heartbeat decides
  });

  it('a request for a class it never proved', async () => {
    a.transport.onRequest(async () => new Uint8Array(0));
    const client = await harness.handshakeByHand(a, { math: 'math' });
    client.send(client.seal({ kind: 'request', classTag: 'art', requestId: 1, payload: new Uint8Array(0) }));
    await expectDropped(client.closed, 'protocol');
  });

  it.each<[string, number[]]>([
    ['a response with an unknown status', [1, 7, 1, 2, 0]],
    ['a response with a lower-case error code', [1, 7, 1, 1, 4, 0x62, 0x75, 0x73, 0x79]],
    ['a request with an id over 32 bits', [1, 6, 4, 0x6d, 0x61, 0x74, 0x68, 0x80, 0x80, 0x80, 0x80, 0x10, 0]],
  ])('a malformed frame: %s', async (_name, plaintext) => {
    const client = await harness.handshakeByHand(a, { math: 'math' });
    client.send(client.sealBytes(Uint8Array.from(plaintext)));
    await expectDropped(client.closed, 'malformed');
  });
});
