// The laptops heard on the LAN and which of them to report. Pure: no I/O, time comes in as `now`,
// and every change returns the events to emit, so the rules can be tested as tables.
//
// Invariant: a laptop is reported (has `reported`) exactly when it shares at least one class tag
// with us, and `reported` is what the last `peer` event said about it.
import type { Announcement } from './announcement';
import type { DiscoveredPeer, LostPeer } from './types';

export type PeerTableEvent = { type: 'peer'; peer: DiscoveredPeer } | { type: 'peerLost'; lost: LostPeer };

/** Laptops remembered at most, sharing a class or not: bounds what forged announcements can cost. */
export const DEFAULT_MAX_KNOWN_LAPTOPS = 512;

interface Entry {
  announcement: Announcement;
  lastSeen: number;
  reported: DiscoveredPeer | null;
}

export class PeerTable {
  private readonly entries = new Map<string, Entry>();
  private ourTags = new Set<string>();

  constructor(
    private readonly selfLaptopId: string,
    private readonly maxKnownLaptops = DEFAULT_MAX_KNOWN_LAPTOPS,
  ) {}

  /** Records an announcement heard at `now`. 'full' when it is a new laptop and the table is at its limit. */
  observe(announcement: Announcement, now: number): PeerTableEvent[] | 'full' {
    if (announcement.laptopId === this.selfLaptopId) return [];
    let entry = this.entries.get(announcement.laptopId);
    if (!entry) {
      if (this.entries.size >= this.maxKnownLaptops) return 'full';
      entry = { announcement, lastSeen: now, reported: null };
      this.entries.set(announcement.laptopId, entry);
    }
    entry.announcement = announcement;
    entry.lastSeen = Math.max(entry.lastSeen, now);
    return this.reconcile(entry);
  }

  /** Replaces our class tags; reports laptops that now share one and drops those that no longer do. */
  setOurTags(tags: Iterable<string>): PeerTableEvent[] {
    this.ourTags = new Set(tags);
    return [...this.entries.values()].flatMap((entry) => this.reconcile(entry));
  }

  /** The laptop said goodbye. */
  remove(laptopId: string): PeerTableEvent[] {
    const entry = this.entries.get(laptopId);
    if (!entry) return [];
    this.entries.delete(laptopId);
    return entry.reported ? [lost(laptopId, 'goodbye')] : [];
  }

  /** Forgets laptops not heard of for more than `timeoutMs` before `now`. */
  expire(now: number, timeoutMs: number): PeerTableEvent[] {
    const events: PeerTableEvent[] = [];
    for (const [laptopId, entry] of this.entries) {
      if (now - entry.lastSeen <= timeoutMs) continue;
      this.entries.delete(laptopId);
      if (entry.reported) events.push(lost(laptopId, 'timeout'));
    }
    return events;
  }

  /** Copies of the reported peers, with their latest `lastSeen`. */
  reported(): DiscoveredPeer[] {
    return [...this.entries.values()]
      .filter((entry) => entry.reported)
      .map((entry) => ({ ...entry.reported!, addresses: [...entry.reported!.addresses], classTags: [...entry.reported!.classTags], lastSeen: entry.lastSeen }));
  }

  /** Forgets everything without events (discovery stopped). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private reconcile(entry: Entry): PeerTableEvent[] {
    const { laptopId, port, addresses } = entry.announcement;
    const shared = entry.announcement.classTags.filter((tag) => this.ourTags.has(tag));
    if (shared.length === 0) {
      if (!entry.reported) return [];
      entry.reported = null;
      return [lost(laptopId, 'noSharedClass')];
    }
    const previous = entry.reported;
    if (previous && previous.port === port && sameList(previous.addresses, addresses) && sameList(previous.classTags, shared)) return [];
    entry.reported = { key: laptopId, laptopId, addresses: [...addresses], port, classTags: shared, lastSeen: entry.lastSeen };
    return [{ type: 'peer', peer: { ...entry.reported, addresses: [...addresses], classTags: [...shared] } }];
  }
}

function lost(laptopId: string, reason: LostPeer['reason']): PeerTableEvent {
  return { type: 'peerLost', lost: { key: laptopId, laptopId, reason } };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
