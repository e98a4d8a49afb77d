// Secrets in plain files only this computer user may read (mode 0600): what the headless node
// has always done, so existing data directories keep working, and what the app falls back to on
// a system without a keyring. (On Windows, modes are not enforced; the user's profile folder is
// private to the user.)
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../transport/types';
import { readIfExists, replaceFile, writeNewFile } from './durable-files';
import { SEALED_SUFFIX, vaultError, type SecretVault } from './secret-vault';

export class FileVault implements SecretVault {
  readonly protection = 'owner-only';

  constructor(
    private readonly dataDir: string,
    private readonly logger?: Logger,
  ) {}

  read(name: string): Uint8Array | null {
    const path = join(this.dataDir, name);
    const bytes = guarded(() => readIfExists(path));
    if (bytes === null) {
      this.refuseIfSealed(name);
      return null;
    }
    if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
      guarded(() => chmodSync(path, 0o600));
      this.logger?.warn('a key file was readable by others; restricted it to its owner', { path });
    }
    return new Uint8Array(bytes);
  }

  readOrCreate(name: string, secret: Uint8Array): Uint8Array {
    const stored = this.read(name);
    if (stored) return stored;
    guarded(() => {
      mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
      writeNewFile(join(this.dataDir, name), secret);
    });
    // Read back what is on disk: if another process won the race, its secret is the one.
    return this.read(name) ?? secret;
  }

  replace(name: string, secret: Uint8Array): void {
    this.refuseIfSealed(name);
    guarded(() => {
      mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
      replaceFile(join(this.dataDir, name), secret);
    });
  }

  /** A sealed copy and no plain one: the app sealed it. Starting afresh here would make this laptop someone new. */
  private refuseIfSealed(name: string): void {
    if (existsSync(join(this.dataDir, name + SEALED_SUFFIX))) throw vaultError('KEYS_SEALED_BY_APP', { name });
  }
}

/** Runs a file operation; what the operating system refuses becomes a sentence, with its detail kept as the cause. */
export function guarded<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw vaultError('KEY_FILE_UNREADABLE', error);
  }
}
