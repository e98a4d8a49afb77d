// One bonjour-service instance and what runs on it: our published service and the browsers.
// MdnsDiscovery replaces the whole session when our address or classes change.
import { EventEmitter } from 'node:events';
import { Bonjour, type Browser, type Service, type ServiceConfig } from 'bonjour-service';
import type { NetworkBinding } from './network';
import type { Logger } from './types';

/** The running multicast-DNS side. */
export interface MdnsSession {
  bonjour: Bonjour;
  binding: NetworkBinding;
  /** Our announcement; null while we serve no class. */
  service: Service | null;
  /** The current browser last; at most two. */
  browsers: Browser[];
  /** The TXT record `service` announces, to tell whether a class change needs a new session. */
  announcedTxt: string | null;
}

/** Options of multicast-dns that bonjour-service passes through (its own typings omit them). */
interface MulticastDnsOptions {
  interface?: string;
  bind?: string;
}

/** How long closing waits for the goodbye to be sent. */
const GOODBYE_TIMEOUT_MS = 1_000;

/** A bonjour-service instance on `binding`, with its socket errors logged; null if it cannot be made. */
export function openBonjour(binding: NetworkBinding, bindAddress: string, logger: Logger): Bonjour | null {
  const options: MulticastDnsOptions = binding.interfaceAddress === null ? {} : { interface: binding.interfaceAddress, bind: bindAddress };
  let bonjour: Bonjour;
  try {
    // bonjour-service hands its options to multicast-dns, whose `interface` and `bind` its typings lack.
    bonjour = new Bonjour(options as Partial<ServiceConfig>, (error: unknown) => logger.warn('mDNS send failed', { error: messageOf(error) }));
  } catch (error) {
    logger.error('cannot open mDNS socket', { error: messageOf(error) });
    return null;
  }
  const socket = underlyingMulticastDns(bonjour);
  // multicast-dns emits 'error' (a failed bind) and bonjour-service does not listen: unhandled, it would crash the process.
  socket?.on('error', (error: unknown) => logger.error('mDNS socket error', { error: messageOf(error) }));
  socket?.on('warning', (error: unknown) => logger.debug('mDNS packet ignored', { error: messageOf(error) }));
  if (!socket) logger.warn('cannot watch mDNS socket errors (bonjour-service internals changed?)', {});
  logger.info('mDNS bound', { interface: binding.interfaceAddress ?? 'all', bind: options.bind ?? 'default' });
  return bonjour;
}

/** Stops browsing and closes the socket, after a goodbye if asked. Never rejects. */
export async function closeSession(session: MdnsSession, { goodbye }: { goodbye: boolean }): Promise<void> {
  for (const browser of session.browsers.splice(0)) retireBrowser(browser);
  if (goodbye && session.service) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, GOODBYE_TIMEOUT_MS);
      session.bonjour.unpublishAll(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  await new Promise<void>((resolve) => {
    try {
      session.bonjour.destroy(() => resolve());
    } catch {
      resolve(); // the socket may never have been bound
    }
  });
}

export function retireBrowser(browser: Browser): void {
  browser.stop();
  browser.removeAllListeners();
}

/** The multicast-dns instance inside bonjour-service (not part of its typed API), to listen for its errors. */
function underlyingMulticastDns(bonjour: Bonjour): EventEmitter | null {
  const server = (bonjour as unknown as { server?: { mdns?: unknown } }).server;
  return server?.mdns instanceof EventEmitter ? server.mdns : null;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
