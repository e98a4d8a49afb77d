// Shared by the headless tests: a server on 127.0.0.1 in front of a fake peer, a recording logger,
// and raw HTTP requests (fetch would tidy the paths the traversal tests need to send as they are).
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';
import { HttpApiClient } from '../../shared/http';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../electron/headless/api-server';
import type { Logger } from '../../electron/peer/transport/types';
import { FakePeerService } from './fake-service';

export const TOKEN = 'test-token-0123456789abcdefghijklmnopqrstuvwx';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown> | undefined;
}

export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const record = (level: LogEntry['level']) => (message: string, fields?: Record<string, unknown>) => {
    entries.push({ level, message, fields });
  };
  return { entries, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

export interface TestServer {
  server: ApiServer;
  service: FakePeerService;
  client: HttpApiClient;
  logger: ReturnType<typeof recordingLogger>;
  close(): Promise<void>;
}

export async function startTestServer(options: Partial<ApiServerOptions> = {}): Promise<TestServer> {
  const service = new FakePeerService();
  const logger = recordingLogger();
  const server = await startApiServer({ service, token: TOKEN, logger, host: '127.0.0.1', port: 0, ...options });
  const client = new HttpApiClient({ baseUrl: server.url, token: TOKEN, WebSocket, reconnectDelayMs: 20 });
  return {
    server,
    service,
    client,
    logger,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Sends exactly this request (the path is not normalized) and reads the whole answer. */
export function rawRequest(url: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const headers = { ...request.headers };
  // Node frames a GET or DELETE body only when told its length.
  if (request.body !== undefined && !('content-length' in headers) && !('transfer-encoding' in headers)) {
    headers['content-length'] = String(Buffer.byteLength(request.body));
  }
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { hostname, port, method: request.method ?? 'GET', path: request.path, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

export function authorized(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...extra };
}

/** Resolves when `condition` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Opens a WebSocket and resolves with it once open, or rejects with the HTTP status of the refusal. */
export function openSocket(url: string, protocols?: string[], headers?: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`HTTP ${response.statusCode}`));
      socket.terminate();
    });
    socket.once('error', reject);
  });
}
