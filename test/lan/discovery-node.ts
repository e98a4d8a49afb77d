// A laptop's discovery in a child process, for the LAN tests: runs MdnsDiscovery inside a network
// namespace and speaks JSON lines.
//   argv[2]  JSON MdnsDiscoveryOptions (laptopId, port, interface, classTags, timings)
//   stdout   {"type":"ready"} | {"type":"peer","peer":…} | {"type":"peerLost","lost":…} | {"type":"log",…} | {"type":"peers","peers":[…]}
//   stdin    {"cmd":"setClassTags","classTags":[…]} | {"cmd":"peers"} | {"cmd":"stop"} (stops with a goodbye, then exits)
import { createInterface } from 'node:readline';
import { MdnsDiscovery, type Logger, type MdnsDiscoveryOptions } from '../../electron/peer/discovery';

function send(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const logger: Logger = {
  debug: () => {},
  info: (message, fields) => send({ type: 'log', level: 'info', message, fields }),
  warn: (message, fields) => send({ type: 'log', level: 'warn', message, fields }),
  error: (message, fields) => send({ type: 'log', level: 'error', message, fields }),
};

const options = JSON.parse(process.argv[2] ?? '{}') as MdnsDiscoveryOptions;
const discovery = new MdnsDiscovery({ ...options, logger });
discovery.on('peer', (peer) => send({ type: 'peer', peer }));
discovery.on('peerLost', (lost) => send({ type: 'peerLost', lost }));
await discovery.start();
await discovery.start(); // idempotent
send({ type: 'ready', laptopId: discovery.laptopId });

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { cmd: string; classTags?: string[] };
  if (command.cmd === 'setClassTags') discovery.setClassTags(command.classTags ?? []);
  if (command.cmd === 'peers') send({ type: 'peers', peers: discovery.peers() });
  if (command.cmd === 'stop') {
    await discovery.stop();
    await discovery.stop(); // idempotent
    send({ type: 'stopped' });
    process.exit(0);
  }
}
// stdin closed: the test process is gone. Leave rather than linger in the namespace.
await discovery.stop();
process.exit(0);
