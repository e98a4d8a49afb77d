// Files going into and out of the class: an upload in parts to this laptop's Quorum service
// (which keeps it and hands it to the class with the work that refers to it), and a download
// in parts, fetched from another laptop first when this one does not have it.
import type { FileRef } from '../../../shared/classroom/commands';
import { LIMITS } from '../../../shared/classroom/commands';
import { downloadBytes } from '../lib/download';
import { explainError } from '../lib/errors';
import { session } from './session.svelte';

/** Bytes per request: well under the API's 1 MiB body once in base64. */
const PART_BYTES = 384 * 1024;
/** The limits are in binary megabytes: 50 of them, not 52.4 decimal ones. */
const MEBIBYTE = 1024 * 1024;

export class FileManager {
  /** An upload under way: its name and how far it got (0 to 1), for a progress bar. */
  uploading = $state<{ name: string; done: number } | null>(null);

  /** Keep `file` on this laptop; its reference goes into a command. Throws a sentence on failure. */
  async upload(file: File): Promise<FileRef> {
    // The sealed copy of a student's file is a little larger: the peer refuses above attachmentBytes.
    if (file.size > LIMITS.attachmentBytes) {
      throw new Error(`“${file.name}” is ${(file.size / MEBIBYTE).toFixed(1)} MB; files can be at most ${(LIMITS.attachmentBytes / MEBIBYTE).toFixed(0)} MB.`);
    }
    const methods = session.client.methods;
    this.uploading = { name: file.name, done: 0 };
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const { uploadId } = await methods.startUpload({ name: file.name, type: file.type || 'application/octet-stream', size: bytes.byteLength });
      for (let offset = 0; offset < bytes.byteLength; offset += PART_BYTES) {
        await methods.uploadChunk({ uploadId, offset, data: toBase64(bytes.subarray(offset, offset + PART_BYTES)) });
        this.uploading = { name: file.name, done: Math.min(1, (offset + PART_BYTES) / bytes.byteLength) };
      }
      return await methods.finishUpload({ uploadId });
    } catch (error) {
      throw new Error(explainError(error));
    } finally {
      this.uploading = null;
    }
  }

  /** Save `file` of the open class to the downloads folder. Returns a sentence on failure, else null. */
  async download(file: FileRef): Promise<string | null> {
    const classId = session.selectedClassId;
    if (!classId) return 'Open a class first.';
    try {
      const parts: Uint8Array[] = [];
      for (let offset = 0; offset < file.size || (offset === 0 && file.size === 0); offset += PART_BYTES) {
        const part = await session.client.methods.readFile({ classId, sha256: file.sha256, offset, length: PART_BYTES });
        parts.push(fromBase64(part.data));
        if (file.size === 0) break;
      }
      downloadBytes(file.name, parts, file.type);
      return null;
    } catch (error) {
      return explainError(error);
    }
  }
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(data: string): Uint8Array {
  const text = atob(data);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export const files = new FileManager();
