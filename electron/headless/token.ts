// The API token: whoever has it can act as this laptop's user, so it is random, kept in the data
// directory readable by its owner only, and the same across restarts (a browser tab keeps working).
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file in the data directory that holds the token. */
export const TOKEN_FILE = 'api-token';
const TOKEN_BYTES = 32;
/** 32 bytes in base64url without padding: 43 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The token file exists but does not hold a token. */
export class TokenFileError extends Error {
  constructor(readonly path: string) {
    super(`${path} does not hold an API token; delete it and a new token will be made`);
    this.name = 'TokenFileError';
  }
}

export interface LoadedToken {
  token: string;
  /** Where it is kept. */
  path: string;
  /** True when this call made it (first run). */
  created: boolean;
  /** True when the file was readable by others and this call made it owner-only again. */
  permissionsTightened: boolean;
}

/** A fresh token: 32 random bytes in base64url. */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Reads `<dataDir>/api-token`, or makes it (mode 0600) on first run. Throws TokenFileError for a damaged file. */
export async function loadOrCreateToken(dataDir: string): Promise<LoadedToken> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, TOKEN_FILE);
  const existing = await readExisting(path);
  if (existing !== null) return { token: existing, path, created: false, permissionsTightened: await tightenPermissions(path) };

  // Written whole under a temporary name, then linked into place: another node starting on the
  // same directory at the same moment either wins the link or reads the winner's token, and
  // nobody ever reads a half-written file.
  const token = generateToken();
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, `${token}\n`, { mode: 0o600, flag: 'wx', flush: true });
  try {
    await link(temporary, path);
    return { token, path, created: true, permissionsTightened: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readExisting(path);
    if (winner === null) throw error;
    return { token: winner, path, created: false, permissionsTightened: false };
  } finally {
    await unlink(temporary).catch(() => {});
  }
}

async function readExisting(path: string): Promise<string | null> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const token = content.trim();
  if (!TOKEN_PATTERN.test(token)) throw new TokenFileError(path);
  return token;
}

/** Makes the file owner-only if someone widened it; Windows has no such mode bits. */
async function tightenPermissions(path: string): Promise<boolean> {
  if (process.platform === 'win32') return false;
  const { mode } = await stat(path);
  if ((mode & 0o077) === 0) return false;
  await chmod(path, 0o600);
  return true;
}
