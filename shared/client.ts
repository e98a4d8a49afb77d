// One client interface for the renderer, whichever way it reaches the peer: the Electron preload's
// `window.quorum` (IPC to the main process, which relays to the peer process) or the headless
// node's HTTP API and event stream. Screens and managers take an ApiClient and never ask which;
// `connectApi` picks the transport (renderer/src/lib/api-client.ts calls it with `window`).
// Runs anywhere: no Node, Electron or DOM imports, so tests run it in Node with a stand-in page.
import type { ApiEventName, ApiEvents, ApiMethod, ApiParams, ApiResponse, ApiResult, QuorumApi } from './api';
import { ApiRequestError, apiMethods, HttpApiClient, HttpErrorCode, isApiResponse, type ClientMethods } from './http';

/** The API as the renderer uses it, over either transport. */
export interface ApiClient {
  /** Every method as a function that resolves with the result or rejects with ApiRequestError. */
  readonly methods: ClientMethods;
  /** Calls `method`; every failure, an unreachable peer included, comes back as `{ok: false, error}`. */
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResponse<M>>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
  /** Ends every subscription made through this client. Calls in flight still complete. Idempotent. */
  close(): Promise<void>;
}

// The HTTP client is the other implementation: the compiler checks that it keeps fitting.
const httpClientIsAnApiClient = (client: HttpApiClient): ApiClient => client;
void httpClientIsAnApiClient;

/** The API through the Electron preload's `window.quorum`. */
export class BridgeApiClient implements ApiClient {
  readonly methods: ClientMethods;
  private readonly subscriptions = new Set<() => void>();
  private closed = false;

  constructor(private readonly bridge: QuorumApi) {
    const methods: Partial<Record<ApiMethod, (params: never) => Promise<unknown>>> = {};
    for (const method of apiMethods) methods[method] = (params: never) => this.invoke(method, params);
    this.methods = methods as ClientMethods;
  }

  async call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResponse<M>> {
    let response: unknown;
    try {
      response = await this.bridge.call(method, params);
    } catch {
      // The preload never rejects; a rejection means the bridge itself is broken or gone.
      return { ok: false, error: { code: HttpErrorCode.unreachable, message: 'The desktop app did not answer. Restart Quorum if this lasts.' } };
    }
    if (isApiResponse(response)) return response as ApiResponse<M>;
    return { ok: false, error: { code: HttpErrorCode.badResponse, message: 'The desktop app gave an answer this page does not understand.' } };
  }

  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
    if (this.closed) throw new Error('BridgeApiClient is closed');
    const unsubscribe = this.bridge.on(event, listener);
    const subscription = () => {
      if (this.subscriptions.delete(subscription)) unsubscribe();
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const subscription of [...this.subscriptions]) subscription();
  }

  private async invoke<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
    const response = await this.call(method, params);
    if (response.ok) return response.result;
    throw new ApiRequestError(response.error.code, response.error.message);
  }
}

/** What the choice of transport depends on: `window.quorum` and `window.location`. */
export interface PageEnvironment {
  /** Set by the Electron preload; absent in a plain browser. */
  quorum?: QuorumApi | undefined;
  location: { origin: string; hash: string };
}

/** How the page reaches the peer, or why it cannot. */
export type ApiConnection =
  | { kind: 'desktop'; client: ApiClient; version: string }
  | { kind: 'browser'; client: ApiClient }
  | { kind: 'unavailable'; reason: string };

/**
 * In the desktop app, through the preload's `window.quorum`. In a browser the page was served by
 * the headless node, which printed its address as http://127.0.0.1:PORT/#token=…: the API is at
 * the page's own origin, and the token is in the fragment (never sent to a server, so it stays out
 * of logs and Referer headers).
 */
export function connectApi(page: PageEnvironment): ApiConnection {
  if (page.quorum) return { kind: 'desktop', client: new BridgeApiClient(page.quorum), version: page.quorum.version };
  if (!/^https?:\/\//i.test(page.location.origin)) {
    return { kind: 'unavailable', reason: 'Open Quorum from the address its node printed (http://127.0.0.1:…/#token=…).' };
  }
  const token = tokenFromFragment(page.location.hash);
  if (!token) {
    return { kind: 'unavailable', reason: 'This address has no access token. Open the full address the Quorum node printed, including #token=….' };
  }
  return { kind: 'browser', client: new HttpApiClient({ baseUrl: page.location.origin, token }) };
}

/** The token in a fragment like "#token=abc" (other fields may come along: "#token=abc&view=grades"), or null. */
export function tokenFromFragment(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token ? token : null;
}
