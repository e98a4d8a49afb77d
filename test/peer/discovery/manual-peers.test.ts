// Peers typed in by hand: what counts as an address, and that the list survives a restart.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidPeerAddressError,
  MANUAL_PEERS_FILE,
  ManualPeers,
  ManualPeersFileError,
  parsePeerAddress,
  type DiscoveredPeer,
  type Logger,
  type LostPeer,
} from '../../../electron/peer/discovery';

const directories: string[] = [];
async function dataDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'quorum-manual-peers-'));
  directories.push(directory);
  return directory;
}

afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (message: string) => lines.push(message);
  return { lines, debug: () => {}, info: log, warn: log, error: log };
}

function open(dataDirectory: string, logger: Logger = recordingLogger(), maxPeers?: number) {
  const peers = new ManualPeers({ dataDirectory, logger, maxPeers, clock: { now: () => 1_700_000_000_000, setTimeout: () => 0, clearTimeout: () => {} } });
  const found: DiscoveredPeer[] = [];
  const lost: LostPeer[] = [];
  peers.on('peer', (peer) => found.push(peer));
  peers.on('peerLost', (event) => lost.push(event));
  return { peers, found, lost };
}

describe('parsePeerAddress', () => {
  it.each([
    ['192.168.1.20:7000', '192.168.1.20', 7000, '192.168.1.20:7000'],
    ['  10.0.0.1:1  ', '10.0.0.1', 1, '10.0.0.1:1'],
    ['127.0.0.1:65535', '127.0.0.1', 65535, '127.0.0.1:65535'],
    ['Teacher-Laptop.local:7000', 'teacher-laptop.local', 7000, 'teacher-laptop.local:7000'],
    ['teacher-laptop.local.:7000', 'teacher-laptop.local', 7000, 'teacher-laptop.local:7000'],
    ['[2001:DB8::1]:7000', '2001:db8::1', 7000, '[2001:db8::1]:7000'],
    ['[::1]:8080', '::1', 8080, '[::1]:8080'],
  ])('accepts %j', (input, host, port, key) => {
    expect(parsePeerAddress(input)).toEqual({ host, port, key });
  });

  it.each([
    ['', /empty/],
    ['192.168.1.20', /expected host:port/],
    ['192.168.1.20:', /port must be a number/],
    ['192.168.1.20:0', /1 to 65535/],
    ['192.168.1.20:65536', /1 to 65535/],
    ['192.168.1.20:70a', /port must be a number/],
    ['192.168.1.20:+80', /port must be a number/],
    ['192.168.1.20:123456', /port must be a number/],
    ['300.1.1.1:7000', /not a valid IPv4/],
    ['1.2.3:7000', /not a valid IPv4/],
    ['2001:db8::1:7000', /IPv6 addresses as \[address\]:port/],
    ['[teacher]:7000', /only IPv6 addresses go in brackets/],
    ['[fe80::1]:7000', /link-local/],
    ['[::]:7000', /unspecified/],
    ['0.0.0.0:7000', /unspecified/],
    ['224.0.0.251:5353', /multicast/],
    ['255.255.255.255:7000', /broadcast/],
    ['-teacher:7000', /not a valid host name/],
    ['teacher_laptop:7000', /not a valid host name/],
    ['a..b:7000', /not a valid host name/],
    ['http://teacher:7000', /without http:\/\//],
    ['teacher:7000/class', /without http:\/\/ or a path/],
    ['teacher laptop:7000', /not a valid host name/],
    [`${'a'.repeat(64)}.local:7000`, /not a valid host name/],
    [`${'a'.repeat(300)}:7000`, /too long/],
  ])('refuses %j', (input, reason) => {
    expect(() => parsePeerAddress(input)).toThrow(InvalidPeerAddressError);
    expect(() => parsePeerAddress(input)).toThrow(reason);
  });
});

describe('ManualPeers', () => {
  it('reports added peers without a laptop id, keyed by address, and keeps them across restarts', async () => {
    const directory = await dataDir();
    const first = open(directory);
    await first.peers.start();
    await first.peers.start(); // idempotent
    const added = await first.peers.add('192.168.1.20:7000');
    await first.peers.add('[2001:db8::1]:7001');
    expect(added).toEqual({ key: '192.168.1.20:7000', laptopId: null, addresses: ['192.168.1.20'], port: 7000, classTags: [], lastSeen: 1_700_000_000_000 });
    expect(first.found.map((peer) => peer.key)).toEqual(['192.168.1.20:7000', '[2001:db8::1]:7001']);
    await first.peers.stop();
    await first.peers.stop();

    const second = open(directory);
    expect(await second.peers.list()).toEqual(['192.168.1.20:7000', '[2001:db8::1]:7001']);
    expect(second.found).toEqual([]); // nothing before start
    await second.peers.start();
    expect(second.found).toEqual([added, expect.objectContaining({ key: '[2001:db8::1]:7001', addresses: ['2001:db8::1'], port: 7001 })]);
    expect(second.peers.peers()).toHaveLength(2);

    const file = JSON.parse(await readFile(join(directory, MANUAL_PEERS_FILE), 'utf8'));
    expect(file).toEqual({
      version: 1,
      peers: [
        { address: '192.168.1.20:7000', addedAt: 1_700_000_000_000 },
        { address: '[2001:db8::1]:7001', addedAt: 1_700_000_000_000 },
      ],
    });
    expect((await readdir(directory)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('adds an address once, however it is spelled', async () => {
    const { peers, found } = open(await dataDir());
    await peers.start();
    await peers.add('Teacher.local:7000');
    await peers.add(' teacher.local.:7000 ');
    expect(found).toHaveLength(1);
    expect(await peers.list()).toEqual(['teacher.local:7000']);
  });

  it('removes a peer, reports it lost, and persists the removal', async () => {
    const directory = await dataDir();
    const { peers, lost } = open(directory);
    await peers.start();
    await peers.add('10.0.0.1:7000');
    expect(await peers.remove('10.0.0.1:7000')).toBe(true);
    expect(await peers.remove('10.0.0.1:7000')).toBe(false);
    expect(lost).toEqual([{ key: '10.0.0.1:7000', laptopId: null, reason: 'removed' }]);
    expect(peers.peers()).toEqual([]);
    expect(await open(directory).peers.list()).toEqual([]);
  });

  it('throws for a bad address and adds nothing', async () => {
    const directory = await dataDir();
    const { peers, found } = open(directory);
    await peers.start();
    await expect(peers.add('not an address')).rejects.toThrow(InvalidPeerAddressError);
    await expect(peers.remove('not an address')).rejects.toThrow(InvalidPeerAddressError);
    expect(found).toEqual([]);
    expect(await peers.list()).toEqual([]);
  });

  it('keeps a bounded list', async () => {
    const { peers } = open(await dataDir(), recordingLogger(), 2);
    await peers.add('10.0.0.1:7000');
    await peers.add('10.0.0.2:7000');
    await expect(peers.add('10.0.0.3:7000')).rejects.toThrow(RangeError);
    expect(await peers.list()).toHaveLength(2);
  });

  it('sets a damaged file aside instead of overwriting it, and starts empty', async () => {
    const directory = await dataDir();
    await writeFile(join(directory, MANUAL_PEERS_FILE), '{"version": 1, "peers": [tru');
    const logger = recordingLogger();
    const { peers } = open(directory, logger);
    await peers.start();
    expect(peers.peers()).toEqual([]);
    expect(logger.lines.join('\n')).toMatch(/damaged/);
    const files = await readdir(directory);
    expect(files.some((name) => name.startsWith(`${MANUAL_PEERS_FILE}.corrupt-`))).toBe(true);
    await peers.add('10.0.0.1:7000');
    expect(await open(directory).peers.list()).toEqual(['10.0.0.1:7000']);
  });

  it('skips bad entries of an otherwise good file', async () => {
    const directory = await dataDir();
    const peersInFile = [{ address: '10.0.0.1:7000', addedAt: 5 }, { address: 'nope' }, 42, { address: '10.0.0.1:7000' }, { address: '10.0.0.2:7000', addedAt: 'x' }];
    await writeFile(join(directory, MANUAL_PEERS_FILE), JSON.stringify({ version: 1, peers: peersInFile }));
    const logger = recordingLogger();
    const { peers, found } = open(directory, logger);
    await peers.start();
    expect(found.map((peer) => [peer.key, peer.lastSeen])).toEqual([
      ['10.0.0.1:7000', 5],
      ['10.0.0.2:7000', 0],
    ]);
    expect(logger.lines).toContain('ignored a bad manual peer');
  });

  it('reports a file it cannot write as ManualPeersFileError and keeps the list as it was', async () => {
    const directory = await dataDir();
    await writeFile(join(directory, 'blocker'), 'a file where the data directory should be');
    const { peers, found } = open(join(directory, 'blocker'));
    await peers.start();
    await expect(peers.add('10.0.0.1:7000')).rejects.toThrow(ManualPeersFileError);
    expect(found).toEqual([]);
    expect(await peers.list()).toEqual([]);
  });

  it('contains a throwing listener', async () => {
    const logger = recordingLogger();
    const { peers, found } = open(await dataDir(), logger);
    peers.on('peer', () => {
      throw new Error('listener bug');
    });
    await peers.start();
    await peers.add('10.0.0.1:7000');
    expect(found).toHaveLength(1);
    expect(logger.lines).toContain('peer listener threw');
  });
});
