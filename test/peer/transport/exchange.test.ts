// Real transports on 127.0.0.1 carrying every kind of Raft message, for several classes at once.
import { afterEach, describe, expect, it } from 'vitest';
import { connectAll, Harness, waitFor, type Received, type TestNode } from './harness';
import { MESSAGE_TYPES, MessageGenerator, testSeed } from './random-messages';

const harness = new Harness();
afterEach(() => harness.stopAll());

/** Sends `perType` random messages of every type from `from` to `to` in `classTag`; returns what should arrive. */
function sendEveryType(gen: MessageGenerator, from: TestNode, to: TestNode, classTag: string, perType = 5): Received[] {
  const expected: Received[] = [];
  for (const type of MESSAGE_TYPES) {
    for (let i = 0; i < perType; i++) {
      const message = gen.message(type, from.id, to.id);
      expect(from.transport.send(to.id, classTag, message)).toBe(true);
      expected.push({ from: from.id, classTag, message });
    }
  }
  return expected;
}

const receivedFrom = (node: TestNode, from: TestNode) => node.received.filter((received) => received.from === from.id);

describe('exchange', () => {
  it('two transports exchange every kind of Raft message in both directions, in order', async () => {
    const gen = new MessageGenerator(testSeed('exchange two'));
    const a = await harness.node({ classes: { math: 'math', art: 'art' } });
    const b = await harness.node({ classes: { math: 'math', art: 'art' } });
    harness.link(a, b); // only A knows where B is: B learns A from the connection
    await waitFor(() => a.connectedTo(b) && b.connectedTo(a), 'A and B to connect');

    const toB = [...sendEveryType(gen, a, b, 'math'), ...sendEveryType(gen, a, b, 'art')];
    const toA = [...sendEveryType(gen, b, a, 'art'), ...sendEveryType(gen, b, a, 'math')];
    await waitFor(() => b.received.length === toB.length && a.received.length === toA.length, 'every message');
    expect(b.received).toEqual(toB);
    expect(a.received).toEqual(toA);

    expect(a.events).toEqual([{ laptopId: b.id, state: 'connected', direction: 'outgoing', classes: ['art', 'math'] }]);
    expect(b.events).toEqual([{ laptopId: a.id, state: 'connected', direction: 'incoming', classes: ['art', 'math'] }]);
    expect(a.transport.connectedPeers('math')).toEqual([b.id]);
    expect(a.logs.filter((entry) => entry.level === 'warn' || entry.level === 'error')).toEqual([]);
  });

  it('three transports, overlapping classes: each pair carries exactly the classes it shares', async () => {
    const gen = new MessageGenerator(testSeed('exchange three'));
    const a = await harness.node({ classes: { math: 'math' } });
    const b = await harness.node({ classes: { math: 'math', art: 'art' } });
    const c = await harness.node({ classes: { math: 'math', art: 'art' } });
    await connectAll(harness, [a, b, c]);
    expect(a.transport.peerStats(b.id)?.classes).toEqual(['math']);
    expect(b.transport.peerStats(c.id)?.classes).toEqual(['art', 'math']);
    expect(c.transport.connectedPeers('art')).toEqual([b.id]);

    const expected = new Map<TestNode, Map<TestNode, Received[]>>();
    for (const from of [a, b, c]) {
      for (const to of [a, b, c]) {
        if (from === to) continue;
        const classes = from === a || to === a ? ['math'] : ['math', 'art'];
        const messages = classes.flatMap((tag) => sendEveryType(gen, from, to, tag, 2));
        if (!expected.has(to)) expected.set(to, new Map());
        expected.get(to)!.set(from, messages);
      }
    }
    const total = (node: TestNode) => [...expected.get(node)!.values()].reduce((sum, list) => sum + list.length, 0);
    await waitFor(() => [a, b, c].every((node) => node.received.length === total(node)), 'every message at every node');
    for (const [to, bySender] of expected) for (const [from, messages] of bySender) expect(receivedFrom(to, from)).toEqual(messages);

    // A is not in art: nothing for art is sent to it, and the drop is counted.
    expect(b.transport.send(a.id, 'art', gen.message('heartbeat', b.id, a.id))).toBe(false);
    expect(b.transport.stats().drops.classNotShared).toBe(1);
    for (const node of [a, b, c]) expect(node.transport.stats().openConnections).toBe(2);
  });

  it('sending to a laptop that is not connected drops the message and counts it', async () => {
    const gen = new MessageGenerator(testSeed('exchange not connected'));
    const a = await harness.node({ classes: { math: 'math' } });
    const stranger = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';
    expect(a.transport.send(stranger, 'math', gen.message('vote', a.id, stranger))).toBe(false);
    expect(a.transport.stats().drops.notConnected).toBe(1);
    expect(() => a.transport.send(stranger, 'math', gen.message('vote', 'someone-else', stranger))).toThrow(RangeError);
  });

  it('a message too large for a frame is dropped, not sent', async () => {
    const a = await harness.node({ classes: { math: 'math' }, maxFrameBytes: 64 * 1024 });
    const b = await harness.node({ classes: { math: 'math' }, maxFrameBytes: 64 * 1024 });
    harness.link(a, b);
    await waitFor(() => a.connectedTo(b), 'A and B to connect');
    const data = new Uint8Array(64 * 1024);
    const append = { type: 'app' as const, from: a.id, to: b.id, term: 1, index: 0, logTerm: 0, commit: 0 };
    expect(a.transport.send(b.id, 'math', { ...append, entries: [{ type: 'normal', index: 1, term: 1, data }] })).toBe(false);
    expect(a.transport.stats().drops.tooLarge).toBe(1);
    expect(a.transport.send(b.id, 'math', { ...append, entries: [] })).toBe(true);
    await waitFor(() => b.received.length === 1, 'the small message');
  });

  it('a subscriber that throws is logged and does not disturb the connection', async () => {
    const a = await harness.node({ classes: { math: 'math' } });
    const b = await harness.node({ classes: { math: 'math' } });
    b.transport.onMessage(() => {
      throw new Error('subscriber bug');
    });
    harness.link(a, b);
    await waitFor(() => a.connectedTo(b), 'A and B to connect');
    const heartbeat = { type: 'heartbeat' as const, from: a.id, to: b.id, term: 1, commit: 0, context: null };
    a.transport.send(b.id, 'math', heartbeat);
    a.transport.send(b.id, 'math', heartbeat);
    await waitFor(() => b.received.length === 2, 'both heartbeats');
    expect(b.logs.filter((entry) => entry.level === 'error')).toHaveLength(2);
    expect(b.connectedTo(a)).toBe(true);
  });
});
