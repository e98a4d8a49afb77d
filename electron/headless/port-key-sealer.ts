// The system's keyring for a peer in the app's utilityProcess: each seal or unseal goes to the main
// process as a request on the parent port (electron/ipc/key-sealing-protocol.ts), which answers
// with Electron's safeStorage. The port server hands the answers back here.
import { SealErrorCode, type SealAnswerMessage, type SealRequestMessage } from '../ipc/key-sealing-protocol';
import { KeySealerError, type KeySealer } from '../peer/secrets';

interface PendingRequest {
  resolve(bytes: Uint8Array): void;
  reject(error: KeySealerError): void;
}

// No time limit: on macOS the keychain may be asking the person at the laptop whether Quorum may
// use its key, and that takes as long as it takes. A port that closes ends every request.
export class PortKeySealer implements KeySealer {
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 1;
  private closed = false;

  /** `post` sends a request to the main process; false when it could not be sent. */
  constructor(private readonly post: (request: SealRequestMessage) => boolean) {}

  seal(secret: Uint8Array): Promise<Uint8Array> {
    return this.request('seal', secret);
  }

  unseal(sealed: Uint8Array): Promise<Uint8Array> {
    return this.request('unseal', sealed);
  }

  /** An answer from the main process; one to no request in flight is ignored. */
  receive(answer: SealAnswerMessage): void {
    const request = this.pending.get(answer.id);
    if (!request) return;
    this.pending.delete(answer.id);
    if (answer.ok) {
      request.resolve(new Uint8Array(Buffer.from(answer.data, 'base64')));
    } else {
      const failure = answer.error.code === SealErrorCode.unavailable ? 'unavailable' : 'refused';
      request.reject(new KeySealerError(failure, answer.error.message));
    }
  }

  /** The port is gone: every request in flight, and every later one, fails. */
  close(): void {
    this.closed = true;
    for (const request of this.pending.values()) request.reject(gone());
    this.pending.clear();
  }

  private request(operation: 'seal' | 'unseal', bytes: Uint8Array): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(gone());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (!this.post({ type: 'seal', id, operation, data: Buffer.from(bytes).toString('base64') })) {
        this.pending.delete(id);
        reject(gone());
      }
    });
  }
}

function gone(): KeySealerError {
  return new KeySealerError('gone', 'The app closed its connection to the classroom service.');
}
