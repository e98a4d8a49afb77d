// Signed classroom commands. Every command carries its author's Ed25519 public key and a
// signature over a canonical encoding of everything else, so every laptop can check, on its
// own and deterministically, who wrote it: no replica trusts the leader or the laptop that
// forwarded it. A user's id is derived from their public key, as a laptop's is.
import { randomBytes } from 'node:crypto';
import type { LogCommand, SignedCommand } from '../../shared/classroom/commands';
import { laptopIdFromPublicKey, verifySignature, type Identity } from '../peer/transport/identity';

/** Separates these signatures from any other use of the same key. */
const DOMAIN = 'quorum-classroom-command-v1\0';

/** The user id of a base64url raw public key, or null when it is not one. */
export function userIdOf(publicKey: string): string | null {
  const raw = Buffer.from(publicKey, 'base64url');
  if (raw.byteLength !== 32 || raw.toString('base64url') !== publicKey) return null;
  return laptopIdFromPublicKey(raw);
}

/** JSON with object keys sorted at every level: the same value gives the same bytes everywhere. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Exactly what the signature covers. */
export function signedBytes(signed: Omit<SignedCommand, 'signature'>): Uint8Array {
  const { version, classId, publicKey, commandId, clientTime, command } = signed;
  return new TextEncoder().encode(DOMAIN + canonicalJson({ version, classId, publicKey, commandId, clientTime, command }));
}

/** Sign `command` (sealed already where it has private parts) for `classId` as `author` (on the author's laptop, with their key). */
export function signCommand(
  author: Identity,
  classId: string,
  command: LogCommand,
  options: { commandId?: string; clientTime?: number } = {},
): SignedCommand {
  const unsigned = {
    version: '1' as const,
    classId,
    publicKey: Buffer.from(author.publicKey).toString('base64url'),
    commandId: options.commandId ?? randomBytes(12).toString('base64url'),
    clientTime: options.clientTime ?? Date.now(),
    command,
  };
  return { ...unsigned, signature: Buffer.from(author.sign(signedBytes(unsigned))).toString('base64url') };
}

/** The author's user id if the signature is theirs, else null. */
export function verifyCommand(signed: SignedCommand): string | null {
  const userId = userIdOf(signed.publicKey);
  if (!userId) return null;
  const { signature, ...unsigned } = signed;
  const ok = verifySignature(Buffer.from(signed.publicKey, 'base64url'), signedBytes(unsigned), Buffer.from(signature, 'base64url'));
  return ok ? userId : null;
}
