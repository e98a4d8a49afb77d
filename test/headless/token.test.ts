// The API token: made once, owner-only, the same on every later start.
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateToken, loadOrCreateToken, TOKEN_FILE, TokenFileError } from '../../electron/headless/token';

const directories: string[] = [];
async function dataDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'quorum-token-'));
  directories.push(directory);
  return directory;
}

afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

const onPosix = process.platform !== 'win32';

describe('loadOrCreateToken', () => {
  it('makes 32 random bytes in base64url, different every time', () => {
    const tokens = new Set(Array.from({ length: 50 }, generateToken));
    expect(tokens.size).toBe(50);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    }
  });

  it('creates the file on first run, owner-only, and reuses it after', async () => {
    const directory = await dataDir();
    const first = await loadOrCreateToken(directory);
    expect(first).toMatchObject({ created: true, path: join(directory, TOKEN_FILE), permissionsTightened: false });
    expect((await readFile(first.path, 'utf8')).trim()).toBe(first.token);
    if (onPosix) expect((await stat(first.path)).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateToken(directory);
    expect(second).toMatchObject({ token: first.token, created: false, permissionsTightened: false });
    // No temporary files are left behind.
    expect(await readdir(directory)).toEqual([TOKEN_FILE]);
  });

  it('creates the data directory when it is missing', async () => {
    const directory = join(await dataDir(), 'nested', 'node');
    const loaded = await loadOrCreateToken(directory);
    expect(loaded.created).toBe(true);
    if (onPosix) expect((await stat(directory)).mode & 0o777).toBe(0o700);
  });

  it('gives one token to nodes starting together on the same directory', async () => {
    const directory = await dataDir();
    const loaded = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateToken(directory)));
    expect(new Set(loaded.map((entry) => entry.token)).size).toBe(1);
    expect(loaded.filter((entry) => entry.created)).toHaveLength(1);
    expect(await readdir(directory)).toEqual([TOKEN_FILE]);
  });

  it.runIf(onPosix)('makes a widened file owner-only again', async () => {
    const directory = await dataDir();
    const { path, token } = await loadOrCreateToken(directory);
    await chmod(path, 0o644);
    expect(await loadOrCreateToken(directory)).toMatchObject({ token, permissionsTightened: true });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it.each(['', 'short', `${'a'.repeat(43)}=`, 'a'.repeat(44), `${'a'.repeat(42)}!`])('refuses a damaged file holding %j', async (content) => {
    const directory = await dataDir();
    await writeFile(join(directory, TOKEN_FILE), content);
    await expect(loadOrCreateToken(directory)).rejects.toThrow(TokenFileError);
    await expect(loadOrCreateToken(directory)).rejects.toThrow(/delete it and a new token will be made/);
  });
});
