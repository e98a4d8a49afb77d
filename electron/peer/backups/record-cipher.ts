// Sealing and opening the records of a backup file (format in backup-format.ts): AES-256-GCM
// under the passphrase's key, with the header as associated data and the position and final
// flag in the nonce.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { RECORD_FRAME_BYTES, recordNonce, TAG_BYTES, type RecordKind } from './backup-format';

export class RecordSealer {
  private index = 0;

  constructor(
    private readonly key: Buffer,
    private readonly noncePrefix: Buffer,
    private readonly header: Buffer,
  ) {}

  /** The framed record: length, final flag, ciphertext and tag. */
  seal(kind: RecordKind, payload: Uint8Array, final = false): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.key, recordNonce(this.noncePrefix, this.index++, final));
    cipher.setAAD(this.header);
    const body = Buffer.concat([cipher.update(Buffer.of(kind)), cipher.update(payload), cipher.final(), cipher.getAuthTag()]);
    const frame = Buffer.alloc(RECORD_FRAME_BYTES);
    frame.writeUInt32BE(body.byteLength, 0);
    frame[4] = final ? 1 : 0;
    return Buffer.concat([frame, body]);
  }
}

export class RecordOpener {
  private index = 0;

  constructor(
    private readonly key: Buffer,
    private readonly noncePrefix: Buffer,
    private readonly header: Buffer,
  ) {}

  /** The record's kind and payload; throws when it was changed, moved or its flag altered. */
  open(body: Buffer, final: boolean): { kind: number; payload: Buffer } {
    if (body.byteLength < TAG_BYTES + 1) throw new Error('a record too short to hold anything');
    const decipher = createDecipheriv('aes-256-gcm', this.key, recordNonce(this.noncePrefix, this.index++, final));
    decipher.setAAD(this.header);
    decipher.setAuthTag(body.subarray(body.byteLength - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(body.subarray(0, body.byteLength - TAG_BYTES)), decipher.final()]);
    return { kind: plain[0]!, payload: plain.subarray(1) };
  }
}
