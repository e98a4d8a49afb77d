// The laptop identity: made once, kept private, and the same laptop id on every start.
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IdentityError } from '../../../electron/peer/transport/errors';
import {
  exportRawPublicKey,
  generateIdentity,
  IDENTITY_FILE,
  importRawPublicKey,
  laptopIdFromPublicKey,
  loadOrCreateIdentity,
  verifySignature,
} from '../../../electron/peer/transport/identity';
import type { Logger } from '../../../electron/peer/transport/types';

const directories: string[] = [];
async function dataDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'quorum-identity-'));
  directories.push(directory);
  return directory;
}

afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

const posixOnly = process.platform === 'win32' ? it.skip : it;

describe('loadOrCreateIdentity', () => {
  it('creates a key on first use and returns the same laptop id afterwards', async () => {
    const directory = await dataDir();
    const first = await loadOrCreateIdentity(directory);
    const second = await loadOrCreateIdentity(directory);
    expect(second.laptopId).toBe(first.laptopId);
    expect(second.publicKey).toEqual(first.publicKey);
    expect(await readFile(join(directory, IDENTITY_FILE), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('creates the data directory if needed', async () => {
    const directory = join(await dataDir(), 'nested', 'quorum');
    const identity = await loadOrCreateIdentity(directory);
    expect(identity.laptopId).toHaveLength(26);
  });

  posixOnly('writes the key readable by its owner only', async () => {
    const directory = await dataDir();
    await loadOrCreateIdentity(directory);
    expect((await stat(join(directory, IDENTITY_FILE))).mode & 0o777).toBe(0o600);
  });

  posixOnly('tightens a key file that others can read, and says so', async () => {
    const directory = await dataDir();
    const { laptopId } = await loadOrCreateIdentity(directory);
    await chmod(join(directory, IDENTITY_FILE), 0o644);
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message) => warnings.push(message) };
    expect((await loadOrCreateIdentity(directory, logger)).laptopId).toBe(laptopId);
    expect((await stat(join(directory, IDENTITY_FILE))).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
  });

  it('two processes starting at once agree on one key', async () => {
    const directory = await dataDir();
    const identities = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(directory)));
    expect(new Set(identities.map((identity) => identity.laptopId)).size).toBe(1);
  });

  it('refuses a file that is not an Ed25519 private key', async () => {
    const directory = await dataDir();
    await writeFile(join(directory, IDENTITY_FILE), 'not a key', { mode: 0o600 });
    await expect(loadOrCreateIdentity(directory)).rejects.toBeInstanceOf(IdentityError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' });
    await writeFile(join(directory, IDENTITY_FILE), rsa, { mode: 0o600 });
    await expect(loadOrCreateIdentity(directory)).rejects.toThrow(/ed25519/);
  });
});

describe('laptop ids and signatures', () => {
  it('the laptop id is 26 base32 characters derived from the public key alone', () => {
    const identity = generateIdentity();
    expect(identity.laptopId).toMatch(/^[a-z2-7]{26}$/);
    expect(laptopIdFromPublicKey(identity.publicKey)).toBe(identity.laptopId);
    expect(generateIdentity().laptopId).not.toBe(identity.laptopId);
  });

  it('signatures verify under the right key only', () => {
    const identity = generateIdentity();
    const data = new TextEncoder().encode('transcript');
    const signature = identity.sign(data);
    expect(verifySignature(identity.publicKey, data, signature)).toBe(true);
    expect(verifySignature(generateIdentity().publicKey, data, signature)).toBe(false);
    expect(verifySignature(identity.publicKey, new TextEncoder().encode('other'), signature)).toBe(false);
    expect(verifySignature(new Uint8Array(5), data, signature)).toBe(false);
  });
});

describe('raw public keys', () => {
  it('are the 32 bytes of RFC 8032, and import back to the same key', () => {
    // RFC 8032 section 7.1, test 1: the secret key, as PKCS#8 DER, and its public key.
    const pkcs8 = Buffer.from('302e020100300506032b657004220420' + '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const publicKey = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
    const raw = exportRawPublicKey(publicKey);
    expect(Buffer.from(raw).toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(importRawPublicKey(raw, 'Ed25519').equals(publicKey)).toBe(true);
    const x25519 = generateKeyPairSync('x25519').publicKey;
    expect(importRawPublicKey(exportRawPublicKey(x25519), 'X25519').equals(x25519)).toBe(true);
    expect(() => exportRawPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toThrow(IdentityError);
  });

  // Node 20 hangs for good when a garbage collection finalizes a keygen job while a key it made is
  // being exported as a JWK (see exportRawPublicKey). In a child with a small young generation, the
  // JWK way hangs within these 40 000 key pairs more often than not; the way we use must never hang.
  it('survive thousands of fresh key pairs without hanging the process', async () => {
    const script = [
      "import { generateKeyPairSync } from 'node:crypto';",
      "import { exportRawPublicKey } from './electron/peer/transport/identity.ts';",
      "for (let i = 0; i < 40000; i++) exportRawPublicKey(generateKeyPairSync('x25519').publicKey);",
    ].join('\n');
    const args = ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script];
    const outcome = await new Promise<string>((resolve) => {
      execFile(process.execPath, args, { cwd: join(import.meta.dirname, '../../..'), timeout: 120_000, killSignal: 'SIGKILL' }, (error) =>
        resolve(error ? `failed (${error.killed ? 'hung, killed after 120 s' : error.message})` : 'finished'),
      );
    });
    expect(outcome).toBe('finished');
  }, 150_000);
});
