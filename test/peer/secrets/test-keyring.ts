// Stand-ins for the system's keyring in tests. The test is not about the operating system's
// crypto: `testKeyring` seals like Electron's safeStorage would, with AES-256-GCM under a key that
// plays the computer user's keyring (another key: another user, or a keyring reset).
// `sealerThroughPort` is the peer's real way to it: PortKeySealer → a parent port (structured
// clones, as Electron's) → the main process's real PeerRelay, which answers with the keyring.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { PortServer } from '../../../electron/headless/port-server';
import type { Keyring } from '../../../electron/ipc/key-sealing-service';
import { PeerRelay } from '../../../electron/ipc/peer-relay';
import type { KeySealer } from '../../../electron/peer/secrets';
import { silentLogger } from '../../../electron/peer/transport/types';

export interface TestKeyringOptions {
  /** The keyring's own key: the same key, the same computer user. Default: a fresh one. */
  key?: Uint8Array;
  /** What isEncryptionAvailable says; default true. */
  available?: boolean;
  /** On "Linux", the password store Electron chose; default none (as on Windows and macOS). */
  backend?: string;
}

export type TestKeyring = Keyring & { key: Uint8Array; seals: number; unseals: number };

export function testKeyring(options: TestKeyringOptions = {}): TestKeyring {
  const key = options.key ?? new Uint8Array(randomBytes(32));
  const keyring: TestKeyring = {
    key,
    seals: 0,
    unseals: 0,
    isEncryptionAvailable: () => options.available ?? true,
    ...(options.backend !== undefined ? { getSelectedStorageBackend: () => options.backend! } : {}),
    encryptString(plainText) {
      keyring.seals++;
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
      return new Uint8Array(Buffer.concat([nonce, cipher.getAuthTag(), body]));
    },
    decryptString(encrypted) {
      keyring.unseals++;
      const bytes = Buffer.from(encrypted);
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      // Throws as safeStorage does when the bytes were sealed by another keyring.
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
  return keyring;
}

/** The peer's sealer as the app wires it, with `keyring` in the main process; `close` ends the port. */
export function sealerThroughPort(keyring: Keyring | null): KeySealer & { close(): void } {
  const parentPort = Object.assign(new EventEmitter(), { postMessage: (_message: unknown) => {} });
  const portServer = new PortServer({ port: parentPort, logger: silentLogger, onStop: () => {} });
  const relay = new PeerRelay({
    post: (message) => setImmediate(() => parentPort.emit('message', { data: structuredClone(message) })),
    onEvent: () => {},
    onReady: () => {},
    logger: silentLogger,
    timeoutMs: 5_000,
    keyring,
  });
  parentPort.postMessage = (message) => setImmediate(() => relay.receive(structuredClone(message)));
  return {
    seal: (secret) => portServer.sealer.seal(secret),
    unseal: (sealed) => portServer.sealer.unseal(sealed),
    close: () => portServer.close(),
  };
}
