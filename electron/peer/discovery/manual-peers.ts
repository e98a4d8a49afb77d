// Peers typed in by hand, for networks that block multicast (guest Wi-Fi with client isolation of
// multicast, managed school networks). The user enters `host:port`; the list is kept in the data
// directory and reported like discovered peers, without a laptop id: the transport learns who is
// there from its handshake, and without class tags: the handshake also tells which classes match.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { systemClock } from '../transport/types';
import { InvalidPeerAddressError, ManualPeersFileError } from './errors';
import { DiscoveryListeners } from './listeners';
import { consoleLogger, type Clock, type DiscoveredPeer, type Discovery, type DiscoveryEvents, type Logger } from './types';

/** The file in the data directory that holds the list. */
export const MANUAL_PEERS_FILE = 'manual-peers.json';
const FILE_VERSION = 1;
/** Longest input accepted: a 253-character host name, a colon, brackets and a port. */
const MAX_INPUT_LENGTH = 262;
const HOST_NAME_PATTERN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A validated `host:port`. */
export interface PeerAddressInput {
  /** An IPv4 address, an IPv6 address (without brackets) or a lowercase host name. */
  host: string;
  port: number;
  /** The normalized `host:port` (`[v6]:port` for IPv6): the peer's key. */
  key: string;
}

/** Parses what a user typed as `host:port` or `[ipv6]:port`. Throws InvalidPeerAddressError. */
export function parsePeerAddress(input: string): PeerAddressInput {
  if (typeof input !== 'string') throw new InvalidPeerAddressError(String(input), 'not text');
  const text = input.trim();
  if (text.length === 0) throw new InvalidPeerAddressError(input, 'empty');
  if (text.length > MAX_INPUT_LENGTH) throw new InvalidPeerAddressError(input, 'too long');
  if (text.includes('/')) throw new InvalidPeerAddressError(input, 'type only host:port, without http:// or a path');
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!.toLowerCase();
    portText = bracketed[2]!;
    if (isIP(host) !== 6) throw new InvalidPeerAddressError(input, 'only IPv6 addresses go in brackets');
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw new InvalidPeerAddressError(input, 'expected host:port');
    host = text.slice(0, colon).toLowerCase();
    portText = text.slice(colon + 1);
    if (host.includes(':')) throw new InvalidPeerAddressError(input, 'write IPv6 addresses as [address]:port');
    const family = isIP(host);
    if (family === 0) {
      if (/^[0-9.]+$/.test(host)) throw new InvalidPeerAddressError(input, 'not a valid IPv4 address');
      const name = host.endsWith('.') ? host.slice(0, -1) : host;
      if (!HOST_NAME_PATTERN.test(name)) throw new InvalidPeerAddressError(input, 'not a valid host name');
      host = name;
    }
  }
  if (!/^\d{1,5}$/.test(portText)) throw new InvalidPeerAddressError(input, 'the port must be a number');
  const port = Number(portText);
  if (port < 1 || port > 65_535) throw new InvalidPeerAddressError(input, 'the port must be 1 to 65535');
  const problem = unusableHost(host);
  if (problem) throw new InvalidPeerAddressError(input, problem);
  return { host, port, key: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}` };
}

/** Loopback is allowed (two peers on one computer); addresses no laptop can listen on are not. */
function unusableHost(host: string): string | null {
  const family = isIP(host);
  if (family === 4) {
    const first = Number(host.split('.')[0]);
    if (first === 0) return 'an unspecified address';
    if (first >= 224) return 'a multicast or broadcast address';
  }
  if (family === 6 && (host === '::' || host.startsWith('ff'))) return 'an unspecified or multicast address';
  if (family === 6 && /^fe[89ab]/.test(host)) return 'a link-local IPv6 address (it needs an interface to be dialed)';
  return null;
}

export interface ManualPeersOptions {
  /** Where `manual-peers.json` lives; created if needed. */
  dataDirectory: string;
  /** Most peers kept; default 64. */
  maxPeers?: number;
  logger?: Logger;
  clock?: Clock;
}

interface StoredPeer {
  address: string;
  addedAt: number;
}

/** Manually added peers, persisted; reported as `peer` events with `laptopId: null`. */
export class ManualPeers implements Discovery {
  readonly file: string;
  private readonly maxPeers: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly listeners: DiscoveryListeners;
  /** By key, in the order added. Null until loaded. */
  private stored: Map<string, StoredPeer> | null = null;
  private started = false;
  /** Loads, writes, start and stop run one after the other on this chain. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: ManualPeersOptions) {
    this.file = join(options.dataDirectory, MANUAL_PEERS_FILE);
    this.maxPeers = options.maxPeers ?? 64;
    this.logger = options.logger ?? consoleLogger;
    this.clock = options.clock ?? systemClock;
    this.listeners = new DiscoveryListeners(this.logger);
  }

  /** Loads the list (once) and reports every peer in it. */
  start(): Promise<void> {
    return this.serialize(async () => {
      if (this.started) return;
      const stored = await this.load();
      this.started = true;
      for (const peer of stored.values()) this.listeners.emit('peer', this.toPeer(peer));
    });
  }

  /** Stops reporting; the list stays on disk. */
  stop(): Promise<void> {
    return this.serialize(async () => {
      this.started = false;
    });
  }

  /** Manual peers are not filtered by class: the transport's handshake tells which classes match. */
  setClassTags(_classTags: Iterable<string>): void {}

  peers(): DiscoveredPeer[] {
    if (!this.started || !this.stored) return [];
    return [...this.stored.values()].map((peer) => this.toPeer(peer));
  }

  on<E extends keyof DiscoveryEvents>(event: E, listener: DiscoveryEvents[E]): () => void {
    return this.listeners.on(event, listener);
  }

  /** The stored addresses (normalized `host:port`), whether started or not. */
  list(): Promise<string[]> {
    return this.serialize(async () => [...(await this.load()).keys()]);
  }

  /**
   * Adds `host:port`, persists the list, and reports the peer if started. Adding a known address
   * changes nothing. Throws InvalidPeerAddressError for bad input, RangeError when the list is
   * full, ManualPeersFileError when the list cannot be saved (then nothing is added).
   */
  add(input: string): Promise<DiscoveredPeer> {
    return this.serialize(async () => {
      const address = parsePeerAddress(input);
      const stored = await this.load();
      const known = stored.get(address.key);
      if (known) return this.toPeer(known);
      if (stored.size >= this.maxPeers) throw new RangeError(`at most ${this.maxPeers} manual peers`);
      const peer: StoredPeer = { address: address.key, addedAt: this.clock.now() };
      await this.save(new Map([...stored, [address.key, peer]]));
      stored.set(address.key, peer);
      const reported = this.toPeer(peer);
      if (this.started) this.listeners.emit('peer', reported);
      return reported;
    });
  }

  /** Removes `host:port` (any spelling that normalizes the same); true if it was there. */
  remove(input: string): Promise<boolean> {
    return this.serialize(async () => {
      const address = parsePeerAddress(input);
      const stored = await this.load();
      if (!stored.has(address.key)) return false;
      const next = new Map(stored);
      next.delete(address.key);
      await this.save(next);
      stored.delete(address.key);
      if (this.started) this.listeners.emit('peerLost', { key: address.key, laptopId: null, reason: 'removed' });
      return true;
    });
  }

  private serialize<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.catch(() => {}).then(step);
    this.queue = next;
    return next;
  }

  private toPeer(peer: StoredPeer): DiscoveredPeer {
    const { host, port } = parsePeerAddress(peer.address);
    return { key: peer.address, laptopId: null, addresses: [host], port, classTags: [], lastSeen: peer.addedAt };
  }

  /** The list from disk, read once. A damaged file is set aside (never silently overwritten) and the list starts empty. */
  private async load(): Promise<Map<string, StoredPeer>> {
    if (this.stored) return this.stored;
    const stored = new Map<string, StoredPeer>();
    let text: string | null = null;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error('cannot read manual peers', { file: this.file, error: (error as Error).message });
      }
    }
    if (text !== null) {
      const entries = decodeFile(text);
      if (entries === null) {
        const aside = `${this.file}.corrupt-${this.clock.now()}`;
        this.logger.warn('manual peers file is damaged; set aside, starting empty', { file: this.file, movedTo: aside });
        await rename(this.file, aside).catch(() => {});
      } else {
        for (const entry of entries) {
          try {
            const { key } = parsePeerAddress(entry.address);
            if (!stored.has(key) && stored.size < this.maxPeers) stored.set(key, { address: key, addedAt: entry.addedAt });
          } catch (error) {
            this.logger.warn('ignored a bad manual peer', { error: (error as Error).message });
          }
        }
      }
    }
    this.stored = stored;
    return stored;
  }

  /** Writes the list atomically: a crash leaves the old file or the new one, never half of one. */
  private async save(peers: Map<string, StoredPeer>): Promise<void> {
    const body = JSON.stringify({ version: FILE_VERSION, peers: [...peers.values()] }, null, 2) + '\n';
    const temporary = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(temporary, body, { mode: 0o600, flush: true });
      await rename(temporary, this.file);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => {});
      throw new ManualPeersFileError(this.file, (error as Error).message);
    }
  }
}

/** The entries of a manual peers file, or null when it is not one. Entries are validated one by one by the caller. */
function decodeFile(text: string): { address: string; addedAt: number }[] | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const { version, peers } = data as { version?: unknown; peers?: unknown };
  if (version !== FILE_VERSION || !Array.isArray(peers)) return null;
  return peers.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { address, addedAt } = entry as { address?: unknown; addedAt?: unknown };
    if (typeof address !== 'string') return [];
    return [{ address, addedAt: typeof addedAt === 'number' && Number.isFinite(addedAt) ? addedAt : 0 }];
  });
}
