// The API of shared/api.ts over HTTP, for the headless node and the browser that uses it:
//   POST /api/<method>  body: the params as JSON      → an ApiResponse as JSON
//   GET  /api/events    upgraded to a WebSocket        → one {event, payload} text frame per event
// Every request carries `Authorization: Bearer <token>`; a WebSocket, which a browser cannot give
// headers, may instead carry the token as the `token` query parameter or as the subprotocol
// `quorum.<token>`. The method and event tables below are derived from ApiMethods and ApiEvents:
// the compiler rejects a table that misses or adds a name. Runs anywhere: no Node or DOM imports.
import type { ApiError, ApiEventName, ApiEvents, ApiMethod, ApiParams, ApiResponse, ApiResult } from './api';
import { classroomCommand } from './classroom/commands';
import { count, flag, isRecord, literal, object, tagged, text, type Infer, type Schema } from './schema';

/** Every method is served under this prefix: `POST /api/<method>`. */
export const API_PATH_PREFIX = '/api/';
/** The event stream: a GET upgraded to a WebSocket. */
export const EVENTS_PATH = '/api/events';
/** The query parameter that may carry the token on the event stream. */
export const TOKEN_QUERY_PARAMETER = 'token';
/** A subprotocol `quorum.<token>` may carry the token on the event stream (browsers cannot set headers). */
export const TOKEN_PROTOCOL_PREFIX = 'quorum.';
/** The subprotocol the server selects when the client offers it next to the token. */
export const EVENTS_PROTOCOL = 'quorum-events';
/** Largest request body the server reads; a larger one is refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Error codes of the HTTP layer itself; the service's own codes pass through unchanged. */
export const HttpErrorCode = {
  /** Missing or wrong token (deliberately the same answer for both). */
  unauthorized: 'UNAUTHORIZED',
  /** A request from a page of another origin. */
  forbiddenOrigin: 'FORBIDDEN_ORIGIN',
  /** `/api/<name>` where `<name>` is not an API method. */
  unknownMethod: 'UNKNOWN_METHOD',
  /** A path the server does not serve. */
  notFound: 'NOT_FOUND',
  /** An HTTP verb the path does not accept (the API takes POST only). */
  methodNotAllowed: 'METHOD_NOT_ALLOWED',
  /** A body that is not JSON, or a path that is not acceptable. */
  badRequest: 'BAD_REQUEST',
  /** JSON that does not match the method's parameters. */
  invalidParams: 'INVALID_PARAMS',
  /** A body over MAX_BODY_BYTES. */
  bodyTooLarge: 'BODY_TOO_LARGE',
  /** A body that is not declared as application/json. */
  unsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  /** The event stream asked for without a WebSocket upgrade. */
  upgradeRequired: 'UPGRADE_REQUIRED',
  /** Too many event streams are open. */
  unavailable: 'UNAVAILABLE',
  /** A failure inside the node that is not the caller's fault; the details are in the node's log. */
  internal: 'INTERNAL',
  /** Client side: the node did not answer (stopped, unreachable). */
  unreachable: 'UNREACHABLE',
  /** Client side: the node answered with something that is not an ApiResponse. */
  badResponse: 'BAD_RESPONSE',
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

// ---------------------------------------------------------------------------------------------
// Parameter schemas: what a method accepts, checked at the boundary before the service sees it.

const keyValueWrite = tagged('op', {
  put: object({ op: literal('put'), key: text, value: text }),
  delete: object({ op: literal('delete'), key: text }),
});

// `{}` and `Record<string, never>` differ for the compiler, not at run time: no field is accepted.
const noParams: Schema<Record<string, never>> = object({}, {});

/** The parameters of every method; the keys are exactly the API's method names. */
const paramsSchemas = {
  status: noParams,
  createClass: object({ name: text }, { subject: text, displayName: text }),
  joinClass: object({ joinCode: text }, { displayName: text, waitMs: count }),
  cancelJoin: noParams,
  write: object({ classId: text, command: keyValueWrite }, { waitMs: count }),
  read: object({ classId: text, key: text }, { linearizable: flag }),
  addPeerAddress: object({ address: text }),
  classroom: object({ classId: text }),
  submitCommand: object({ classId: text, command: classroomCommand }, { waitMs: count }),
  submission: object({ classId: text, assignmentId: text, studentId: text }),
  gradebook: object({ classId: text }),
  exportGradebook: object({ classId: text }),
  activity: object({ classId: text }, { limit: count }),
  startUpload: object({ name: text, type: text, size: count }),
  uploadChunk: object({ uploadId: text, offset: count, data: text }),
  finishUpload: object({ uploadId: text }),
  readFile: object({ classId: text, sha256: text, offset: count, length: count }),
  recoveryPlan: object({ classId: text }),
  recoverClass: object({ classId: text, confirm: flag }),
  exportBackup: object({ classId: text, folder: text, passphrase: text }),
  restoreBackup: object({ file: text, passphrase: text }),
  setBackupSchedule: object({ classId: text, folder: text, passphrase: text, everyMinutes: count }, { keep: count }),
  backupStatus: object({ classId: text }),
} satisfies { [M in ApiMethod]: Schema<ApiParams<M>> };

// `satisfies` proves each schema accepts nothing outside ApiParams; this proves the converse, so a
// field added to ApiMethods fails here until its schema knows it.
type Assignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Mutual assignability ignores a missing optional field, so the field names are compared too.
type SameType<A, B> = Assignable<A, B> extends true ? Assignable<keyof A, keyof B> : false;
type SchemaMismatch = {
  [M in ApiMethod]: SameType<Infer<(typeof paramsSchemas)[M]>, ApiParams<M>> extends true ? never : M;
}[ApiMethod];
const schemasMatchApi: [SchemaMismatch] extends [never] ? true : SchemaMismatch = true;
void schemasMatchApi;
// `/api/events` is the event stream, so no method may be called `events`.
const eventsIsNotAMethod: 'events' extends ApiMethod ? never : true = true;
void eventsIsNotAMethod;

/** Every API method name. */
export const apiMethods = Object.freeze(Object.keys(paramsSchemas) as ApiMethod[]);

/** Whether `name` is an API method (own names only: `constructor` or `__proto__` are not). */
export function isApiMethod(name: string): name is ApiMethod {
  return Object.hasOwn(paramsSchemas, name);
}

/** What is wrong with `params` for `method`, as a sentence, or null when they are acceptable. */
export function checkParams(method: ApiMethod, params: unknown): string | null {
  return paramsSchemas[method].check(params, 'params');
}

const eventTable = { status: true, applied: true, outbox: true, backupProgress: true, backupStatus: true, joining: true } satisfies Record<ApiEventName, true>;

/** Every event name pushed on the event stream. */
export const apiEventNames = Object.freeze(Object.keys(eventTable) as ApiEventName[]);

export function isApiEventName(name: string): name is ApiEventName {
  return Object.hasOwn(eventTable, name);
}

/** One text frame of the event stream. */
export type ApiEventMessage = { [E in ApiEventName]: { event: E; payload: ApiEvents[E] } }[ApiEventName];

/** The path of a method: `/api/<method>`. */
export function methodPath(method: ApiMethod): string {
  return `${API_PATH_PREFIX}${method}`;
}

/** The Authorization header value for `token`. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** The subprotocols a client offers on the event stream: the one it wants, and the token. */
export function eventsProtocols(token: string): string[] {
  return [EVENTS_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`];
}

/** Whether `value` is shaped like an ApiResponse (the result itself is trusted, it came from our node). */
export function isApiResponse(value: unknown): value is ApiResponse<ApiMethod> {
  if (!isRecord(value)) return false;
  if (value['ok'] === true) return Object.hasOwn(value, 'result');
  return value['ok'] === false && isApiError(value['error']);
}

export function isApiError(value: unknown): value is ApiError {
  return isRecord(value) && typeof value['code'] === 'string' && typeof value['message'] === 'string';
}

// ---------------------------------------------------------------------------------------------
// The client: the renderer in a browser, and tests and tools in Node.

/** What the client needs of `fetch`; the global one in browsers and in Node 20 fits. */
export type FetchFunction = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string },
) => Promise<{ status: number; text(): Promise<string> }>;

/** What the client needs of a WebSocket; the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  // The parameters are `never` so that both implementations' event types are accepted.
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface HttpApiClientOptions {
  /** The node's address, e.g. "http://127.0.0.1:4000"; a page served by the node passes its own origin. */
  baseUrl: string;
  /** The node's API token. */
  token: string;
  /** Defaults to the global `fetch`. */
  fetch?: FetchFunction;
  /** Needed for events: the global `WebSocket` in a browser, `ws`'s in Node 20 (which has no global one). */
  WebSocket?: WebSocketConstructor;
  /** First wait before reconnecting a dropped event stream; it doubles up to `maxReconnectDelayMs`. Default 500. */
  reconnectDelayMs?: number;
  /** Default 15 000. */
  maxReconnectDelayMs?: number;
}

/** Every method as a function that resolves with the result or rejects with ApiRequestError. */
export type ClientMethods = { [M in ApiMethod]: (params: ApiParams<M>) => Promise<ApiResult<M>> };

/** A failed call, with the node's error code (or UNREACHABLE, BAD_RESPONSE from the client). */
export class ApiRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

type AnyListener = (payload: never) => void;
const WEB_SOCKET_OPEN = 1;

/**
 * The API over HTTP. `call` answers with an ApiResponse and never throws; `methods` has the same
 * shape as the peer's `ServiceMethods`. Events open one WebSocket on the first `on` and reconnect
 * it when it drops (events sent meanwhile are lost: re-read `status` when `onConnectionChange` says true).
 */
export class HttpApiClient {
  readonly methods: ClientMethods;
  private readonly baseUrl: string;
  private readonly fetchFunction: FetchFunction;
  private readonly listeners = new Map<ApiEventName, Set<AnyListener>>();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  private socket: WebSocketLike | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectDelayMs: number;
  private closed = false;

  constructor(private readonly options: HttpApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const globalFetch = (globalThis as { fetch?: FetchFunction }).fetch;
    const fetchFunction = options.fetch ?? globalFetch?.bind(globalThis);
    if (!fetchFunction) throw new TypeError('HttpApiClient needs fetch: pass options.fetch');
    this.fetchFunction = fetchFunction;
    this.reconnectDelayMs = options.reconnectDelayMs ?? 500;
    const methods: Partial<Record<ApiMethod, (params: never) => Promise<unknown>>> = {};
    for (const method of apiMethods) methods[method] = (params: never) => this.invoke(method, params);
    this.methods = methods as ClientMethods;
  }

  /** Calls `method`; failures, including an unreachable node, come back as `{ok: false, error}`. */
  async call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResponse<M>> {
    let status: number;
    let body: string;
    try {
      const response = await this.fetchFunction(`${this.baseUrl}${methodPath(method)}`, {
        method: 'POST',
        headers: { authorization: bearer(this.options.token), 'content-type': 'application/json' },
        body: JSON.stringify(params),
      });
      status = response.status;
      body = await response.text();
    } catch {
      return failure(HttpErrorCode.unreachable, 'The Quorum node did not answer. Is it running?');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (isApiResponse(parsed)) return parsed as ApiResponse<M>;
    return failure(HttpErrorCode.badResponse, `The Quorum node gave an answer this page does not understand (HTTP ${status}).`);
  }

  /** Subscribes to an event; returns the unsubscribe function. Opens the event stream if needed. */
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
    if (this.closed) throw new Error('HttpApiClient is closed');
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const stored = listener as AnyListener;
    set.add(stored);
    this.connect();
    return () => {
      set.delete(stored);
    };
  }

  /** Hears when the event stream opens (true) or drops (false); returns the unsubscribe function. */
  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => {
      this.connectionListeners.delete(listener);
    };
  }

  /** Whether the event stream is open now. */
  get connected(): boolean {
    return this.socket?.readyState === WEB_SOCKET_OPEN;
  }

  /** Closes the event stream for good. Calls in flight still complete. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'client closed');
  }

  private async invoke<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
    const response = await this.call(method, params);
    if (response.ok) return response.result;
    throw new ApiRequestError(response.error.code, response.error.message);
  }

  private connect(): void {
    if (this.socket || this.reconnectTimer !== null || this.closed) return;
    const WebSocketClass = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketClass) throw new TypeError('HttpApiClient needs a WebSocket for events: pass options.WebSocket');
    const url = `${this.baseUrl.replace(/^http/i, 'ws')}${EVENTS_PATH}`;
    const socket = new WebSocketClass(url, eventsProtocols(this.options.token));
    this.socket = socket;
    socket.onopen = () => {
      this.reconnectDelayMs = this.options.reconnectDelayMs ?? 500;
      this.notifyConnection(true);
    };
    socket.onmessage = (event: { data: unknown }) => this.dispatch(event.data);
    socket.onerror = () => {}; // the close that follows decides what happens
    socket.onclose = () => {
      const wasOpen = this.socket === socket;
      if (wasOpen) this.socket = null;
      if (this.closed) return;
      this.notifyConnection(false);
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, this.options.maxReconnectDelayMs ?? 15_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private dispatch(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!isRecord(message) || typeof message['event'] !== 'string' || !isApiEventName(message['event'])) return;
    for (const listener of [...(this.listeners.get(message['event']) ?? [])]) {
      try {
        listener(message['payload'] as never);
      } catch (error) {
        // One broken listener must not starve the others.
        console.error('a Quorum event listener failed', error);
      }
    }
  }

  private notifyConnection(connected: boolean): void {
    for (const listener of [...this.connectionListeners]) listener(connected);
  }
}

function failure(code: string, message: string): { ok: false; error: ApiError } {
  return { ok: false, error: { code, message } };
}
