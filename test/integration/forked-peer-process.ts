// The peer as Electron's utilityProcess would run it, for tests under plain Node: the headless
// node's entry forked behind a shim that plays the parent port (fixtures/utility-process-shim.ts),
// wrapped as the PeerProcess the supervisor starts.
import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { PEER_NODE_FLAGS } from '../../electron/headless/runtime-flags';
import type { PeerProcess } from '../../electron/ipc/peer-supervisor';

const ROOT = resolve(import.meta.dirname, '../..');
const SHIM = join(ROOT, 'test/integration/fixtures/utility-process-shim.ts');

export interface ForkedOutput {
  /** Every child forked, for the test's clean-up. */
  children: ChildProcess[];
  stdout?: string[];
  stderr?: string[];
}

/** Fork the peer with `args` (the headless node's command line); its output goes to `output`. */
export function forkPeerProcess(args: string[], output: ForkedOutput): PeerProcess {
  const child = fork(SHIM, args, {
    cwd: ROOT,
    execArgv: [...PEER_NODE_FLAGS, '--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout!.on('data', (chunk: Buffer) => output.stdout?.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.stderr?.push(chunk.toString()));
  output.children.push(child);
  return {
    postMessage: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.once('exit', (code) => listener(code)),
    kill: () => void child.kill('SIGTERM'),
  };
}
