// Wrapping content keys for readers: each wrap makes a fresh X25519 key pair. Node 20 hangs for
// good when a garbage collection finalizes a keygen job while a key it made is exported as a JWK
// (see exportRawPublicKey in electron/peer/transport/identity.ts); the first sealing code did just
// that and hung a leader under load. Keys go through SPKI DER now; this proves it holds.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, unwrapKey, wrapKey } from '../../electron/classroom/sealing/box';

describe('box keys', () => {
  it('wrap a content key for a reader, who alone unwraps it, bound to its associated data', () => {
    const reader = generateBoxKeyPair();
    const key = Buffer.alloc(32, 7);
    const wrapped = wrapKey(key, reader.publicKey, Buffer.from('item-1 for reader'));
    expect(unwrapKey(wrapped, reader, Buffer.from('item-1 for reader'))).toEqual(key);
    expect(unwrapKey(wrapped, reader, Buffer.from('item-2 for reader'))).toBeNull();
    expect(unwrapKey(wrapped, generateBoxKeyPair(), Buffer.from('item-1 for reader'))).toBeNull();
  });

  it('survive tens of thousands of wraps without hanging the process', async () => {
    const script = [
      "import { generateBoxKeyPair, wrapKey } from './electron/classroom/sealing/box.ts';",
      'const reader = generateBoxKeyPair();',
      "for (let i = 0; i < 30000; i++) wrapKey(Buffer.alloc(32), reader.publicKey, Buffer.from('item'));",
    ].join('\n');
    const args = ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script];
    const outcome = await new Promise<string>((resolve) => {
      execFile(process.execPath, args, { cwd: join(import.meta.dirname, '../..'), timeout: 120_000, killSignal: 'SIGKILL' }, (error) =>
        resolve(error ? `failed (${error.killed ? 'hung, killed after 120 s' : error.message})` : 'finished'),
      );
    });
    expect(outcome).toBe('finished');
  }, 150_000);
});
