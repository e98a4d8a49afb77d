// The Electron main process stays thin: it owns the windows, their Content-Security-Policy and the
// lifetime of the classroom peer, which runs in a utilityProcess (peer-process.ts) so that disk and
// network work never stalls a window. This process only relays the API between peer and windows.
import { BrowserWindow, app, dialog, session } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { contentSecurityPolicy } from '../../shared/content-security-policy';
import { createLogger } from '../headless/logger';
import type { PeerSupervisor } from '../ipc/peer-supervisor';
import { isAppPage } from './app-page';
import { startPeerProcess } from './peer-process';

const logger = createLogger({ component: 'main' });
// electron-vite sets this only under `electron-vite dev`, pointing at its dev server.
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const rendererFile = join(import.meta.dirname, '../renderer/index.html');
/** The one page the app shows; only it may call the API. */
const appUrl = devServerUrl ?? pathToFileURL(rendererFile).href;

let peer: PeerSupervisor | null = null;

function createWindow(): void {
  const window = new BrowserWindow({
    width: 1100,
    height: 720,
    title: 'Quorum',
    icon: join(import.meta.dirname, '../../resources/icon.png'),
    show: false,
    webPreferences: {
      // The preload is CommonJS because sandboxed preloads cannot be ES modules.
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  // The UI never opens other windows or pages; links to the outside world are not followed.
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.webContents.on('will-navigate', (event) => {
    if (!isAppPage(event.url, appUrl)) event.preventDefault();
  });

  if (devServerUrl) {
    void window.loadURL(devServerUrl);
  } else {
    void window.loadFile(rendererFile);
  }
}

/**
 * The policy as a header on every response of the session, on top of the page's meta tag. Under
 * the dev server the page connects to it (hot reload); the built page reaches the peer through
 * IPC only, so it may connect nowhere.
 */
function enforceContentSecurityPolicy(): void {
  const policy = contentSecurityPolicy({ connect: devServerUrl ? 'self' : 'none', delivery: 'header' });
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } });
  });
}

function reportPeerGaveUp(reason: string): void {
  dialog.showErrorBox(
    'Quorum cannot keep its classroom running',
    `The part of Quorum that keeps the class's data stopped several times in a row, so Quorum stopped restarting it (${reason}). ` +
      'Close Quorum and open it again. If this keeps happening, the log in the terminal has the details.',
  );
}

// One app per computer user: a second one would open the same data folder as the first.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!app.isReady()) return;
    const [window] = BrowserWindow.getAllWindows();
    if (!window) return createWindow();
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  void app.whenReady().then(() => {
    enforceContentSecurityPolicy();
    // Before the first window, so its first call finds the relay in place.
    peer = startPeerProcess({
      logger: logger.child('peer-process'),
      isTrustedSender: (event) => event.senderFrame !== null && isAppPage(event.senderFrame.url, appUrl),
      onStateChange: (state, reason) => {
        if (state === 'failed') reportPeerGaveUp(reason);
      },
    });
    createWindow();
    // macOS keeps apps alive without windows; clicking the dock icon should bring one back.
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  // Quitting waits for the peer to stop gracefully: a leader hands its classes over first, so the
  // other laptops do not sit through an election timeout.
  app.on('before-quit', (event) => {
    if (!peer || peer.state === 'stopped') return;
    event.preventDefault();
    for (const window of BrowserWindow.getAllWindows()) window.hide();
    void peer.stop().finally(() => app.quit());
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
