// What the peer offers to its user interfaces: the API of shared/api.ts, implemented once, and
// served both by the Electron main process (IPC to the preload) and by the headless node
// (HTTP and a WebSocket event stream).
import type { ApiEventName, ApiEvents, ApiMethod, ApiParams, ApiResult } from '../../shared/api';

/** Every API method as a function; errors are thrown as `ServiceError` (plain `{code, message}` across boundaries). */
export type ServiceMethods = { [M in ApiMethod]: (params: ApiParams<M>) => Promise<ApiResult<M>> };

export interface PeerService {
  readonly methods: ServiceMethods;
  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
  /** Graceful shutdown: hand leadership over first, then close everything. Idempotent. */
  close(): Promise<void>;
}

/** An error meant for people: `message` is a sentence a teacher understands; `code` is for programs. */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
