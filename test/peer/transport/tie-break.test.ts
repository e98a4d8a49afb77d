// Two laptops that dial each other at the same moment end up with one connection, the one the
// lower laptop id dialed, and agree on it without talking about it.
import { afterEach, describe, expect, it } from 'vitest';
import { connectAll, Harness, sleep, waitFor } from './harness';
import { MessageGenerator, testSeed } from './random-messages';

const harness = new Harness();
afterEach(() => harness.stopAll());

describe('one connection per pair', () => {
  it('when both dial at once, both keep the connection the lower laptop id dialed', async () => {
    const gen = new MessageGenerator(testSeed('tie-break'));
    for (let round = 0; round < 8; round++) {
      const a = await harness.node({ classes: { math: 'math' } });
      const b = await harness.node({ classes: { math: 'math' } });
      await connectAll(harness, [a, b]);
      const [lower, higher] = a.id < b.id ? [a, b] : [b, a];
      expect(lower.transport.peerStats(higher.id)?.direction, `round ${round}`).toBe('outgoing');
      expect(higher.transport.peerStats(lower.id)?.direction, `round ${round}`).toBe('incoming');
      // Both did dial: two connections were made and one of them was closed as the duplicate.
      expect(a.transport.stats().connectionsDialed + b.transport.stats().connectionsDialed).toBe(2);
      expect(a.transport.stats().closes.duplicate + b.transport.stats().closes.duplicate).toBeGreaterThanOrEqual(1);

      // It stays that way: nobody redials, and messages flow both ways on the one connection.
      await sleep(100);
      for (const node of [a, b]) expect(node.transport.stats().openConnections).toBe(1);
      const toHigher = gen.message('app', lower.id, higher.id);
      const toLower = gen.message('appResp', higher.id, lower.id);
      expect(lower.transport.send(higher.id, 'math', toHigher)).toBe(true);
      expect(higher.transport.send(lower.id, 'math', toLower)).toBe(true);
      await waitFor(() => higher.received.length === 1 && lower.received.length === 1, 'one message each way');
      expect(higher.received[0]?.message).toEqual(toHigher);
      expect(lower.received[0]?.message).toEqual(toLower);
      await harness.stopAll();
    }
  });

  it('five laptops all dialing each other settle on ten connections', async () => {
    const nodes = await Promise.all(Array.from({ length: 5 }, () => harness.node({ classes: { math: 'math' } })));
    await connectAll(harness, nodes);
    await sleep(100);
    for (const node of nodes) {
      expect(node.transport.stats().openConnections).toBe(4);
      for (const other of nodes) {
        if (other === node) continue;
        expect(node.transport.peerStats(other.id)?.direction).toBe(node.id < other.id ? 'outgoing' : 'incoming');
      }
    }
  });

  it('a laptop that only the higher id can reach is still connected (by the higher id dialing)', async () => {
    const a = await harness.node({ classes: { math: 'math' } });
    const b = await harness.node({ classes: { math: 'math' } });
    const [lower, higher] = a.id < b.id ? [a, b] : [b, a];
    harness.link(higher, lower); // the lower id has no address for the higher one
    await waitFor(() => lower.connectedTo(higher) && higher.connectedTo(lower), 'the pair to connect');
    expect(higher.transport.peerStats(lower.id)?.direction).toBe('outgoing');
  });
});
