// The event stream's fan-out: every event of the service goes, serialized once, to every open
// WebSocket. A client that does not keep up is dropped rather than buffered for without bound:
// its UI reconnects and re-reads the status, which a slow laptop can afford better than the node
// can afford unbounded memory.
import WebSocket from 'ws';
import type { ApiEventMessage } from '../../shared/http';
import { apiEventNames } from '../../shared/http';
import type { PeerService } from '../peer/service';
import type { Logger } from '../peer/transport/types';

export interface EventStreamOptions {
  service: PeerService;
  logger: Logger;
  /** Bytes a client may have waiting to be sent; a client with more is dropped at the next event. */
  maxBufferedBytes: number;
  /** Interval between pings; a client that has not answered the previous ping is dropped. */
  heartbeatMs: number;
}

export interface EventStreamStats {
  /** Clients connected now. */
  clients: number;
  /** Clients dropped since start because they fell behind. */
  droppedSlowClients: number;
  /** Events sent to the clients since start (one count per event, not per client). */
  eventsSent: number;
}

interface Client {
  socket: WebSocket;
  address: string;
  answeredPing: boolean;
}

/** Close code for a server going away (RFC 6455). */
const GOING_AWAY = 1001;
/** How long closing clients get to answer the close frame before their sockets are cut. */
const CLOSE_GRACE_MS = 1000;

export class EventStream {
  private readonly clients = new Set<Client>();
  private readonly unsubscribes: (() => void)[] = [];
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private droppedSlowClients = 0;
  private eventsSent = 0;
  private closed = false;

  constructor(private readonly options: EventStreamOptions) {
    this.heartbeat = setInterval(() => this.checkHeartbeats(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  stats(): EventStreamStats {
    return { clients: this.clients.size, droppedSlowClients: this.droppedSlowClients, eventsSent: this.eventsSent };
  }

  /** Takes an upgraded socket; the caller has authenticated it. */
  add(socket: WebSocket, address: string): void {
    if (this.closed) {
      socket.terminate();
      return;
    }
    const client: Client = { socket, address, answeredPing: true };
    this.clients.add(client);
    this.listen();
    socket.on('pong', () => {
      client.answeredPing = true;
    });
    // Clients have nothing to say on this stream; what they send is ignored (and bounded by maxPayload).
    socket.on('message', () => {});
    socket.on('error', (error) => this.options.logger.debug('event client failed', { address, error: error.message }));
    socket.on('close', () => {
      this.clients.delete(client);
      if (this.clients.size === 0) this.stopListening();
      this.options.logger.debug('event client left', { address, clients: this.clients.size });
    });
    this.options.logger.debug('event client joined', { address, clients: this.clients.size });
  }

  /**
   * Listen to the service only while someone is connected: building an event costs the node
   * (a status, for one, is built for every class several times a second while a class is busy).
   */
  private listen(): void {
    if (this.unsubscribes.length > 0) return;
    for (const event of apiEventNames) {
      this.unsubscribes.push(this.options.service.on(event, (payload) => this.broadcast({ event, payload } as ApiEventMessage)));
    }
  }

  private stopListening(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  /** Stops listening to the service and closes every client. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.stopListening();
    const sockets = [...this.clients].map((client) => client.socket).filter((socket) => socket.readyState !== WebSocket.CLOSED);
    const allClosed = Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()))));
    for (const socket of sockets) socket.close(GOING_AWAY, 'the node is stopping');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)));
    await Promise.race([allClosed, grace]);
    clearTimeout(timer);
    for (const socket of sockets) socket.terminate();
    this.clients.clear();
  }

  private broadcast(message: ApiEventMessage): void {
    if (this.closed) return;
    let data: string;
    try {
      data = JSON.stringify(message);
    } catch (error) {
      this.options.logger.error('an event could not be serialized', { event: message.event, error });
      return;
    }
    this.eventsSent++;
    for (const client of this.clients) {
      const { socket } = client;
      if (socket.readyState !== WebSocket.OPEN) continue;
      // The backlog before this event decides, so one large event never drops a client that keeps up.
      if (socket.bufferedAmount > this.options.maxBufferedBytes) {
        this.dropSlowClient(client);
        continue;
      }
      socket.send(data);
    }
  }

  private dropSlowClient(client: Client): void {
    this.droppedSlowClients++;
    this.clients.delete(client);
    this.options.logger.warn('dropped an event client that fell behind', {
      address: client.address,
      bufferedBytes: client.socket.bufferedAmount,
    });
    // A close frame would wait behind the backlog; cutting the socket frees it now.
    client.socket.terminate();
  }

  private checkHeartbeats(): void {
    for (const client of this.clients) {
      if (!client.answeredPing) {
        this.options.logger.debug('event client stopped answering pings', { address: client.address });
        this.clients.delete(client);
        client.socket.terminate();
        continue;
      }
      client.answeredPing = false;
      client.socket.ping();
    }
  }
}
