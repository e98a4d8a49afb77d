// The page's Content-Security-Policy, defined once for its three deliveries:
// - the <meta> tag in renderer/index.html, the one a page loaded from file:// is sure to get;
// - the header the headless node sends with the page (electron/headless/static-files.ts);
// - the header the Electron main process adds to its session's responses (electron/main/index.ts).
// A browser enforces every policy it is given, so the stricter header narrows the meta tag.
// Only our own scripts run and nothing is ever evaluated from text ('unsafe-eval' never appears);
// styles may be inline because Svelte sets some. Runs anywhere: no imports.

/**
 * Where the page may connect (fetch, WebSocket):
 * - 'self': the origin that served it, which is the headless node's API and event stream, or in
 *   development the Vite server and its hot-reload socket;
 * - 'none': nowhere, for the desktop app's file:// page, which reaches the peer through IPC only.
 */
export type ConnectSource = 'self' | 'none';

export interface PolicyOptions {
  connect: ConnectSource;
  /** A meta tag cannot carry frame-ancestors (browsers ignore it there and warn). */
  delivery: 'header' | 'meta';
}

export function contentSecurityPolicy(options: PolicyOptions): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src '${options.connect}'`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    ...(options.delivery === 'header' ? ["frame-ancestors 'none'"] : []),
  ].join('; ');
}
