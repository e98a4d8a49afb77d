// Wrapping content keys for readers. A wrap uses the secret the author's and the reader's box
// keys agree on (agreed once per pair), with a key of its own per wrap; it names the author's box
// key, and a reader takes it only from an author key it vouches for. Whatever is wrong with a
// wrap (another reader, another item, another author, a changed byte), it opens to null, never a
// crash. Node 20 hangs for good when a garbage collection finalizes a keygen job while a key it
// made is exported as a JWK (see exportRawPublicKey in electron/peer/transport/identity.ts); the
// first sealing code did just that and hung a leader under load. Keys go through SPKI DER; the
// last test proves it holds.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, PairwiseWrapper } from '../../electron/classroom/sealing/box';
import { contentBinding, keyBinding } from '../../electron/classroom/sealing/items';
import { canonicalJson } from '../../electron/classroom/signing';

const anyAuthor = () => true;
const binding = (item: string) => Buffer.from(`${item} for reader`);

describe('box keys', () => {
  it('wrap a content key for a reader, who alone unwraps it, bound to its associated data', () => {
    const author = new PairwiseWrapper(generateBoxKeyPair());
    const reader = new PairwiseWrapper(generateBoxKeyPair());
    const key = Buffer.alloc(32, 7);
    const wrapped = author.wrap(key, reader.own.publicKey, binding('item-1'));
    expect(Buffer.from(wrapped, 'base64url').byteLength).toBe(92);
    expect(reader.unwrap(wrapped, binding('item-1'), anyAuthor)).toEqual(key);
    expect(reader.unwrap(wrapped, binding('item-2'), anyAuthor)).toBeNull();
    expect(new PairwiseWrapper(generateBoxKeyPair()).unwrap(wrapped, binding('item-1'), anyAuthor)).toBeNull();
    // The author wraps for themselves as for anyone (a teacher's own copy of a grade).
    expect(author.unwrap(author.wrap(key, author.own.publicKey, binding('item-3')), binding('item-3'), anyAuthor)).toEqual(key);
  });

  it('give every wrap its own salt, so two wraps of one key for one reader differ', () => {
    const author = new PairwiseWrapper(generateBoxKeyPair());
    const reader = generateBoxKeyPair();
    const key = Buffer.alloc(32, 9);
    expect(author.wrap(key, reader.publicKey, binding('item-1'))).not.toBe(author.wrap(key, reader.publicKey, binding('item-1')));
  });

  it('name the author’s box key, and open only for an author key the reader vouches for', () => {
    const authorBox = generateBoxKeyPair();
    const author = new PairwiseWrapper(authorBox);
    const reader = new PairwiseWrapper(generateBoxKeyPair());
    const key = Buffer.alloc(32, 3);
    const wrapped = author.wrap(key, reader.own.publicKey, binding('item-1'));
    expect(Buffer.from(wrapped, 'base64url').subarray(1, 33).toString('base64url')).toBe(authorBox.publicKey);
    const asked: string[] = [];
    expect(reader.unwrap(wrapped, binding('item-1'), (authorKey) => (asked.push(authorKey), false))).toBeNull();
    expect(asked).toEqual([authorBox.publicKey]);
    expect(reader.unwrap(wrapped, binding('item-1'), (authorKey) => authorKey === authorBox.publicKey)).toEqual(key);
  });

  it('open to null when the wrap names another author’s key than the one that wrapped it', () => {
    const author = new PairwiseWrapper(generateBoxKeyPair());
    const other = generateBoxKeyPair();
    const reader = new PairwiseWrapper(generateBoxKeyPair());
    const bytes = Buffer.from(author.wrap(Buffer.alloc(32, 1), reader.own.publicKey, binding('item-1')), 'base64url');
    Buffer.from(other.publicKey, 'base64url').copy(bytes, 1);
    expect(reader.unwrap(bytes.toString('base64url'), binding('item-1'), anyAuthor)).toBeNull();
    // A point of low order agrees on no secret: refused, not thrown.
    bytes.fill(0, 1, 33);
    expect(reader.unwrap(bytes.toString('base64url'), binding('item-1'), anyAuthor)).toBeNull();
  });

  it('open to null, never throwing, when any byte of a wrap is changed, cut off or added, or the version is another', () => {
    const author = new PairwiseWrapper(generateBoxKeyPair());
    const reader = new PairwiseWrapper(generateBoxKeyPair());
    const bytes = Buffer.from(author.wrap(Buffer.alloc(32, 5), reader.own.publicKey, binding('item-1')), 'base64url');
    for (let i = 0; i < bytes.byteLength; i++) {
      const changed = Buffer.from(bytes);
      changed[i]! ^= 0x01;
      expect(reader.unwrap(changed.toString('base64url'), binding('item-1'), anyAuthor), `byte ${i}`).toBeNull();
    }
    expect(reader.unwrap(bytes.subarray(0, 91).toString('base64url'), binding('item-1'), anyAuthor)).toBeNull();
    expect(reader.unwrap(Buffer.concat([bytes, Buffer.of(0)]).toString('base64url'), binding('item-1'), anyAuthor)).toBeNull();
    expect(reader.unwrap('not base64 at all!', binding('item-1'), anyAuthor)).toBeNull();
    expect(reader.unwrap('', binding('item-1'), anyAuthor)).toBeNull();
  });

  it('refuse to wrap for something that is not a box key', () => {
    const author = new PairwiseWrapper(generateBoxKeyPair());
    expect(() => author.wrap(Buffer.alloc(32), Buffer.alloc(31).toString('base64url'), binding('item-1'))).toThrow(/not an X25519 public key/);
    expect(() => author.wrap(Buffer.alloc(32), Buffer.alloc(32).toString('base64url'), binding('item-1'))).toThrow(/not an X25519 public key/);
  });

  it('bind items and wrapped keys to exactly the canonical JSON of their fields', () => {
    const address = { classId: 'class-"1"', kind: 'grade' as const, assignmentId: 'lab-0001', studentId: 'student\u00e9', itemId: 'item\\1' };
    expect(Buffer.from(contentBinding(address)).toString()).toBe(`quorum-item-v1\0${canonicalJson(address)}`);
    expect(Buffer.from(keyBinding('class-"1"', 'item\\1', 'user\u2028')).toString()).toBe(
      `quorum-item-key-v1\0${canonicalJson({ classId: 'class-"1"', itemId: 'item\\1', userId: 'user\u2028' })}`,
    );
  });

  it('survive tens of thousands of fresh key pairs wrapping without hanging the process', async () => {
    const script = [
      "import { generateBoxKeyPair, PairwiseWrapper } from './electron/classroom/sealing/box.ts';",
      'const reader = generateBoxKeyPair();',
      "for (let i = 0; i < 30000; i++) new PairwiseWrapper(generateBoxKeyPair()).wrap(Buffer.alloc(32), reader.publicKey, Buffer.from('item'));",
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
