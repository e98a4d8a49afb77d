// Where the class's other laptops are: found by mDNS, typed in by hand where multicast is
// blocked (kept in the data directory, so they are found again after a restart), or learned from
// connected laptops by peer exchange. Addresses are hints: the transport's handshake decides
// who is really there.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClassRuntime } from './class-runtime';
import type { DiscoveredPeer } from './discovery';
import { decodePeerExchangeReply, decodePeerExchangeRequest, encodePeerExchangeReply, encodePeerExchangeRequest } from './peer-exchange';
import { ServiceError } from './service';
import type { Logger, WebSocketTransport } from './transport';

const MANUAL_PEERS_FILE = 'laptop-addresses.json';

/** A laptop and where to reach it. */
export interface LaptopAddress {
  laptopId: string;
  host: string;
  port: number;
}

export interface LaptopAddressBookOptions {
  dataDir: string;
  transport: WebSocketTransport;
  logger: Logger;
  /** The host others can dial this laptop at (IPv6 in brackets). */
  ownHost: () => string;
}

export class LaptopAddressBook {
  /** "host:port" by laptop id: the last address each laptop was found or dialed at. */
  private readonly addresses = new Map<string, string>();

  constructor(private readonly options: LaptopAddressBookOptions) {}

  addressOf(laptopId: string): string | null {
    return this.addresses.get(laptopId) ?? null;
  }

  /** Discovery announced a laptop. */
  found(peer: DiscoveredPeer): void {
    const host = peer.addresses[0];
    if (!peer.laptopId || !host) return;
    this.addresses.set(peer.laptopId, `${host}:${peer.port}`);
    this.options.transport.addPeer(peer.laptopId, { host, port: peer.port });
  }

  /** Dial the laptops typed in by hand before a restart. */
  dialSaved(): void {
    for (const address of this.saved()) this.dial(address);
  }

  /** The manual fallback: "LAPTOPID@host:port", dialed now and kept for the next start. */
  add(address: string): { ok: true } {
    const parsed = parseLaptopAddress(address);
    if (!parsed) {
      throw new ServiceError('BAD_ADDRESS', 'A laptop address looks like LAPTOPID@192.168.1.20:4242 (shown on that laptop).');
    }
    this.dial(parsed);
    const saved = this.saved().filter((a) => a.laptopId !== parsed.laptopId);
    const file = join(this.options.dataDir, MANUAL_PEERS_FILE);
    writeFileSync(`${file}.tmp`, JSON.stringify([...saved, parsed], null, 2), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    return { ok: true };
  }

  /** Tell connected laptops (or just `onlyWith`) of each class where we are, and learn where the class's others are. */
  async exchange(classes: Iterable<ClassRuntime>, onlyWith?: string): Promise<void> {
    const { transport } = this.options;
    const own = formatLaptopAddress({ laptopId: transport.laptopId, host: this.options.ownHost().replace(/^\[|\]$/g, ''), port: transport.port });
    for (const runtime of [...classes]) {
      for (const laptopId of transport.connectedPeers(runtime.classId)) {
        if (onlyWith !== undefined && laptopId !== onlyWith) continue;
        try {
          const reply = await transport.request(laptopId, runtime.classId, encodePeerExchangeRequest(own), 2000);
          for (const text of decodePeerExchangeReply(reply)) {
            const address = parseLaptopAddress(text);
            if (address && address.laptopId !== transport.laptopId && !this.addresses.has(address.laptopId)) this.dial(address);
          }
        } catch {
          // It went away or is busy; the next round asks again.
        }
      }
    }
  }

  /** Answer with the addresses we know of this class's members; note the asker's own. */
  answerExchange(runtime: ClassRuntime, from: string, payload: Uint8Array): Uint8Array {
    const asker = parseLaptopAddress(decodePeerExchangeRequest(payload));
    // A laptop may tell us only its own address: `from` is who the transport authenticated.
    if (asker && asker.laptopId === from && !this.addresses.has(asker.laptopId)) this.dial(asker);
    const { voters, learners } = runtime.group.status().config;
    const members = new Set([...voters, ...learners, ...this.options.transport.connectedPeers(runtime.classId)]);
    const known = [...this.addresses.entries()].filter(([id]) => members.has(id)).map(([id, hostPort]) => `${id}@${hostPort}`);
    return encodePeerExchangeReply(known);
  }

  private dial({ laptopId, host, port }: LaptopAddress): void {
    this.addresses.set(laptopId, `${host.includes(':') ? `[${host}]` : host}:${port}`);
    this.options.transport.addPeer(laptopId, { host, port });
  }

  private saved(): LaptopAddress[] {
    const file = join(this.options.dataDir, MANUAL_PEERS_FILE);
    if (!existsSync(file)) return [];
    try {
      const list = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
      return list.flatMap((a) => {
        const parsed = typeof a === 'object' && a !== null ? parseLaptopAddress(formatLaptopAddress(a as LaptopAddress)) : null;
        return parsed ? [parsed] : [];
      });
    } catch (error) {
      this.options.logger.warn('the saved laptop addresses could not be read; ignoring them', { file, error: String(error) });
      return [];
    }
  }
}

export function formatLaptopAddress(a: LaptopAddress): string {
  return `${a.laptopId}@${String(a.host).includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** "LAPTOPID@host:port" (IPv6 in brackets), or null. */
export function parseLaptopAddress(text: unknown): LaptopAddress | null {
  const match = typeof text === 'string' ? /^([A-Za-z0-9]{8,64})@([^\s@:[\]]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(text.trim()) : null;
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return null;
  return { laptopId: match[1]!, host: match[2]!.replace(/^\[|\]$/g, ''), port };
}
