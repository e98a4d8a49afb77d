// What a hostile or broken peer can do to a transport: get its own connection dropped, logged
// and counted. The transport keeps serving its other peers through all of it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../electron/peer/transport/codec';
import type { CloseCause } from '../../../electron/peer/transport/types';
import { Harness, waitFor, type HandRolled, type TestNode } from './harness';
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
