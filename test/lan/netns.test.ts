// The LAN harness itself: hosts reach each other through the switch and nothing else; cables,
// loss and bandwidth limits do what they say; destroy() and removeLeftovers() leave nothing.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanSupport } from './lan-support';
import { Lan, LAN_INTERFACE, listNamespaces, NAMESPACE_BASE, neighbourTableOverflows, removeLeftovers, run } from './netns';

const support = await lanSupport('LAN harness tests (test/lan/netns.test.ts)');

describe.runIf(!support.ok && support.required)('LAN harness in CI', () => {
  it('can create network namespaces (required when CI is set)', () => {
    throw new Error(`network namespaces are unavailable: ${support.reason}`);
  });
});

describe.runIf(support.ok)('LAN harness', () => {
  let lan: Lan;
  let rootLinksBefore: string;

  beforeAll(async () => {
    rootLinksBefore = (await run('ip', ['-o', 'link', 'show'])).stdout.replace(/\s+/g, ' ');
    lan = await Lan.create(3);
  });

  afterAll(async () => {
    await lan?.destroy();
  });

  const ping = (from: number, to: number) => lan.canReach(from, to);

  it('builds hosts on one switch, addressed 10.77.<run>.<i>, touching nothing in the root namespace', async () => {
    expect(lan.hosts.map((host) => host.address)).toEqual([1, 2, 3].map((i) => `10.77.${lan.run}.${i}`));
    expect(listNamespaces()).toEqual(expect.arrayContaining(lan.namespaces()));
    expect(await ping(1, 2)).toBe(true);
    expect(await ping(3, 1)).toBe(true);
    const routes = await lan.exec(1, ['ip', 'route', 'show', 'table', 'all']);
    expect(routes.stdout).toContain(`224.0.0.0/4 dev ${LAN_INTERFACE}`);
    const snooping = await run('ip', ['-n', lan.switchNamespace, '-d', 'link', 'show', 'br0']);
    expect(snooping.stdout).toContain('mcast_snooping 0');
    const rootLinks = (await run('ip', ['-o', 'link', 'show'])).stdout.replace(/\s+/g, ' ');
    expect(rootLinks).toBe(rootLinksBefore);
  });

  it('introduces every host to the others with permanent neighbour entries, which use no room in the shared ARP table', async () => {
    const neighbours = await lan.exec(1, ['ip', 'neigh', 'show', 'dev', LAN_INTERFACE, 'nud', 'permanent']);
    const known = neighbours.stdout.trim().split('\n').map((line) => line.split(' ')[0]);
    expect(known.sort()).toEqual([lan.host(2).address, lan.host(3).address].sort());
    expect(neighbourTableOverflows()).toEqual(expect.any(Number));
  });

  it('runs a Node child inside a namespace', async () => {
    const child = lan.spawnNode(2, 'test/lan/print-addresses.ts');
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    await new Promise((resolve) => child.once('exit', resolve));
    expect(JSON.parse(out)).toEqual([lan.host(2).address]);
  });

  it('unplugs and replugs a cable', async () => {
    await lan.setConnected(2, false);
    expect(await ping(1, 2)).toBe(false);
    await lan.setConnected(2, true);
    expect(await ping(1, 2)).toBe(true);
  });

  it('drops packets with nftables and limits bandwidth with tc', async () => {
    await lan.setLoss(1, 100);
    expect(await ping(1, 3)).toBe(false);
    await lan.setLoss(1, 0);
    expect(await ping(1, 3)).toBe(true);
    await lan.setBandwidth(3, { rate: '1mbit' });
    expect((await lan.exec(3, ['tc', 'qdisc', 'show', 'dev', LAN_INTERFACE])).stdout).toContain('tbf');
    await lan.setBandwidth(3, null);
    expect((await lan.exec(3, ['tc', 'qdisc', 'show', 'dev', LAN_INTERFACE])).stdout).not.toContain('tbf');
  });

  it('re-addresses a host', async () => {
    const before = lan.host(3).address;
    await lan.readdress(3, `10.77.${lan.run}.33`);
    expect(await ping(1, 3)).toBe(true);
    const neighbours = (await lan.exec(1, ['ip', 'neigh', 'show', 'dev', LAN_INTERFACE, 'nud', 'permanent'])).stdout;
    expect(neighbours).toContain(`10.77.${lan.run}.33 `);
    expect(neighbours).not.toContain(`${before} `);
    expect((await lan.exec(3, ['ip', '-4', '-o', 'addr', 'show', LAN_INTERFACE])).stdout).toContain(`10.77.${lan.run}.33/24`);
  });

  it('destroy() removes every namespace, and removeLeftovers() those of dead runs only', async () => {
    const names = lan.namespaces();
    await lan.destroy();
    expect(listNamespaces().filter((name) => names.includes(name))).toEqual([]);

    const deadPid = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.once('exit', () => resolve(child.pid!));
    });
    const leftover = `${NAMESPACE_BASE}-${deadPid}-test-h1`;
    const live = `${NAMESPACE_BASE}-${process.pid}-test-live`;
    await run('ip', ['netns', 'add', leftover]);
    await run('ip', ['netns', 'add', live]);
    try {
      expect(await removeLeftovers()).toContain(leftover);
      expect(listNamespaces()).not.toContain(leftover);
      expect(listNamespaces()).toContain(live);
    } finally {
      await run('ip', ['netns', 'del', leftover]);
      await run('ip', ['netns', 'del', live]);
    }
  });
});
