// The Electron main process stays thin: it owns windows and nothing else.
// The classroom peer (Raft, SQLite, discovery, transport) will run in an Electron
// utilityProcess started from here in a later issue, so that disk and network work never
// stalls the window; this process will then only relay the API between peer and renderer.
import { BrowserWindow, app } from 'electron';
import { join } from 'node:path';

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

  // electron-vite sets this only under `electron-vite dev`, pointing at its dev server.
  const devServerUrl = process.env['ELECTRON_RENDERER_URL'];
  if (!app.isPackaged && devServerUrl) {
    void window.loadURL(devServerUrl);
  } else {
    void window.loadFile(join(import.meta.dirname, '../renderer/index.html'));
  }
}

void app.whenReady().then(() => {
  createWindow();
  // macOS keeps apps alive without windows; clicking the dock icon should bring one back.
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
