// How many times a host may fail to prove anything before it is turned away. A stranger on the
// school Wi-Fi trying join codes or class secrets one connection at a time makes this laptop do a
// key exchange and a signature check each time; after `max` failures within `windowMs` its next
// connections are closed before any of that, until its oldest failure leaves the window. Hosts
// that do prove a class are never counted. Pure: time comes from the caller.

export interface FailureLimitPolicy {
  /** Failed connections from one host allowed within the window. */
  max: number;
  windowMs: number;
}

export const DEFAULT_FAILURE_LIMIT: FailureLimitPolicy = { max: 60, windowMs: 60_000 };
/** Hosts remembered at once; beyond this the stalest are forgotten (a flood of spoofed sources can't grow it). */
const MAX_HOSTS = 4096;

export class FailureLimit {
  /** host → times of its recent failures, oldest first. Invariant: every list is non-empty. */
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly policy: FailureLimitPolicy) {}

  /** Note a connection from `host` that failed to prove a class, at `now`. */
  record(host: string, now: number): void {
    const times = this.recent(host, now) ?? [];
    times.push(now);
    this.failures.delete(host); // re-inserted last: the map's order is staleness
    this.failures.set(host, times.slice(-this.policy.max));
    if (this.failures.size > MAX_HOSTS) this.failures.delete(this.failures.keys().next().value!);
  }

  /** Whether `host` has used up its failures for now. */
  blocked(host: string, now: number): boolean {
    return (this.recent(host, now)?.length ?? 0) >= this.policy.max;
  }

  private recent(host: string, now: number): number[] | undefined {
    const times = this.failures.get(host)?.filter((at) => now - at < this.policy.windowMs);
    if (!times || times.length === 0) {
      this.failures.delete(host);
      return undefined;
    }
    this.failures.set(host, times);
    return times;
  }
}
