// The only bridge between the sandboxed renderer and Electron. It exposes named values and
// functions, never ipcRenderer itself, so the page cannot send arbitrary IPC messages.
import { contextBridge } from 'electron';
import { version } from '../../package.json';
import type { QuorumApi } from '../../shared/api';

const api = { version } satisfies QuorumApi;

contextBridge.exposeInMainWorld('quorum', api);
