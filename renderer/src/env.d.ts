import type { QuorumApi } from '../../shared/api';

declare global {
  interface Window {
    /** Set by the Electron preload; absent when the UI is served to a plain browser. */
    readonly quorum?: QuorumApi;
  }
}
