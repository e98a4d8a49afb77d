// The contract between the renderer and whatever serves it (the Electron preload today,
// the headless node's HTTP server later). Runs anywhere: no Node, Electron or DOM imports.

/** What the preload exposes to the renderer as `window.quorum`. Grows into the typed API map. */
export interface QuorumApi {
  /** The app's version from package.json, e.g. "0.1.0". */
  readonly version: string;
}
