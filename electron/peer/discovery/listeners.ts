// The event plumbing both discoveries share: typed listeners, and a throwing listener is logged
// instead of unwinding into a socket callback.
import type { DiscoveryEvents, Logger } from './types';

export class DiscoveryListeners {
  private readonly listeners: { [E in keyof DiscoveryEvents]: Set<DiscoveryEvents[E]> } = { peer: new Set(), peerLost: new Set() };

  constructor(private readonly logger: Logger) {}

  on<E extends keyof DiscoveryEvents>(event: E, listener: DiscoveryEvents[E]): () => void {
    const set = this.listeners[event] as Set<DiscoveryEvents[E]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<E extends keyof DiscoveryEvents>(event: E, ...args: Parameters<DiscoveryEvents[E]>): void {
    for (const listener of [...this.listeners[event]]) {
      try {
        (listener as (...values: Parameters<DiscoveryEvents[E]>) => void)(...args);
      } catch (error) {
        this.logger.error(`${event} listener threw`, { error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}
