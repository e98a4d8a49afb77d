// Discovery over multicast DNS (bonjour-service): announce `_quorum._tcp` with our laptop id and
// class tags, browse for the others, report those that share a class.
//
// Liveness. bonjour-service reports a service once and then only its goodbye; it never notices a
// laptop that vanished without one (crash, lid closed, out of Wi-Fi range), and it does not report
// a changed address for an unchanged SRV record. So every query interval we open a fresh browser:
// its query makes every laptop answer, each answer is a new sighting (`up`) that refreshes
// `lastSeen` and carries the current addresses, and laptops not heard of within the timeout are
// lost. The previous browser is kept one more interval so that a goodbye is never missed between
// the two. Cost: every query draws one answer from each laptop, so with N laptops there are
// N² answers per interval — hence a default interval of 15 s (≈60 small packets/s for 30 laptops).
//
// Changes of our own network or classes rebuild the bonjour instance without a goodbye: peers then
// see the same laptop with new addresses or tags (an update), never a departure and a return.
import type { Service } from 'bonjour-service';
import { systemClock } from '../transport/types';
import {
  encodeAnnouncementTxt,
  isLaptopId,
  MAX_CLASS_TAGS,
  parseAnnouncement,
  SERVICE_TYPE,
  type ReceivedService,
} from './announcement';
import { isClassTag } from './class-tag';
import { DiscoveryListeners } from './listeners';
import { closeSession, messageOf, openBonjour, retireBrowser, type MdnsSession } from './mdns-session';
import { InterfaceSelector, type ListInterfaces, type NetworkBinding } from './network';
import { DEFAULT_MAX_KNOWN_LAPTOPS, PeerTable, type PeerTableEvent } from './peer-table';
import { consoleLogger, type Clock, type DiscoveredPeer, type Discovery, type DiscoveryEvents, type Logger } from './types';

export interface MdnsDiscoveryOptions {
  /** This laptop's id (the transport's); announced, and used to ignore our own announcements. */
  laptopId: string;
  /** The transport's port, announced in the SRV record. */
  port: number;
  /** Class tags served from the start (see `classTag`). */
  classTags?: Iterable<string>;
  /**
   * The network interface to run mDNS on: an interface name, or an IPv4 address (the interface
   * holding it is then followed by name). Passed to multicast-dns as `interface`: the multicast
   * group is joined and announcements are sent there only. Default: every interface.
   */
  interface?: string;
  /**
   * Local address of the UDP socket (port 5353). Default 0.0.0.0: on Linux and macOS a socket
   * bound to a unicast address never receives multicast. With `interface` set, packets whose
   * source is not on that interface's subnet are ignored, so binding wide does not widen discovery.
   */
  bindAddress?: string;
  /** How often to ask who is there; default 15 s, jittered by ±20 %. */
  queryIntervalMs?: number;
  /** A laptop not heard of for this long is lost; default 50 s; at least 2.4 query intervals. */
  peerTimeoutMs?: number;
  /** How often to look for address changes of our interface; default 5 s. */
  networkCheckIntervalMs?: number;
  /** Laptops remembered at most; default 512. */
  maxKnownLaptops?: number;
  logger?: Logger;
  clock?: Clock;
  /** Uniform in [0, 1), for jitter. */
  random?: () => number;
  /** Lists the local interfaces; default `os.networkInterfaces`. */
  listInterfaces?: ListInterfaces;
}

/** A malformed announcement is logged once per sender and reason in this window. */
const MALFORMED_LOG_WINDOW_MS = 60_000;
const MALFORMED_LOG_KEYS = 256;

export class MdnsDiscovery implements Discovery {
  readonly laptopId: string;
  private readonly port: number;
  private readonly queryIntervalMs: number;
  private readonly peerTimeoutMs: number;
  private readonly networkCheckIntervalMs: number;
  private readonly bindAddress: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly selector: InterfaceSelector;
  private readonly table: PeerTable;
  private readonly listeners: DiscoveryListeners;
  private classTags: string[] = [];
  private phase: 'stopped' | 'started' = 'stopped';
  /** start() and stop() run one after the other on this chain. */
  private transition: Promise<void> = Promise.resolve();
  private session: MdnsSession | null = null;
  private queryTimer: unknown = null;
  private networkTimer: unknown = null;
  private waitingForNetworkLogged = false;
  private readonly malformedLogged = new Map<string, number>();

  constructor(options: MdnsDiscoveryOptions) {
    if (!isLaptopId(options.laptopId)) throw new RangeError(`not a laptop id: ${JSON.stringify(options.laptopId)}`);
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) throw new RangeError(`bad port ${options.port}`);
    this.laptopId = options.laptopId;
    this.port = options.port;
    this.queryIntervalMs = positive(options.queryIntervalMs ?? 15_000, 'queryIntervalMs');
    this.peerTimeoutMs = positive(options.peerTimeoutMs ?? 50_000, 'peerTimeoutMs');
    // The sweep runs just before the answers to its own query arrive, so a peer answering every
    // query can be one (jittered, up to 1.2×) interval old; the timeout must also forgive one lost answer.
    if (this.peerTimeoutMs < this.queryIntervalMs * 2.4) throw new RangeError('peerTimeoutMs must be at least 2.4 query intervals');
    this.networkCheckIntervalMs = positive(options.networkCheckIntervalMs ?? 5_000, 'networkCheckIntervalMs');
    this.bindAddress = options.bindAddress ?? '0.0.0.0';
    this.logger = options.logger ?? consoleLogger;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.selector = new InterfaceSelector(options.interface, options.listInterfaces);
    this.table = new PeerTable(this.laptopId, options.maxKnownLaptops ?? DEFAULT_MAX_KNOWN_LAPTOPS);
    this.listeners = new DiscoveryListeners(this.logger);
    this.classTags = checkClassTags(options.classTags ?? []);
    this.table.setOurTags(this.classTags);
  }

  start(): Promise<void> {
    return this.chain(() => {
      if (this.phase === 'started') return;
      this.phase = 'started';
      this.logger.info('discovery started', { laptopId: this.laptopId, port: this.port, classes: this.classTags.length });
      this.checkNetwork();
      this.scheduleNetworkCheck();
      this.scheduleQuery();
    });
  }

  stop(): Promise<void> {
    return this.chain(async () => {
      if (this.phase === 'stopped') return;
      this.phase = 'stopped';
      this.clock.clearTimeout(this.queryTimer);
      this.clock.clearTimeout(this.networkTimer);
      this.queryTimer = this.networkTimer = null;
      const session = this.session;
      this.session = null;
      if (session) await closeSession(session, { goodbye: true });
      this.table.clear();
      this.logger.info('discovery stopped', { laptopId: this.laptopId });
    });
  }

  setClassTags(classTags: Iterable<string>): void {
    const next = checkClassTags(classTags);
    if (sameSet(next, this.classTags)) return;
    this.classTags = next;
    this.emitAll(this.table.setOurTags(next));
    if (this.phase === 'started') this.reannounce();
  }

  peers(): DiscoveredPeer[] {
    return this.table.reported();
  }

  on<E extends keyof DiscoveryEvents>(event: E, listener: DiscoveryEvents[E]): () => void {
    return this.listeners.on(event, listener);
  }

  private chain(step: () => Promise<void> | void): Promise<void> {
    // A failed start must not wedge later calls, so the chain continues past a rejection.
    const next = this.transition.catch(() => {}).then(step);
    this.transition = next;
    return next;
  }

  /** Rebuilds the session when our interface appeared, vanished or changed address. */
  private checkNetwork(): void {
    let binding: NetworkBinding | null;
    try {
      binding = this.selector.current();
    } catch (error) {
      this.logger.error('cannot list network interfaces', { error: messageOf(error) });
      return;
    }
    if (binding?.fingerprint === this.session?.binding.fingerprint) return;
    if (this.session) {
      this.logger.info('network changed, re-announcing', { from: this.session.binding.fingerprint, to: binding?.fingerprint ?? 'none' });
      // No goodbye: the laptop is not leaving, and the old address may not even be usable.
      void closeSession(this.session, { goodbye: false });
      this.session = null;
    }
    if (!binding) {
      if (!this.waitingForNetworkLogged) this.logger.warn('waiting for the network interface', {});
      this.waitingForNetworkLogged = true;
      return;
    }
    this.waitingForNetworkLogged = false;
    this.session = this.openSession(binding);
  }

  private openSession(binding: NetworkBinding): MdnsSession | null {
    const bonjour = openBonjour(binding, this.bindAddress, this.logger);
    if (!bonjour) return null;
    const session: MdnsSession = { bonjour, binding, service: null, browsers: [], announcedTxt: null };
    this.publish(session);
    this.browse(session);
    return session;
  }

  private publish(session: MdnsSession): void {
    if (this.classTags.length === 0) return; // nothing to offer: stay silent
    const txt = encodeAnnouncementTxt(this.laptopId, this.classTags);
    const service = session.bonjour.publish({
      name: this.laptopId,
      type: SERVICE_TYPE,
      protocol: 'tcp',
      port: this.port,
      // Unique per laptop (the OS hostname is not: classrooms are full of "student-pc").
      host: `${this.laptopId}.local`,
      txt,
      // The instance name is our laptop id, unique by construction; probing would only delay the first announcement.
      probe: false,
      // The transport is reached over IPv4 on the LAN; fewer records, fewer addresses leaked.
      disableIPv6: true,
    });
    service.on('error', (error: unknown) => this.logger.warn('announcement failed', { error: messageOf(error) }));
    session.service = service;
    session.announcedTxt = JSON.stringify(txt);
  }

  /** Announces a change of our classes: a goodbye when there are none left, else a fresh announcement. */
  private reannounce(): void {
    const session = this.session;
    if (!session) return; // the next session announces the new classes
    if (this.classTags.length === 0) {
      session.bonjour.unpublishAll();
      session.service = null;
      session.announcedTxt = null;
      return;
    }
    if (!session.service) {
      this.publish(session);
      return;
    }
    if (session.announcedTxt === JSON.stringify(encodeAnnouncementTxt(this.laptopId, this.classTags))) return;
    // bonjour-service cannot change a published TXT record without a goodbye, which peers would
    // take for a departure; a new instance announces the new record as an update instead.
    void closeSession(session, { goodbye: false });
    this.session = this.openSession(session.binding);
  }

  /** Opens a fresh browser (its query makes every laptop answer) and retires the one before the last. */
  private browse(session: MdnsSession): void {
    const browser = session.bonjour.find({ type: SERVICE_TYPE, protocol: 'tcp' });
    browser.on('up', (service) => this.onService(session, service));
    browser.on('txt-update', (service) => this.onService(session, service));
    browser.on('srv-update', (service) => this.onService(session, service));
    browser.on('down', (service) => this.onGoodbye(session, service));
    session.browsers.push(browser);
    while (session.browsers.length > 2) retireBrowser(session.browsers.shift()!);
  }

  private onService(session: MdnsSession, service: Service): void {
    if (session !== this.session) return;
    const parsed = parseAnnouncement(service as ReceivedService);
    if (!parsed.ok) {
      this.logMalformed(service, parsed.reason);
      return;
    }
    const announcement = parsed.announcement;
    if (announcement.laptopId === this.laptopId) return;
    const addresses = announcement.addresses.filter((address) => session.binding.isOnLink(address));
    if (addresses.length === 0) {
      this.logger.debug('announcement from off our link ignored', { laptopId: announcement.laptopId, addresses: announcement.addresses });
      return;
    }
    const events = this.table.observe({ ...announcement, addresses }, this.clock.now());
    if (events === 'full') {
      this.logMalformed(service, 'too many laptops known; new ones ignored');
      return;
    }
    this.emitAll(events);
  }

  private onGoodbye(session: MdnsSession, service: Service): void {
    if (session !== this.session) return;
    if (!isLaptopId(service.name)) return; // never reported, so nothing to lose
    this.emitAll(this.table.remove(service.name));
  }

  private scheduleQuery(): void {
    const jitter = 0.8 + 0.4 * this.random();
    this.queryTimer = this.clock.setTimeout(() => {
      if (this.phase !== 'started') return;
      if (this.session) this.browse(this.session);
      this.emitAll(this.table.expire(this.clock.now(), this.peerTimeoutMs));
      this.scheduleQuery();
    }, Math.round(this.queryIntervalMs * jitter));
  }

  private scheduleNetworkCheck(): void {
    this.networkTimer = this.clock.setTimeout(() => {
      if (this.phase !== 'started') return;
      this.checkNetwork();
      this.scheduleNetworkCheck();
    }, this.networkCheckIntervalMs);
  }

  private emitAll(events: PeerTableEvent[]): void {
    for (const event of events) {
      if (event.type === 'peer') {
        this.logger.debug('peer', { laptopId: event.peer.laptopId, addresses: event.peer.addresses, port: event.peer.port });
        this.listeners.emit('peer', event.peer);
      } else {
        this.logger.debug('peer lost', { laptopId: event.lost.laptopId, reason: event.lost.reason });
        this.listeners.emit('peerLost', event.lost);
      }
    }
  }

  /** Logs a refused announcement, once per sender and reason per minute: a flood must not flood the log. */
  private logMalformed(service: Service, reason: string): void {
    const name = printable(service.name);
    const source = printable((service as ReceivedService & { referer?: { address?: unknown } }).referer?.address);
    const key = `${name}|${source}|${reason}`;
    const now = this.clock.now();
    const last = this.malformedLogged.get(key);
    if (last !== undefined && now - last < MALFORMED_LOG_WINDOW_MS) return;
    if (this.malformedLogged.size >= MALFORMED_LOG_KEYS) this.malformedLogged.clear();
    this.malformedLogged.set(key, now);
    this.logger.warn('ignored malformed announcement', { name, source, reason });
  }
}

function checkClassTags(classTags: Iterable<string>): string[] {
  const unique = [...new Set(classTags)];
  for (const tag of unique) if (!isClassTag(tag)) throw new RangeError(`not a class tag: ${JSON.stringify(tag)}`);
  if (unique.length > MAX_CLASS_TAGS) throw new RangeError(`at most ${MAX_CLASS_TAGS} classes can be announced, not ${unique.length}`);
  return unique;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of ms`);
  return value;
}

function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
