// The only bridge between the sandboxed renderer and Electron: `window.quorum`, the typed API of
// shared/api.ts (QuorumApi) over two IPC channels, built in electron/ipc/quorum-bridge.ts. It
// exposes named values and functions, never ipcRenderer itself, so the page cannot send
// arbitrary IPC messages. Sandboxed preloads may require only a few modules: everything but
// 'electron' is bundled into this file.
import { contextBridge, ipcRenderer } from 'electron';
import { version } from '../../package.json';
import { createQuorumApi } from '../ipc/quorum-bridge';

contextBridge.exposeInMainWorld('quorum', createQuorumApi(ipcRenderer, version));
