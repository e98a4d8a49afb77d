// The page's way to the peer: the preload's `window.quorum` in the desktop app, else the HTTP API
// of the headless node that served the page. The choice itself is shared/client.ts's
// `connectApi`, tested in Node; this only hands it the real window.
import { connectApi, type ApiConnection } from '../../../shared/client';

export type { ApiClient, ApiConnection } from '../../../shared/client';

/** Connects this page: call once, at start-up, and pass the client to whatever needs the API. */
export function connectThisPage(): ApiConnection {
  return connectApi({ quorum: window.quorum, location: window.location });
}
