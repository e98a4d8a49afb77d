// The `quorum-node` entry (`npm run headless -- --data-dir <dir> ...`): the real peer behind the
// command line of cli.ts. Everything else lives there, where tests can reach it. The desktop app
// starts this same file in an Electron utilityProcess; there `process.parentPort` exists and the
// API is served over it instead of HTTP.
import { join } from 'node:path';
import { ClassroomPeer } from '../peer/classroom-peer';
import { runCli } from './cli';
import { utilityParentPort } from './port-server';

const code = await runCli(process.argv.slice(2), {
  openPeer: (options) => ClassroomPeer.open(options),
  // The renderer electron-vite builds (`npm run build`), if there is one.
  defaultStaticDir: join(import.meta.dirname, '../../out/renderer'),
  parentPort: utilityParentPort(),
});
// Explicit: a timer or socket some library forgot must not keep a stopped node alive.
process.exit(code);
