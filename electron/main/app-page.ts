// Which pages are the app's own: the built renderer's index.html (file://), or in development the
// Vite server's origin. Only those may call the API over IPC or be navigated to. Pure.

/** Whether `url` is the app's page, given the URL the app loads (`appUrl`). Never throws. */
export function isAppPage(url: string, appUrl: string): boolean {
  let page: URL;
  let app: URL;
  try {
    page = new URL(url);
    app = new URL(appUrl);
  } catch {
    return false;
  }
  // file:// URLs have no origin to compare ("null"): the very file, whatever its query or fragment.
  if (app.protocol === 'file:') return page.protocol === 'file:' && page.host === app.host && page.pathname === app.pathname;
  return page.origin === app.origin;
}
