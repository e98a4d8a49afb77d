// The laptop's secrets at rest: sealed with the system's keyring when the app has one, in files
// only the user can read otherwise, moved from the second to the first on the app's first start,
// and never silently replaced by a new identity when the keyring cannot open them. Real files; the
// keyring is a stand-in (test-keyring.ts) reached through the real parent port path.
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClassRegistry, newClassSecret } from '../../../electron/peer/class-registry';
import { openSecretVault, SecretVaultError, VAULT_KEY_FILE, type KeySealer, type SecretVault } from '../../../electron/peer/secrets';
import { IDENTITY_FILE, loadOrCreateIdentity } from '../../../electron/peer/transport/identity';
import { recordingLogger } from '../../headless/support';
import { sealerThroughPort, testKeyring, type TestKeyring } from './test-keyring';

const USER_KEY_FILE = 'user-key.pem';
const CLASSES_FILE = 'classes.json';

const cleanUps: (() => void)[] = [];
afterEach(() => {
  for (const cleanUp of cleanUps.splice(0)) cleanUp();
});

function dataDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'quorum-vault-'));
  cleanUps.push(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

function sealer(keyring: TestKeyring | null): KeySealer {
  const through = sealerThroughPort(keyring);
  cleanUps.push(() => through.close());
  return through;
}

interface Laptop {
  vault: SecretVault;
  laptopId: string;
  userKey: string;
  classes: string[];
}

/** What ClassroomPeer.open reads at start-up, from the same vault: both keys and the classes. */
async function startLaptop(directory: string, keySealer: KeySealer | null, addClass?: string): Promise<Laptop> {
  const vault = await openSecretVault({ dataDir: directory, sealer: keySealer, logger: recordingLogger() });
  const identity = await loadOrCreateIdentity(directory, undefined, IDENTITY_FILE, vault);
  const user = await loadOrCreateIdentity(directory, undefined, USER_KEY_FILE, vault);
  const registry = new ClassRegistry(vault);
  if (addClass) registry.add(addClass, newClassSecret(), true);
  return { vault, laptopId: identity.laptopId, userKey: Buffer.from(user.publicKey).toString('hex'), classes: registry.all().map((entry) => entry.name) };
}

/** Every file in the directory with its bytes, to prove a failed start changed nothing. */
function snapshot(directory: string): Record<string, string> {
  return Object.fromEntries(readdirSync(directory).map((name) => [name, readFileSync(join(directory, name)).toString('base64')]));
}

async function startFailure(start: Promise<unknown>): Promise<SecretVaultError> {
  const error = await start.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SecretVaultError);
  return error as SecretVaultError;
}

const posixOnly = process.platform === 'win32' ? it.skip : it;

describe('the headless node: keys in files only its user can read', () => {
  posixOnly('keeps both keys and the classes in plain files of mode 0600, as it always has', async () => {
    const directory = dataDir();
    const first = await startLaptop(directory, null, 'Physics 2B');
    expect(first.vault.protection).toBe('owner-only');
    expect(readdirSync(directory).sort()).toEqual([CLASSES_FILE, IDENTITY_FILE, USER_KEY_FILE]);
    for (const name of [IDENTITY_FILE, USER_KEY_FILE, CLASSES_FILE]) expect(statSync(join(directory, name)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(directory, IDENTITY_FILE), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);

    expect(await startLaptop(directory, null)).toMatchObject({ laptopId: first.laptopId, userKey: first.userKey, classes: ['Physics 2B'] });
  });

  it('refuses keys the app sealed, with a sentence, instead of starting as a new laptop', async () => {
    const directory = dataDir();
    await startLaptop(directory, sealer(testKeyring()), 'Physics 2B');
    const before = snapshot(directory);
    const error = await startFailure(startLaptop(directory, null));
    expect(error.code).toBe('KEYS_SEALED_BY_APP');
    expect(error.message).toMatch(/^This laptop’s Quorum keys are locked .* only the app can open them\./);
    expect(snapshot(directory)).toEqual(before);

    // Even with the vault key gone, the sealed identity is not replaced by a plain one.
    rmSync(join(directory, VAULT_KEY_FILE));
    expect((await startFailure(startLaptop(directory, null))).code).toBe('KEYS_SEALED_BY_APP');
    expect(existsSync(join(directory, IDENTITY_FILE))).toBe(false);
  });
});

describe('the app with a keyring: keys sealed', () => {
  it('writes no key in a form anyone can read: no PEM, no class secret', async () => {
    const directory = dataDir();
    const keyring = testKeyring();
    const laptop = await startLaptop(directory, sealer(keyring), 'Physics 2B');
    expect(laptop.vault.protection).toBe('sealed');
    expect(readdirSync(directory).sort()).toEqual([CLASSES_FILE, IDENTITY_FILE, USER_KEY_FILE].map((name) => `${name}.sealed`).concat(VAULT_KEY_FILE).sort());
    for (const name of [IDENTITY_FILE, USER_KEY_FILE]) {
      const bytes = readFileSync(join(directory, `${name}.sealed`));
      expect(bytes.toString('latin1')).not.toContain('PRIVATE KEY');
      expect(() => createPrivateKey({ key: bytes, format: 'pem' })).toThrow();
      expect(() => createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' })).toThrow();
    }
    const classes = readFileSync(join(directory, `${CLASSES_FILE}.sealed`)).toString('latin1');
    expect(classes).not.toContain('Physics 2B');
    expect(classes).not.toContain('secret');
    // One call to the keyring for the vault key, whatever the number of secrets.
    expect({ seals: keyring.seals, unseals: keyring.unseals }).toEqual({ seals: 1, unseals: 0 });
  });

  it('unseals them on the next start: the same laptop, the same user, the same classes', async () => {
    const directory = dataDir();
    const keyring = testKeyring();
    const first = await startLaptop(directory, sealer(keyring), 'Physics 2B');
    const again = await startLaptop(directory, sealer(testKeyring({ key: keyring.key })), 'Chemistry 1A');
    expect(again).toMatchObject({ laptopId: first.laptopId, userKey: first.userKey, classes: ['Physics 2B', 'Chemistry 1A'] });
    expect(await startLaptop(directory, sealer(testKeyring({ key: keyring.key })))).toMatchObject({
      laptopId: first.laptopId,
      classes: ['Physics 2B', 'Chemistry 1A'],
    });
  });

  it('seals the plain files of an earlier start on its first start, then removes them', async () => {
    const directory = dataDir();
    const plain = await startLaptop(directory, null, 'Physics 2B');
    const plainIdentity = readFileSync(join(directory, IDENTITY_FILE));

    const sealed = await startLaptop(directory, sealer(testKeyring()));
    expect(sealed).toMatchObject({ laptopId: plain.laptopId, userKey: plain.userKey, classes: ['Physics 2B'] });
    expect(readdirSync(directory).sort()).toEqual([`${CLASSES_FILE}.sealed`, `${IDENTITY_FILE}.sealed`, `${USER_KEY_FILE}.sealed`, VAULT_KEY_FILE]);
    expect(readFileSync(join(directory, `${IDENTITY_FILE}.sealed`)).includes(plainIdentity)).toBe(false);
  });

  it('finishes a migration a crash interrupted: the sealed copy wins and the plain leftover goes', async () => {
    const directory = dataDir();
    const plain = await startLaptop(directory, null);
    const plainIdentity = readFileSync(join(directory, IDENTITY_FILE));
    const keyring = testKeyring();
    await startLaptop(directory, sealer(keyring));
    // As a crash leaves it: the sealed copy durable, the plain file not yet removed.
    writeFileSync(join(directory, IDENTITY_FILE), plainIdentity, { mode: 0o600 });
    expect((await startLaptop(directory, sealer(testKeyring({ key: keyring.key })))).laptopId).toBe(plain.laptopId);
    expect(existsSync(join(directory, IDENTITY_FILE))).toBe(false);
  });

  it('stops with a sentence when another user’s keyring (or a reset one) cannot open the keys, and changes nothing', async () => {
    const directory = dataDir();
    await startLaptop(directory, sealer(testKeyring()), 'Physics 2B');
    const before = snapshot(directory);
    const error = await startFailure(startLaptop(directory, sealer(testKeyring())));
    expect(error.code).toBe('KEYS_NOT_OURS');
    expect(error.message).toMatch(/^Quorum cannot unlock this laptop’s keys: they were locked by another user account on this computer, or the computer’s keyring was reset since\. Nothing was changed\./);
    expect(snapshot(directory)).toEqual(before);
  });

  it.each<[string, TestKeyring]>([
    ['the keyring is not available', testKeyring({ available: false })],
    ['Linux would fall back to its built-in password (basic_text)', testKeyring({ backend: 'basic_text' })],
  ])('stops with a sentence when %s later, and changes nothing', async (_, later) => {
    const directory = dataDir();
    await startLaptop(directory, sealer(testKeyring({ key: later.key, backend: 'gnome_libsecret' })));
    const before = snapshot(directory);
    const error = await startFailure(startLaptop(directory, sealer(later)));
    expect(error.code).toBe('KEYRING_UNAVAILABLE');
    expect(error.message).toMatch(/^Quorum locked this laptop’s keys with the computer’s keyring, but the keyring cannot be used right now\./);
    expect(snapshot(directory)).toEqual(before);
  });

  it('refuses a sealed file that was damaged or put in another key’s place', async () => {
    const directory = dataDir();
    const keyring = testKeyring();
    await startLaptop(directory, sealer(keyring));
    renameSync(join(directory, `${USER_KEY_FILE}.sealed`), join(directory, `${IDENTITY_FILE}.sealed`));
    expect((await startFailure(startLaptop(directory, sealer(testKeyring({ key: keyring.key }))))).code).toBe('KEY_FILE_DAMAGED');
    writeFileSync(join(directory, `${IDENTITY_FILE}.sealed`), 'QSV1 and then not much');
    const error = await startFailure(startLaptop(directory, sealer(testKeyring({ key: keyring.key }))));
    expect(error.code).toBe('KEY_FILE_DAMAGED');
    expect(error.message).toMatch(/damaged or was copied from another laptop\. Nothing was changed\./);
  });

  it('two processes starting at once agree on one vault key and one laptop', async () => {
    const directory = dataDir();
    const keyring = testKeyring();
    const laptops = await Promise.all(Array.from({ length: 6 }, () => startLaptop(directory, sealer(testKeyring({ key: keyring.key })))));
    expect(new Set(laptops.map((laptop) => laptop.laptopId)).size).toBe(1);
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

describe('the app without a usable keyring', () => {
  it.each<[string, TestKeyring]>([
    ['none is available', testKeyring({ available: false })],
    ['Linux has only its built-in password (basic_text)', testKeyring({ backend: 'basic_text' })],
  ])('keeps plain owner-only files when %s, and seals them once a keyring appears', async (_, none) => {
    const directory = dataDir();
    const plain = await startLaptop(directory, sealer(none));
    expect(plain.vault.protection).toBe('owner-only');
    expect(existsSync(join(directory, VAULT_KEY_FILE))).toBe(false);
    expect(readFileSync(join(directory, IDENTITY_FILE), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(none.seals).toBe(0);

    const sealed = await startLaptop(directory, sealer(testKeyring({ backend: 'kwallet6' })));
    expect(sealed.vault.protection).toBe('sealed');
    expect(sealed.laptopId).toBe(plain.laptopId);
    expect(existsSync(join(directory, IDENTITY_FILE))).toBe(false);
  });
});
