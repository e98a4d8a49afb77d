// Real mDNS between laptops, each a Node process in its own network namespace with MdnsDiscovery
// bound to its address: who finds whom, address changes, class changes, departures, forgeries.
//
// The tests run in order on one LAN and build on each other (3 laptops, then 10, then changes).
// Classes: A = {1, 2, 4, 5, 6, 7}, B = {2, 3}, C = {8, 9, 10}; host 11 is the forger.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classTag } from '../../electron/peer/discovery';
import { laptopIdFromPublicKey } from '../../electron/peer/transport/identity';
import { DiscoveryChild, waitFor } from './discovery-child';
import { lanSupport } from './lan-support';
import { Lan, lanScript } from './netns';

const support = await lanSupport('LAN discovery tests (test/lan/discovery.test.ts)');

describe.runIf(!support.ok && support.required)('LAN discovery in CI', () => {
  it('can create network namespaces (required when CI is set)', () => {
    throw new Error(`network namespaces are unavailable: ${support.reason}`);
  });
});

const QUERY_INTERVAL_MS = 1_000;
const PEER_TIMEOUT_MS = 3_000;
/** Longest a silent laptop may stay reported: the timeout, plus the longest jittered interval before the sweep, plus slack. */
const LOSS_BOUND_MS = PEER_TIMEOUT_MS + QUERY_INTERVAL_MS * 1.2 + 1_500;
const CONVERGE_MS = 15_000;
const TRANSPORT_PORT = 7000;

const A = classTag(randomBytes(32));
const B = classTag(randomBytes(32));
const C = classTag(randomBytes(32));
const CLASSES: Record<number, string[]> = { 1: [A], 2: [A, B], 3: [B], 4: [A], 5: [A], 6: [A], 7: [A], 8: [C], 9: [C], 10: [C] };
const FORGER = 11;
const ids: Record<number, string> = Object.fromEntries(
  Object.keys(CLASSES).map((host) => [Number(host), laptopIdFromPublicKey(randomBytes(32))]),
);

describe.runIf(support.ok)('MdnsDiscovery on a LAN of namespaces', () => {
  let lan: Lan;
  const laptops = new Map<number, DiscoveryChild>();
  const running = () => [...laptops.values()].filter((laptop) => !laptop.exited());

  /** Hosts that share a class with `host` among `among`, by the current class table. */
  function expectedPeers(host: number, among: number[], classes = CLASSES): number[] {
    return among.filter((other) => other !== host && classes[other]!.some((tag) => classes[host]!.includes(tag)));
  }

  /** Waits until every laptop in `among` reports exactly the laptops it shares a class with. */
  async function converge(among: number[], classes = CLASSES): Promise<void> {
    await waitFor(
      `laptops ${among.join(',')} to see exactly their classmates`,
      () =>
        among.every((host) => {
          const want = expectedPeers(host, among, classes).map((other) => ids[other]!).sort();
          return JSON.stringify(laptops.get(host)!.reportedIds()) === JSON.stringify(want);
        }),
      CONVERGE_MS,
    ).catch((error: Error) => {
      const views = among.map((host) => `  ${host}: ${laptops.get(host)!.reportedIds().map(hostOf).join(',')}`).join('\n');
      throw new Error(`${error.message}\n${views}`);
    });
  }

  const hostOf = (laptopId: string | null): number => Number(Object.entries(ids).find(([, id]) => id === laptopId)?.[0] ?? -1);

  async function startLaptops(hosts: number[]): Promise<void> {
    const started = await Promise.all(
      hosts.map((host) =>
        DiscoveryChild.start(lan, host, {
          laptopId: ids[host]!,
          port: TRANSPORT_PORT + host,
          classTags: CLASSES[host]!,
          queryIntervalMs: QUERY_INTERVAL_MS,
          peerTimeoutMs: PEER_TIMEOUT_MS,
          networkCheckIntervalMs: 200,
        }),
      ),
    );
    for (const laptop of started) laptops.set(laptop.hostIndex, laptop);
  }

  /** No laptop ever reported a laptop it shares no class with, and every report is well-formed. */
  function expectOnlyClassmatesEverReported(classes = CLASSES): void {
    for (const [host, laptop] of laptops) {
      for (const peer of laptop.peerEvents()) {
        const other = hostOf(peer.laptopId);
        expect(other, `laptop ${host} reported unknown ${peer.laptopId}`).toBeGreaterThan(0);
        const shared = classes[other]!.filter((tag) => classes[host]!.includes(tag));
        expect(shared.length, `laptop ${host} reported ${other}, which shares no class`).toBeGreaterThan(0);
        expect(peer.port).toBe(TRANSPORT_PORT + other);
      }
    }
  }

  beforeAll(async () => {
    lan = await Lan.create(FORGER);
  }, 30_000);

  afterAll(async () => {
    await lan?.destroy();
  }, 30_000);

  it('three laptops find exactly the ones they share a class with, at their addresses', async () => {
    await startLaptops([1, 2, 3]);
    await converge([1, 2, 3]);
    const seenBy1 = laptops.get(1)!.view.get(ids[2]!)!;
    expect(seenBy1).toMatchObject({ key: ids[2], laptopId: ids[2], addresses: [lan.host(2).address], port: TRANSPORT_PORT + 2, classTags: [A] });
    expect(laptops.get(2)!.view.get(ids[3]!)).toMatchObject({ addresses: [lan.host(3).address], classTags: [B] });
    expect(laptops.get(3)!.view.get(ids[2]!)).toMatchObject({ addresses: [lan.host(2).address], classTags: [B] });
    expect(Math.abs(seenBy1.lastSeen - Date.now())).toBeLessThan(10_000);
    expectOnlyClassmatesEverReported();
  });

  it('ten laptops in three classes converge, and nobody reports a laptop of another class', async () => {
    await startLaptops([4, 5, 6, 7, 8, 9, 10]);
    const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    await converge(all);
    for (const host of all) {
      for (const peer of laptops.get(host)!.view.values()) expect(peer.addresses).toEqual([lan.host(hostOf(peer.laptopId)).address]);
    }
    // A few more query rounds: still exactly the classmates, and each found once (no flapping).
    const before = laptops.get(1)!.peerEvents().length;
    await new Promise((resolve) => setTimeout(resolve, QUERY_INTERVAL_MS * 2));
    await converge(all);
    expect(laptops.get(1)!.peerEvents().length).toBe(before);
    expect(running().flatMap((laptop) => laptop.lostEvents())).toEqual([]);
    expectOnlyClassmatesEverReported();
    // peers() agrees with the events.
    const laptop2 = laptops.get(2)!;
    laptop2.send({ cmd: 'peers' });
    const snapshot = await waitFor('laptop 2 to list its peers', () => laptop2.events.findLast((event) => event.type === 'peers'), 5_000);
    expect(snapshot.type === 'peers' && snapshot.peers.map((peer) => peer.laptopId).sort()).toEqual(laptop2.reportedIds());
  });

  it('loses nobody while every laptop drops 10 % of what it sends', async () => {
    const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const lostBefore = running().reduce((sum, laptop) => sum + laptop.lostEvents().length, 0);
    await Promise.all(all.map((host) => lan.setLoss(host, 10)));
    try {
      await new Promise((resolve) => setTimeout(resolve, PEER_TIMEOUT_MS * 1.5));
    } finally {
      await Promise.all(all.map((host) => lan.setLoss(host, 0)));
    }
    expect(running().reduce((sum, laptop) => sum + laptop.lostEvents().length, 0)).toBe(lostBefore);
    await converge(all);
  });

  it('re-announces when a laptop joins and leaves a class', async () => {
    const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const joined = { ...CLASSES, 10: [C, A] };
    laptops.get(10)!.send({ cmd: 'setClassTags', classTags: joined[10] });
    await converge(all, joined);
    expect(laptops.get(1)!.view.get(ids[10]!)).toMatchObject({ classTags: [A], addresses: [lan.host(10).address] });
    expect(laptops.get(8)!.view.get(ids[10]!)).toMatchObject({ classTags: [C] });

    laptops.get(10)!.send({ cmd: 'setClassTags', classTags: [C] });
    await converge(all);
    expect(laptops.get(1)!.lostEvents()).toEqual([expect.objectContaining({ laptopId: ids[10], reason: 'noSharedClass' })]);
    expect(laptops.get(8)!.lostEvents()).toEqual([]); // C was shared all along
  });

  it('reports a laptop whose address changed as an update of the same laptop id', async () => {
    const moved = 5;
    const oldAddress = lan.host(moved).address;
    const newAddress = `10.77.${lan.run}.105`;
    const watchers = expectedPeers(moved, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const peerEventsBefore = new Map(watchers.map((host) => [host, laptops.get(host)!.peerEvents().length]));
    await lan.readdress(moved, newAddress);

    await waitFor(
      `every classmate of laptop ${moved} to see it at ${newAddress}`,
      () => watchers.every((host) => sameList(laptops.get(host)!.view.get(ids[moved]!)?.addresses, [newAddress])),
      CONVERGE_MS,
    );
    for (const host of watchers) {
      const updates = laptops.get(host)!.peerEvents().slice(peerEventsBefore.get(host)).filter((peer) => peer.laptopId === ids[moved]);
      expect(updates.at(-1)).toMatchObject({ key: ids[moved], laptopId: ids[moved], addresses: [newAddress] });
      expect(laptops.get(host)!.lostEvents().filter((lost) => lost.laptopId === ids[moved])).toEqual([]);
      expect(laptops.get(host)!.view.size).toBe(expectedPeers(host, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).length); // not a new peer
    }
    expect(oldAddress).not.toBe(newAddress);
    // The moved laptop itself still sees its classmates.
    await converge([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('ignores malformed announcements and garbage without crashing or reporting them', async () => {
    const forgedIds = Array.from({ length: 9 }, () => laptopIdFromPublicKey(randomBytes(32)));
    const forger = lan.spawnNode(FORGER, lanScript('mdns-forger.ts'), [
      JSON.stringify({ interface: lan.host(FORGER).address, classTag: A, forgedIds }),
    ]);
    let forgerOutput = '';
    forger.stdout!.on('data', (chunk) => (forgerOutput += chunk));
    forger.stderr!.on('data', (chunk) => (forgerOutput += chunk));
    const { forgeries } = await waitFor('the forger to start', () => {
      const line = forgerOutput.split('\n').find((candidate) => candidate.startsWith('{'));
      return line ? (JSON.parse(line) as { forgeries: string[] }) : null;
    }, 20_000);

    // Laptop 1 (class A) logs a refusal for every kind of forgery.
    const reasons = (): string[] =>
      laptops.get(1)!.logs('warn').filter((log) => log.message === 'ignored malformed announcement').map((log) => String(log.fields?.reason));
    const patterns = [
      /is not a list of class tags/,
      /too many class tag keys/,
      /instance name .* is not the laptop id/,
      /bad port 0/,
      /no TXT record/,
      /duplicate TXT key/,
      /unsupported protocol version/,
      /bytes of TXT, at most/,
      /bad laptop id/,
    ];
    expect(patterns.length).toBe(forgeries.length);
    await waitFor(
      'laptop 1 to refuse every forgery',
      () => patterns.every((pattern) => reasons().some((reason) => pattern.test(reason))),
      CONVERGE_MS,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nrefusals: ${JSON.stringify([...new Set(reasons())])}\nforger: ${forgerOutput}`);
    });
    // Two more query rounds under fire.
    await new Promise((resolve) => setTimeout(resolve, QUERY_INTERVAL_MS * 2));
    forger.kill('SIGKILL');

    for (const laptop of laptops.values()) {
      expect(laptop.exited(), `laptop ${laptop.hostIndex} crashed: ${laptop.stderr.join('\n')}`).toBe(false);
      expect(laptop.peerEvents().filter((peer) => forgedIds.includes(peer.laptopId ?? '') || hostOf(peer.laptopId) < 0)).toEqual([]);
      expect(laptop.logs('error')).toEqual([]);
    }
    await converge([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('reports a laptop lost within a bounded time when it says goodbye, crashes, or is unplugged', async () => {
    const watchers = (gone: number, among: number[]) => expectedPeers(gone, among);
    const lostWithin = async (gone: number, among: number[], reason: string, since: number) => {
      const at = await waitFor(
        `classmates of laptop ${gone} to lose it (${reason})`,
        () => {
          const times = watchers(gone, among).map(
            (host) => laptops.get(host)!.lostEvents().find((lost) => lost.laptopId === ids[gone] && lost.reason === reason && lost.at >= since)?.at,
          );
          return times.every((time) => time !== undefined) ? Math.max(...(times as number[])) : null;
        },
        LOSS_BOUND_MS + 2_000,
      );
      return at - since;
    };

    // A clean stop: a goodbye, so the others know at once.
    let since = Date.now();
    await laptops.get(7)!.stop();
    const goodbyeMs = await lostWithin(7, [1, 2, 4, 5, 6, 7], 'goodbye', since);
    expect(goodbyeMs).toBeLessThan(2_000);

    // A crash: no goodbye, it just stops answering.
    since = Date.now();
    await laptops.get(6)!.kill();
    const crashMs = await lostWithin(6, [1, 2, 4, 5, 6], 'timeout', since);
    expect(crashMs).toBeLessThanOrEqual(LOSS_BOUND_MS);

    // An unplugged cable: both sides stop hearing each other, and find each other again when it is back.
    since = Date.now();
    await lan.setConnected(4, false);
    const unpluggedMs = await lostWithin(4, [1, 2, 4, 5], 'timeout', since);
    expect(unpluggedMs).toBeLessThanOrEqual(LOSS_BOUND_MS);
    await waitFor('laptop 4 to lose its classmates', () => laptops.get(4)!.view.size === 0, LOSS_BOUND_MS + 2_000);
    await lan.setConnected(4, true);
    await converge([1, 2, 3, 4, 5, 8, 9, 10]);

    // A laptop that never shared a class with the departed never heard of them.
    expect(laptops.get(8)!.lostEvents()).toEqual([]);
    console.info(`loss detected after: goodbye ${goodbyeMs} ms, crash ${crashMs} ms, unplugged ${unpluggedMs} ms (bound ${LOSS_BOUND_MS} ms)`);
  });
});

function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((value, index) => value === b[index]);
}

