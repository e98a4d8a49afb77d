// A class's secret is replaced when a member is removed. A laptop that was away then still knows
// only the earlier secret; it is let in by the laptops that know the new one only if the class
// still counts it as its own, so a removed member's copy of the old secret opens nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, classSecret, sleep, waitFor } from './harness';

const harness = new Harness();
afterEach(() => harness.stopAll());

/** A laptop that knows only the first secret, connected to one that moved on and counts it (until `count(false)`). */
async function connectedOnTheEarlierSecret() {
  const away = await harness.node({ classes: { math: 'first secret' } });
  const current = await harness.node({});
  current.transport.addClass('math', classSecret('second secret'), [classSecret('first secret')]);
  let counted = true;
  current.transport.setEarlierSecretPolicy(() => counted);
  harness.link(away, current);
  await waitFor(() => current.connectedTo(away), 'the connection');
  return { away, current, count: (counts: boolean) => (counted = counts) };
}

describe('earlier class secrets', () => {
  it('lets a laptop that knows only the earlier secret in when the class counts it as its own', async () => {
    const away = await harness.node({ classes: { math: 'first secret' } });
    const current = await harness.node({});
    current.transport.addClass('math', classSecret('second secret'), [classSecret('first secret')]);
    current.transport.setEarlierSecretPolicy((tag, laptopId) => tag === 'math' && laptopId === away.id);
    harness.link(away, current);
    await waitFor(() => away.connectedTo(current) && current.connectedTo(away), 'the connection');
    expect(current.transport.peerStats(away.id)?.classes).toEqual(['math']);
    expect(away.transport.peerStats(current.id)?.classes).toEqual(['math']);
  });

  it('refuses a laptop that proves only the earlier secret when the class does not count it', async () => {
    const current = await harness.node({});
    current.transport.addClass('math', classSecret('second secret'), [classSecret('first secret')]);
    current.transport.setEarlierSecretPolicy(() => false);
    const removed = await harness.node({ classes: { math: 'first secret' } });
    harness.link(removed, current);
    await waitFor(() => current.transport.stats().closes.noSharedClass >= 1, 'a refusal');
    await sleep(100);
    expect(current.transport.connectedPeers()).toEqual([]);
    expect(removed.transport.connectedPeers()).toEqual([]);
    expect(removed.received).toEqual([]);
  });

  it('drops a connection carried by the earlier secret once the class stops counting that laptop', async () => {
    const { away, current, count } = await connectedOnTheEarlierSecret();
    count(false);
    current.transport.recheckClasses();
    await waitFor(() => !current.connectedTo(away) && !away.connectedTo(current), 'the connection closed');
    expect(current.transport.connectedPeers('math')).toEqual([]);
  });

  it('moves onto the new secret when the laptop that was away learns it, without reconnecting', async () => {
    const { away, current, count } = await connectedOnTheEarlierSecret();
    const opened = current.transport.stats().handshakesCompleted;

    away.transport.addClass('math', classSecret('second secret'), [classSecret('first secret')]);
    await sleep(100);
    // It now proves the current secret: whether the class counts it no longer matters.
    count(false);
    current.transport.recheckClasses();
    await sleep(100);
    expect(current.transport.peerStats(away.id)?.classes).toEqual(['math']);
    expect(current.transport.stats().handshakesCompleted).toBe(opened);
  });

  it('is not let in by a laptop that knows only the earlier secret, whatever it thinks of us', async () => {
    // The laptop that was away cannot tell a removed member from anyone else: it accepts the
    // secret it knows. What keeps the removed member out is every laptop that knows the new one.
    const away = await harness.node({ classes: { math: 'first secret' } });
    const removed = await harness.node({ classes: { math: 'first secret' } });
    harness.link(removed, away);
    await waitFor(() => away.connectedTo(removed), 'the connection');
    expect(away.transport.peerStats(removed.id)?.classes).toEqual(['math']);
  });
});
