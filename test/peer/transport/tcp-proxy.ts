// A TCP relay on 127.0.0.1 between a transport and its peer, so a test can make the network
// misbehave underneath the WebSocket: stop reading (a slow peer) or go silent (a dead one).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { LOOPBACK } from './harness';

export class TcpProxy {
  private readonly server: Server;
  private readonly pairs: { client: Socket; upstream: Socket }[] = [];
  private blackholed = false;

  private constructor(targetPort: number) {
    this.server = createServer((client) => {
      const upstream = connect(targetPort, LOOPBACK);
      this.pairs.push({ client, upstream });
      client.on('data', (data) => this.blackholed || upstream.write(data));
      upstream.on('data', (data) => this.blackholed || client.write(data));
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }

  /** Starts relaying connections made to `port` to `targetPort`. */
  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, LOOPBACK, resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get connections(): number {
    return this.pairs.length;
  }

  /** Stops reading what the dialing side sends: its kernel buffers fill, then its WebSocket's. */
  pauseClientReads(): void {
    for (const { client } of this.pairs) client.pause();
  }

  resumeClientReads(): void {
    for (const { client } of this.pairs) client.resume();
  }

  /** Swallows everything in both directions, as a peer that vanished without closing would. */
  blackhole(): void {
    this.blackholed = true;
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
