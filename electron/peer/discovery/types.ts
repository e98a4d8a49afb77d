// The discovery contract: how the peer learns where the other laptops of its classes are.
// Whatever discovery reports is a hint: an address to dial. Who is really there is decided by the
// transport's handshake, never by discovery (announcements on a LAN can be forged by anyone).
import type { Clock, Logger } from '../transport/types';

export type { Clock, Logger };

/** A laptop that shares at least one class with us, as last heard of. */
export interface DiscoveredPeer {
  /** Stable key of this entry, repeated in `peerLost`: the laptop id for mDNS, `host:port` for a manual peer. */
  key: string;
  /** The laptop id it announced, or null when only an address is known (manual peers: the transport learns the id). */
  laptopId: string | null;
  /** Where to dial, best first: validated IP addresses (mDNS) or the host name or IP the user typed (manual). */
  addresses: string[];
  /** The transport's port. */
  port: number;
  /** Its class tags that we share; empty when unknown (manual peers). */
  classTags: string[];
  /** When it was last heard of, in ms since the epoch. */
  lastSeen: number;
}

/** Why a peer is no longer reported. */
export type PeerLostReason =
  | 'goodbye' // it announced it is leaving
  | 'timeout' // it stopped answering
  | 'noSharedClass' // it or we changed classes and none is shared any more
  | 'removed'; // a manual peer the user removed

export interface LostPeer {
  /** The key of the `DiscoveredPeer` that is gone. */
  key: string;
  laptopId: string | null;
  reason: PeerLostReason;
}

/** The events of a `Discovery`, by name. */
export interface DiscoveryEvents {
  /** A peer was found, or a known peer's addresses, port or shared classes changed (same key: an update, not a new peer). */
  peer: (peer: DiscoveredPeer) => void;
  /** A peer reported by `peer` is gone; it is reported again by `peer` if it comes back. */
  peerLost: (lost: LostPeer) => void;
}

/** Finds the laptops that share a class with this one. */
export interface Discovery {
  /** Begins announcing and looking; calling it again is harmless. */
  start(): Promise<void>;
  /** Stops announcing (saying goodbye where the medium allows) and looking; calling it again is harmless. */
  stop(): Promise<void>;
  /** Replaces the class tags (see `classTag`) this laptop serves; announces the change if started. Throws RangeError for a malformed tag. */
  setClassTags(classTags: Iterable<string>): void;
  /** The peers reported now and not lost since; copies, safe to keep. */
  peers(): DiscoveredPeer[];
  /** Subscribes to an event; returns the unsubscribe function. A throwing listener is logged, never propagated. */
  on<E extends keyof DiscoveryEvents>(event: E, listener: DiscoveryEvents[E]): () => void;
}

/** Logs to the console with a `[discovery]` prefix; debug lines are dropped. */
export const consoleLogger: Logger = {
  debug: () => {},
  info: (message, fields) => console.info(`[discovery] ${message}`, fields ?? ''),
  warn: (message, fields) => console.warn(`[discovery] ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`[discovery] ${message}`, fields ?? ''),
};
