// The headless node's API over HTTP (the mapping is in shared/http.ts): any PeerService, served to
// a browser or a script. Everything that arrives is untrusted until the token is checked, and
// every answer under /api/ is an ApiResponse, errors included, so a client never has to guess.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ApiError, ApiMethod } from '../../shared/api';
import {
  API_PATH_PREFIX,
  checkParams,
  EVENTS_PATH,
  EVENTS_PROTOCOL,
  HttpErrorCode,
  isApiMethod,
  MAX_BODY_BYTES,
  TOKEN_PROTOCOL_PREFIX,
  TOKEN_QUERY_PARAMETER,
} from '../../shared/http';
import { ServiceError, type PeerService } from '../peer/service';
import type { Logger } from '../peer/transport/types';
import { EventStream, type EventStreamStats } from './event-stream';
import { StaticSite } from './static-files';

export interface ApiServerOptions {
  /** What the API calls; the server never closes it. */
  service: PeerService;
  /** Every request must carry it (see shared/http.ts for how). */
  token: string;
  logger: Logger;
  /** Default 127.0.0.1: only this computer. Anything wider sends the token over plain HTTP. */
  host?: string;
  /** Default 0: a free port, reported by `port` and `url`. */
  port?: number;
  /** The built renderer to serve at `/`; without it only the API is served. */
  staticDir?: string;
  /** Default MAX_BODY_BYTES (1 MiB). */
  maxBodyBytes?: number;
  /** Event streams open at once; default 64. */
  maxEventClients?: number;
  /** Bytes an event client may have waiting before it is dropped; default 1 MiB. */
  maxEventBufferedBytes?: number;
  /** Ping interval of the event stream; default 30 s. */
  heartbeatMs?: number;
}

export interface ApiServer {
  /** Where to reach the API, e.g. "http://127.0.0.1:41234" (loopback when bound to every interface). */
  readonly url: string;
  readonly port: number;
  /** The event stream's counters. */
  stats(): EventStreamStats;
  /** Stops serving: closes event streams and connections. Does not close the service. Idempotent. */
  close(): Promise<void>;
}

/** Sent with every response: no sniffing, no framing, nothing for other origins. */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
/** API answers are data, never a document, and never cached. */
const API_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};
/** What a client sends on the event stream is ignored; this bounds what it can make us read. */
const MAX_CLIENT_FRAME_BYTES = 1024;
const INTERNAL_MESSAGE = 'Something went wrong inside the Quorum node; its log has the details.';
const UNAUTHORIZED_MESSAGE = 'This request needs the node’s API token.';

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { service, logger } = options;
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const maxEventClients = options.maxEventClients ?? 64;
  // Hashing both sides gives equal lengths, so the comparison's time says nothing about the token.
  const tokenDigest = digest(options.token);
  const tokenMatches = (candidate: string | null): boolean => candidate !== null && timingSafeEqual(digest(candidate), tokenDigest);
  const site = options.staticDir ? await StaticSite.open(options.staticDir) : null;

  const httpServer = createServer({ requestTimeout: 30_000, headersTimeout: 15_000, keepAliveTimeout: 5_000 });
  const wsServer = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_FRAME_BYTES,
    perMessageDeflate: false, // inflating is a memory risk, and events are small
    clientTracking: false,
    handleProtocols: (offered) => selectProtocol(offered),
  });
  const events = new EventStream({
    service,
    logger,
    maxBufferedBytes: options.maxEventBufferedBytes ?? 1024 * 1024,
    heartbeatMs: options.heartbeatMs ?? 30_000,
  });

  async function handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    const path = requestPath(request);
    if (path === '/api' || path.startsWith(API_PATH_PREFIX)) return handleApi(request, response, path);
    if (!site) return refuse(request, response, 404, HttpErrorCode.notFound, 'This node serves only its API here.');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return refuse(request, response, 405, HttpErrorCode.methodNotAllowed, 'Pages are read with GET.', { allow: 'GET, HEAD' });
    }
    const outcome = await site.serve(path, request, response);
    if (outcome === 'badPath') return refuse(request, response, 400, HttpErrorCode.badRequest, 'This path is not allowed.');
    if (outcome === 'notFound') return refuse(request, response, 404, HttpErrorCode.notFound, 'There is no such page.');
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    for (const [name, value] of Object.entries(API_HEADERS)) response.setHeader(name, value);
    if (!originAllowed(request)) {
      return refuse(request, response, 403, HttpErrorCode.forbiddenOrigin, 'Pages of other sites may not use this node.');
    }
    if (!tokenMatches(bearerToken(request))) {
      return refuse(request, response, 401, HttpErrorCode.unauthorized, UNAUTHORIZED_MESSAGE, { 'www-authenticate': 'Bearer' });
    }
    if (path === EVENTS_PATH) {
      return refuse(request, response, 426, HttpErrorCode.upgradeRequired, 'Events come over a WebSocket.', { upgrade: 'websocket' });
    }
    const name = path.slice(API_PATH_PREFIX.length);
    if (!isApiMethod(name)) return refuse(request, response, 404, HttpErrorCode.unknownMethod, 'There is no such API method.');
    if (request.method !== 'POST') {
      return refuse(request, response, 405, HttpErrorCode.methodNotAllowed, 'API methods are called with POST.', { allow: 'POST' });
    }
    if (!isJsonContentType(request.headers['content-type'])) {
      return refuse(request, response, 415, HttpErrorCode.unsupportedMediaType, 'Send the parameters as application/json.');
    }
    const body = await readBody(request, maxBodyBytes);
    if (body === 'aborted') return;
    if (body === 'tooLarge') {
      return refuse(request, response, 413, HttpErrorCode.bodyTooLarge, `The parameters may not exceed ${maxBodyBytes} bytes.`);
    }
    let params: unknown;
    try {
      params = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      return refuse(request, response, 400, HttpErrorCode.badRequest, 'The parameters are not valid JSON.');
    }
    const problem = checkParams(name, params);
    if (problem) return refuse(request, response, 400, HttpErrorCode.invalidParams, problem);
    await callMethod(name, params, response);
  }

  async function callMethod(method: ApiMethod, params: unknown, response: ServerResponse): Promise<void> {
    const started = performance.now();
    let status = 200;
    let body: string;
    try {
      const result: unknown = await service.methods[method](params as never);
      if (result === undefined) throw new Error(`${method} returned nothing`);
      body = JSON.stringify({ ok: true, result });
    } catch (error) {
      if (error instanceof ServiceError) {
        body = JSON.stringify({ ok: false, error: { code: String(error.code), message: String(error.message) } });
      } else {
        status = 500;
        logger.error('an API method failed', { method, error });
        body = JSON.stringify({ ok: false, error: { code: HttpErrorCode.internal, message: INTERNAL_MESSAGE } });
      }
    }
    logger.debug('api call', { method, status, ms: Math.round(performance.now() - started) });
    sendJson(response, status, body);
  }

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (error) => logger.debug('event stream socket failed', { error: error.message }));
    const address = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    if (requestPath(request) !== EVENTS_PATH) {
      return rejectUpgrade(socket, 404, { code: HttpErrorCode.notFound, message: 'Only /api/events is a WebSocket.' });
    }
    if (!originAllowed(request)) {
      return rejectUpgrade(socket, 403, { code: HttpErrorCode.forbiddenOrigin, message: 'Pages of other sites may not use this node.' });
    }
    // Check every place a token may be, always all of them, so timing does not say which one was tried.
    const candidates = [bearerToken(request), queryToken(request), ...protocolTokens(request)];
    if (!candidates.map(tokenMatches).includes(true)) {
      logger.debug('refused an event stream without the token', { address });
      return rejectUpgrade(socket, 401, { code: HttpErrorCode.unauthorized, message: UNAUTHORIZED_MESSAGE });
    }
    if (events.size >= maxEventClients) {
      logger.warn('refused an event stream: too many open', { address, open: events.size });
      return rejectUpgrade(socket, 503, { code: HttpErrorCode.unavailable, message: 'Too many windows are following this node.' });
    }
    wsServer.handleUpgrade(request, socket, head, (webSocket) => events.add(webSocket, address));
  }

  httpServer.on('request', (request: IncomingMessage, response: ServerResponse) => {
    handleRequest(request, response).catch((error: unknown) => {
      logger.error('a request failed', { error });
      if (!response.headersSent) sendJson(response, 500, JSON.stringify({ ok: false, error: { code: HttpErrorCode.internal, message: INTERNAL_MESSAGE } }));
      else response.destroy();
    });
  });
  httpServer.on('upgrade', handleUpgrade);
  httpServer.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Bytes that are not HTTP: answer like any other bad request when the socket still listens.
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    logger.debug('a client sent something that is not HTTP', { code: error.code ?? null });
    // As Node's own handler: no answer once one is under way on this socket (it would be garbage).
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (error.code === 'ECONNRESET' || !socket.writable || answering) {
      socket.destroy();
      return;
    }
    rejectUpgrade(socket, status, { code: HttpErrorCode.badRequest, message: 'This is not a request the node understands.' });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  httpServer.on('error', (error) => logger.error('API server error', { error }));
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${port}`;
  logger.info('API listening', { url, static: site?.root ?? null });

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    stats: () => events.stats(),
    close: () =>
      (closing ??= (async () => {
        await events.close();
        wsServer.close();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
        logger.info('API stopped', { url });
      })()),
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The request path, still percent-encoded, without the query. */
function requestPath(request: IncomingMessage): string {
  const target = request.url ?? '/';
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

function bearerToken(request: IncomingMessage): string | null {
  const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
  return match ? match[1]! : null;
}

function queryToken(request: IncomingMessage): string | null {
  const target = request.url ?? '/';
  const query = target.indexOf('?');
  return query < 0 ? null : new URLSearchParams(target.slice(query + 1)).get(TOKEN_QUERY_PARAMETER);
}

function protocolTokens(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return [];
  return header
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol.startsWith(TOKEN_PROTOCOL_PREFIX))
    .map((protocol) => protocol.slice(TOKEN_PROTOCOL_PREFIX.length));
}

/** A browser refuses a connection whose answer names none of the offered subprotocols. */
function selectProtocol(offered: Set<string>): string | false {
  if (offered.has(EVENTS_PROTOCOL)) return EVENTS_PROTOCOL;
  for (const protocol of offered) if (protocol.startsWith(TOKEN_PROTOCOL_PREFIX)) return protocol;
  return false;
}

/**
 * Browsers send Origin on cross-origin requests and on every WebSocket: only the page this node
 * serves may call it. Programs send no Origin and rely on the token alone.
 */
function originAllowed(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  const host = request.headers.host;
  return host !== undefined && origin.toLowerCase() === `http://${host.toLowerCase()}`;
}

function isJsonContentType(header: string | undefined): boolean {
  // Absent is fine (`curl -X POST` with no body); present, it must say JSON.
  if (header === undefined) return true;
  return header.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** The body as text, or why there is none: over the limit, or the client went away. */
function readBody(request: IncomingMessage, limit: number): Promise<string | 'tooLarge' | 'aborted'> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('tooLarge');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        resolve('tooLarge');
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', () => resolve('aborted'));
    request.on('close', () => resolve('aborted')); // no effect once resolved
  });
}

function sendJson(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * Answers with an ApiError. A body not read yet is discarded, and the connection closed after
 * the answer, so an unread upload can neither be taken for the next request nor pile up.
 */
function refuse(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (!request.complete) {
    response.setHeader('connection', 'close');
    request.resume();
  }
  sendJson(response, status, JSON.stringify({ ok: false, error: { code, message } }), headers);
}

/** An HTTP answer written straight to a socket that was never handed to a ServerResponse. */
function rejectUpgrade(socket: Duplex, status: number, error: ApiError): void {
  const body = JSON.stringify({ ok: false, error });
  const headers = {
    ...SECURITY_HEADERS,
    ...API_HEADERS,
    ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
    connection: 'close',
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  };
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/** A host to put in a URL that reaches the server from this computer. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
