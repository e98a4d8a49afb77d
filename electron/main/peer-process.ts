// Starts the classroom peer in an Electron utilityProcess, running the same entry as the headless
// node (out/main/headless.js, which serves its parent port when it has one), and relays the API
// between it and the windows. Wiring only: the relay (ids, timeouts, checks), the restarts and the
// graceful stop are electron/ipc/peer-supervisor.ts, tested in Node; the peer's keys are sealed with
// safeStorage, which exists only in this process (electron/ipc/key-sealing-service.ts answers).
import { app, BrowserWindow, ipcMain, safeStorage, utilityProcess, type IpcMainInvokeEvent } from 'electron';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ApiMethod, ApiResponse } from '../../shared/api';
import { HttpErrorCode } from '../../shared/http';
import { PEER_NODE_FLAGS } from '../headless/runtime-flags';
import type { Keyring } from '../ipc/key-sealing-service';
import { PeerSupervisor, type PeerProcess, type PeerProcessState } from '../ipc/peer-supervisor';
import { CALL_CHANNEL, EVENT_CHANNEL } from '../ipc/renderer-channels';
import type { Logger } from '../peer/transport/types';
import { peerArguments } from './peer-launch';

export interface PeerProcessOptions {
  logger: Logger;
  /** Whether an API call comes from one of the app's own pages. */
  isTrustedSender(event: IpcMainInvokeEvent): boolean;
  /** Every change of the peer process's state (restarts, giving up), with a sentence saying why. */
  onStateChange?(state: PeerProcessState, reason: string): void;
}

/** Forks the peer and starts relaying; call after app 'ready' (utilityProcess needs it), before any window loads. */
export function startPeerProcess(options: PeerProcessOptions): PeerSupervisor {
  const { logger } = options;
  // electron-vite builds out/main/index.js (this file) and out/main/headless.js side by side.
  const entry = join(import.meta.dirname, 'headless.js');
  const args = peerArguments({ userDataDir: app.getPath('userData'), username: currentUserName(), hostname: hostname() });
  const supervisor = new PeerSupervisor({
    startProcess: () => forkPeer(entry, args),
    onEvent: (message) => {
      for (const window of BrowserWindow.getAllWindows()) {
        if (!window.webContents.isDestroyed()) window.webContents.send(EVENT_CHANNEL, message);
      }
    },
    onStateChange: options.onStateChange,
    logger,
    keyring: systemKeyring(),
  });
  ipcMain.handle(CALL_CHANNEL, (event, method: unknown, params: unknown): Promise<ApiResponse<ApiMethod>> | ApiResponse<ApiMethod> => {
    if (!options.isTrustedSender(event)) {
      logger.warn('refused an API call from a page that is not the app', { url: event.senderFrame?.url ?? null });
      return { ok: false, error: { code: HttpErrorCode.forbiddenOrigin, message: 'Only Quorum’s own pages may use its API.' } };
    }
    return supervisor.call(method, params);
  });
  supervisor.start();
  return supervisor;
}

function forkPeer(entry: string, args: string[]): PeerProcess {
  const child = utilityProcess.fork(entry, args, {
    execArgv: [...PEER_NODE_FLAGS],
    serviceName: 'Quorum classroom peer',
    // The peer's JSON log lines go where the app's own output goes.
    stdio: 'inherit',
  });
  return {
    postMessage: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.once('exit', listener),
    kill: () => void child.kill(),
  };
}

/** Electron's safeStorage as sealing needs it; which password store Linux chose matters (see keyringProtects). */
function systemKeyring(): Keyring {
  return {
    isEncryptionAvailable: () => safeStorage.isEncryptionAvailable(),
    ...(process.platform === 'linux' ? { getSelectedStorageBackend: () => safeStorage.getSelectedStorageBackend() } : {}),
    encryptString: (plainText) => safeStorage.encryptString(plainText),
    decryptString: (encrypted) => safeStorage.decryptString(Buffer.from(encrypted)),
  };
}

function currentUserName(): string | null {
  try {
    return userInfo().username;
  } catch {
    // No entry for this user in the system's user database (some containers and managed laptops).
    return null;
  }
}
