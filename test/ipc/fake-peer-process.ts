// A peer process for the main-process tests: records what main posts (cloned, as Electron's
// postMessage clones) and lets the test answer, send events and end the process.
import type { PeerProcess } from '../../electron/ipc/peer-supervisor';
import type { MainToPeerMessage } from '../../electron/ipc/peer-port-protocol';

export class FakePeerProcess implements PeerProcess {
  readonly posted: MainToPeerMessage[] = [];
  kills = 0;
  exited = false;
  private messageListeners: ((message: unknown) => void)[] = [];
  private exitListeners: ((code: number | null) => void)[] = [];

  postMessage(message: MainToPeerMessage): void {
    // Electron drops what is posted to a process that is gone.
    if (!this.exited) this.posted.push(structuredClone(message));
  }

  onMessage(listener: (message: unknown) => void): void {
    this.messageListeners.push(listener);
  }

  onExit(listener: (code: number | null) => void): void {
    this.exitListeners.push(listener);
  }

  kill(): void {
    this.kills++;
  }

  /** The process sends `message` to main. */
  send(message: unknown): void {
    for (const listener of this.messageListeners) listener(structuredClone(message));
  }

  /** Answers the call with this id with `result`. */
  answer(id: number, result: unknown): void {
    this.send({ type: 'response', id, ok: true, result });
  }

  /** The calls main sent, in order. */
  calls(): Extract<MainToPeerMessage, { type: 'call' }>[] {
    return this.posted.filter((message): message is Extract<MainToPeerMessage, { type: 'call' }> => message.type === 'call');
  }

  exit(code: number | null = 0): void {
    this.exited = true;
    for (const listener of this.exitListeners) listener(code);
  }
}
