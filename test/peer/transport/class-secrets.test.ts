// Class secrets decide who may talk about a class: a laptop that cannot prove one is refused,
// or carries only the classes it can prove, and never hears a word about the others.
import { afterEach, describe, expect, it } from 'vitest';
import { ClassKeyring } from '../../../electron/peer/transport/class-proofs';
import { decodeFrame } from '../../../electron/peer/transport/codec';
import { HandshakeError } from '../../../electron/peer/transport/errors';
import { Handshake } from '../../../electron/peer/transport/handshake';
import { generateIdentity } from '../../../electron/peer/transport/identity';
import { Harness, sleep, waitFor } from './harness';
import { MessageGenerator, testSeed } from './random-messages';

const harness = new Harness();
afterEach(() => harness.stopAll());

describe('class secrets', () => {
  it('a laptop with the wrong secret is refused and never connected', async () => {
    const a = await harness.node({ classes: { 'math-7b': 'math' } });
    const intruder = await harness.node({ classes: { 'math-7b': 'a guess' } });
    harness.link(intruder, a);
    await waitFor(() => a.transport.stats().closes.noSharedClass >= 2, 'two refusals');
    expect(a.transport.connectedPeers()).toEqual([]);
    expect(intruder.transport.connectedPeers()).toEqual([]);
    expect(intruder.events).toEqual([]);
    expect(intruder.received).toEqual([]);
    // What the intruder logged names no class.
    expect(JSON.stringify(intruder.logs)).not.toContain('math-7b');
  });

  it('turns a host away for a while once it has failed too often, before any key exchange', async () => {
    const a = await harness.node({ classes: { 'math-7b': 'math' }, failureLimit: { max: 3, windowMs: 60_000 } });
    const intruder = await harness.node({ classes: { 'math-7b': 'a guess' } });
    harness.link(intruder, a);
    await waitFor(() => a.transport.stats().closes.tooManyFailures >= 2, 'refusals at the door');
    // Three handshakes were worked through and failed; after them, none.
    expect(a.transport.stats().closes.noSharedClass).toBe(3);
    expect(a.transport.stats().handshakesCompleted).toBe(0);
    expect(a.transport.connectedPeers()).toEqual([]);
    expect(a.logs.some((entry) => entry.message === 'turning a host away for a while: it failed to prove a class too often')).toBe(true);
  });

  it('the refused laptop receives a hello, an opaque auth and a close that names nothing', async () => {
    const a = await harness.node({ classes: { 'math-7b': 'math', 'art-7b': 'art' } });
    const raw = await harness.rawSocket(a);
    // Play the intruder by hand so we can read every byte A sends.
    const keyring = new ClassKeyring();
    keyring.set('math-7b', new TextEncoder().encode('a guess at the secret, 32 bytes.'));
    const handshake = new Handshake({ role: 'initiator', identity: generateIdentity(), keyring, maxFrameBytes: 1 << 22 });
    raw.socket.send(handshake.hello);
    await waitFor(() => raw.received.length === 2, 'hello and auth from A');
    const reply = handshake.receive(raw.received[0]!).reply!;
    raw.socket.send(reply);
    // The intruder cannot match A's proofs either: from its side, too, nothing is shared.
    expect(() => handshake.receive(raw.received[1]!)).toThrow(HandshakeError);
    const close = await raw.closed;
    expect(close).toEqual({ code: 4003, reason: 'noSharedClass' });
    expect(raw.received.map((bytes) => decodeFrame(bytes).kind)).toEqual(['hello', 'sealed']);
    const everything = Buffer.concat(raw.received);
    for (const needle of ['math-7b', 'art-7b', 'class secret']) expect(everything.includes(Buffer.from(needle))).toBe(false);
  });

  it('a laptop that proves one class of two carries only that one', async () => {
    const gen = new MessageGenerator(testSeed('class subset'));
    const a = await harness.node({ classes: { math: 'math', art: 'art' } });
    const c = await harness.node({ classes: { math: 'a guess', art: 'art' } });
    harness.link(c, a);
    await waitFor(() => a.connectedTo(c) && c.connectedTo(a), 'the connection');
    expect(a.transport.peerStats(c.id)?.classes).toEqual(['art']);
    expect(c.transport.peerStats(a.id)?.classes).toEqual(['art']);

    expect(a.transport.send(c.id, 'math', gen.message('app', a.id, c.id))).toBe(false);
    expect(c.transport.send(a.id, 'math', gen.message('vote', c.id, a.id))).toBe(false);
    expect(a.transport.stats().drops.classNotShared).toBe(1);
    expect(a.transport.send(c.id, 'art', gen.message('heartbeat', a.id, c.id))).toBe(true);
    await waitFor(() => c.received.length === 1, 'the art heartbeat');
    expect(c.received.map((received) => received.classTag)).toEqual(['art']);
    expect(a.transport.connectedPeers('math')).toEqual([]);
  });

  it('a class joined on both sides while connected is proved in-band and then carried', async () => {
    const gen = new MessageGenerator(testSeed('class join'));
    const a = await harness.node({ classes: { math: 'math' } });
    const b = await harness.node({ classes: { math: 'math' } });
    harness.link(a, b);
    await waitFor(() => a.connectedTo(b) && b.connectedTo(a), 'the connection');

    a.transport.addClass('art', new TextEncoder().encode('class secret: art'.padEnd(32, '.')));
    await sleep(50);
    expect(b.transport.peerStats(a.id)?.classes).toEqual(['math']); // B is not in art: nothing changes for it
    expect(a.transport.peerStats(b.id)?.classes).toEqual(['math']);
    b.transport.addClass('art', new TextEncoder().encode('class secret: art'.padEnd(32, '.')));
    await waitFor(
      () => a.transport.peerStats(b.id)?.classes.length === 2 && b.transport.peerStats(a.id)?.classes.length === 2,
      'art shared',
    );
    expect(a.events.at(-1)).toEqual({ laptopId: b.id, state: 'updated', classes: ['art', 'math'] });

    const message = gen.message('snap', a.id, b.id);
    expect(a.transport.send(b.id, 'art', message)).toBe(true);
    await waitFor(() => b.received.length === 1, 'the art snapshot chunk');
    expect(b.received[0]).toEqual({ from: a.id, classTag: 'art', message });

    // Joined with a different secret: not the same class, not shared.
    a.transport.addClass('music', new TextEncoder().encode('one music secret, 32 bytes long.'));
    b.transport.addClass('music', new TextEncoder().encode('another music secret, 32 bytes..'));
    await sleep(50);
    expect(a.transport.peerStats(b.id)?.classes).toEqual(['art', 'math']);
  });

  it('leaving a class stops it at once, and leaving the last shared class closes the connection', async () => {
    const gen = new MessageGenerator(testSeed('class leave'));
    const a = await harness.node({ classes: { math: 'math', art: 'art' } });
    const b = await harness.node({ classes: { math: 'math', art: 'art' } });
    harness.link(a, b);
    await waitFor(() => a.connectedTo(b) && b.connectedTo(a), 'the connection');

    b.transport.removeClass('art');
    expect(b.transport.peerStats(a.id)?.classes).toEqual(['math']);
    expect(b.transport.send(a.id, 'art', gen.message('vote', b.id, a.id))).toBe(false);
    // A has not heard; what it still sends for art is dropped quietly by B, and the connection stays.
    expect(a.transport.send(b.id, 'art', gen.message('vote', a.id, b.id))).toBe(true);
    expect(a.transport.send(b.id, 'math', gen.message('vote', a.id, b.id))).toBe(true);
    await waitFor(() => b.received.length === 1, 'the math vote');
    expect(b.received[0]?.classTag).toBe('math');
    expect(b.connectedTo(a)).toBe(true);

    b.transport.removeClass('math');
    await waitFor(() => !a.connectedTo(b), 'A to see the connection close');
    expect(b.transport.stats().closes.noSharedClass).toBeGreaterThanOrEqual(1);
    expect(a.events.at(-1)).toMatchObject({ laptopId: b.id, state: 'disconnected', cause: 'remoteClosed' });
  });
});
