// What the preload hands to contextBridge as `window.quorum`: named functions over two IPC
// channels, never ipcRenderer itself, so the page cannot send arbitrary IPC messages. Names are
// checked here before anything is sent, and whatever comes back is checked before the page sees
// it. Pure (no Electron import): the preload passes ipcRenderer in, tests pass a fake.
import type { ApiError, ApiEventName, ApiResponse, QuorumApi } from '../../shared/api';
import { HttpErrorCode, isApiEventName, isApiMethod, isApiResponse } from '../../shared/http';
import { CALL_CHANNEL, EVENT_CHANNEL } from './renderer-channels';

type IpcListener = (event: unknown, message: unknown) => void;

/** What the bridge needs of Electron's ipcRenderer. */
export interface RendererIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: IpcListener): unknown;
  removeListener(channel: string, listener: IpcListener): unknown;
}

type AnyListener = (payload: never) => void;

/** Builds `window.quorum` on top of `ipc`. */
export function createQuorumApi(ipc: RendererIpc, version: string): QuorumApi {
  const listeners = new Map<ApiEventName, Set<AnyListener>>();
  let subscribed = false;

  // One IPC listener for all the page's subscriptions, attached while there is at least one.
  const dispatch: IpcListener = (_event, message) => {
    if (!isEventMessage(message)) return;
    for (const listener of [...(listeners.get(message.event) ?? [])]) {
      try {
        listener(message.payload as never);
      } catch (error) {
        // One broken listener must not starve the others.
        console.error('a Quorum event listener failed', error);
      }
    }
  };

  const api: QuorumApi = {
    version,
    async call(method, params) {
      // The page may pass anything at run time, whatever the types say.
      if (typeof method !== 'string' || !isApiMethod(method)) return failure(HttpErrorCode.unknownMethod, 'There is no such API method.');
      let response: unknown;
      try {
        response = await ipc.invoke(CALL_CHANNEL, method, params);
      } catch {
        return failure(HttpErrorCode.unreachable, 'The desktop app did not answer. Restart Quorum if this lasts.');
      }
      if (!isApiResponse(response)) return failure(HttpErrorCode.badResponse, 'The desktop app gave an answer this page does not understand.');
      return response as ApiResponse<typeof method>;
    },
    on(event, listener) {
      if (typeof event !== 'string' || !isApiEventName(event)) throw new TypeError(`Quorum has no event called ${JSON.stringify(String(event))}`);
      if (typeof listener !== 'function') throw new TypeError('A Quorum event listener must be a function');
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      // Wrapped, so that subscribing the same function twice gives two independent subscriptions.
      const stored: AnyListener = (payload) => listener(payload);
      set.add(stored);
      if (!subscribed) {
        ipc.on(EVENT_CHANNEL, dispatch);
        subscribed = true;
      }
      return () => {
        set.delete(stored);
        if (subscribed && [...listeners.values()].every((remaining) => remaining.size === 0)) {
          ipc.removeListener(EVENT_CHANNEL, dispatch);
          subscribed = false;
        }
      };
    },
  };
  return api;
}

function isEventMessage(message: unknown): message is { event: ApiEventName; payload: unknown } {
  if (typeof message !== 'object' || message === null) return false;
  const { event } = message as { event?: unknown };
  return typeof event === 'string' && isApiEventName(event) && Object.hasOwn(message, 'payload');
}

function failure(code: string, message: string): { ok: false; error: ApiError } {
  return { ok: false, error: { code, message } };
}
