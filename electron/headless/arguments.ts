// The `quorum-node` command line: the options, their usage text, and the parser that checks them.
// It reads text only: no file system, no network, so every rule is a table test away.
import { isIP } from 'node:net';
import { isLogLevel, logLevels, type LogLevel } from './logger';

/** The command line, parsed and checked. */
export interface CliOptions {
  dataDir: string;
  /** Null: the computer's host name. */
  name: string | null;
  host: string;
  port: number;
  apiHost: string;
  apiPort: number;
  createClass: string | null;
  join: string | null;
  peers: string[];
  discovery: boolean;
  mdnsInterface: string | null;
  logLevel: LogLevel;
  /** Null: the default (out/renderer) when it exists. */
  staticDir: string | null;
  /** Serve the API over HTTP even under the desktop app (without the app, HTTP is the only way in). */
  httpApi: boolean;
  /**
   * Snapshot each class after this many applied entries instead of the peer's default. For tests
   * that need snapshots (and snapshot installs) to happen often; absent unless given.
   */
  snapshotEvery?: number;
  /** How long a "minute" of the backup schedule lasts, for tests; absent unless given (a real minute). */
  backupMinuteMs?: number;
  /** Act as a Quorum that knows class rules up to this, for tests of laptops on different versions; absent unless given. */
  classRules?: number;
}

export type ParsedArguments = { kind: 'run'; options: CliOptions } | { kind: 'help' } | { kind: 'error'; message: string };

export const USAGE = `Usage: quorum-node --data-dir <dir> [options]
   or: npm run headless -- --data-dir <dir> [options]

Runs a Quorum classroom peer without a window and serves its API (and the UI, when built) over HTTP.

Options:
  --data-dir <dir>         where this laptop keeps its identity, classes and API token (required)
  --name <name>            the name other laptops see (default: this computer's host name)
  --host <address>         address the peer listens on for other laptops (default 0.0.0.0)
  --port <port>            port for other laptops; 0 picks a free one (default 0)
  --api-host <address>     address of the API and UI (default 127.0.0.1: this computer only)
  --api-port <port>        port of the API and UI; 0 picks a free one (default 0)
  --create-class <name>    create a class and print its join code (a new class on every start)
  --join <join code>       join the class whose teacher gave this code
  --peer <address>         another laptop as LAPTOPID@host:port, where multicast is blocked (repeatable)
  --no-discovery           do not look for other laptops on the network (mDNS)
  --mdns-interface <ip>    the address of the network interface to use for mDNS
  --log-level <level>      ${logLevels.join(', ')} (default info)
  --static-dir <dir>       the built UI to serve at / (default out/renderer when it exists)
  --http-api               under the desktop app, serve the API over HTTP too (the app itself
                           needs no HTTP; run on its own, the node always serves HTTP)
  --snapshot-every <n>     for tests: snapshot a class and compact its log once n entries were
                           applied since the last snapshot (default 10000); small values make
                           snapshots, and sending them to laptops that fell behind, frequent
  --backup-minute-ms <n>   for tests: a minute of the backup schedule lasts n ms (1000 to 60000)
  --class-rules <n>        for tests: act as a Quorum that knows class rules up to n (1 to 99),
                           to try laptops on different versions of Quorum side by side
  --help                   show this text

stdout has one line per milestone, a word and a JSON object:
  quorum-node ready {"api":"http://127.0.0.1:PORT","token":"...","laptopId":"...","address":"LAPTOPID@host:port"}
  quorum-node class {"classId":"...","joinCode":"..."}
  quorum-node joined {"classId":"..."}
Logs go to stderr, one JSON object per line. SIGINT or SIGTERM stops the node gracefully
(it hands over leadership first); a second signal stops it at once.
The desktop app runs this same command in an Electron utilityProcess: there the API goes over the
app's message port, a stop message from the app works like a signal, and the ready line is
printed only when --http-api serves HTTP too.
`;

interface OptionSpec {
  /** Takes a value (`--name x` or `--name=x`), or is a flag. */
  takesValue: boolean;
  repeatable?: boolean;
}

const OPTION_SPECS: Record<string, OptionSpec> = {
  'data-dir': { takesValue: true },
  name: { takesValue: true },
  host: { takesValue: true },
  port: { takesValue: true },
  'api-host': { takesValue: true },
  'api-port': { takesValue: true },
  'create-class': { takesValue: true },
  join: { takesValue: true },
  peer: { takesValue: true, repeatable: true },
  'no-discovery': { takesValue: false },
  'mdns-interface': { takesValue: true },
  'log-level': { takesValue: true },
  'static-dir': { takesValue: true },
  'http-api': { takesValue: false },
  'snapshot-every': { takesValue: true },
  'backup-minute-ms': { takesValue: true },
  'class-rules': { takesValue: true },
  help: { takesValue: false },
};

/** `[LAPTOPID@]host:port` with host a name, an IPv4 address or a bracketed IPv6 address. */
const PEER_ADDRESS = /^(?:[^\s@]+@)?(?:\[[0-9A-Fa-f:.]+\]|[^\s@:[\]]+):(\d{1,5})$/;

/** Reads the command line; never throws, never touches the file system. */
export function parseArguments(argv: readonly string[]): ParsedArguments {
  // Asking for help wins over any mistake next to it.
  if (argv.includes('--help')) return { kind: 'help' };
  const values = new Map<string, string[]>();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (!argument.startsWith('--') || argument === '--') return { kind: 'error', message: `unexpected argument ${JSON.stringify(argument)}` };
    const equals = argument.indexOf('=');
    const name = argument.slice(2, equals < 0 ? undefined : equals);
    const spec = Object.hasOwn(OPTION_SPECS, name) ? OPTION_SPECS[name] : undefined;
    if (!spec) return { kind: 'error', message: `unknown option --${name}` };
    let value: string;
    if (!spec.takesValue) {
      if (equals >= 0) return { kind: 'error', message: `--${name} takes no value` };
      value = '';
    } else if (equals >= 0) {
      value = argument.slice(equals + 1);
    } else {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--')) return { kind: 'error', message: `--${name} needs a value` };
      value = next;
      index++;
    }
    const seen = values.get(name) ?? [];
    if (seen.length > 0 && !spec.repeatable) return { kind: 'error', message: `--${name} was given more than once` };
    values.set(name, [...seen, value]);
  }
  try {
    const flags = { noDiscovery: values.has('no-discovery'), httpApi: values.has('http-api') };
    return { kind: 'run', options: checkOptions((name) => values.get(name)?.[0], values.get('peer') ?? [], flags) };
  } catch (error) {
    if (error instanceof UsageError) return { kind: 'error', message: error.message };
    throw error;
  }
}

class UsageError extends Error {}

function checkOptions(
  value: (name: string) => string | undefined,
  peers: string[],
  { noDiscovery, httpApi }: { noDiscovery: boolean; httpApi: boolean },
): CliOptions {
  const dataDir = value('data-dir');
  if (dataDir === undefined) throw new UsageError('--data-dir is required: the directory where this laptop keeps its identity and classes');
  const mdnsInterface = value('mdns-interface');
  if (mdnsInterface !== undefined && noDiscovery) throw new UsageError('--mdns-interface has no use with --no-discovery');
  if (mdnsInterface !== undefined && isIP(mdnsInterface) === 0) {
    throw new UsageError(`--mdns-interface takes the IP address of a network interface (e.g. 192.168.1.20), not ${JSON.stringify(mdnsInterface)}`);
  }
  const logLevel = value('log-level') ?? 'info';
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be ${logLevels.join(', ')}, not ${JSON.stringify(logLevel)}`);
  for (const peer of peers) {
    const match = PEER_ADDRESS.exec(peer.trim());
    const port = match ? Number(match[1]) : 0;
    if (port < 1 || port > 65_535) throw new UsageError(`--peer takes an address like LAPTOPID@192.168.1.20:4242, not ${JSON.stringify(peer)}`);
  }
  const snapshotEvery = value('snapshot-every');
  const backupMinuteMs = value('backup-minute-ms');
  const classRules = value('class-rules');
  return {
    dataDir: nonEmpty('data-dir', dataDir),
    name: optionalNonEmpty('name', value('name')),
    host: address('host', value('host') ?? '0.0.0.0'),
    port: port('port', value('port') ?? '0'),
    apiHost: address('api-host', value('api-host') ?? '127.0.0.1'),
    apiPort: port('api-port', value('api-port') ?? '0'),
    createClass: optionalNonEmpty('create-class', value('create-class')),
    join: optionalNonEmpty('join', value('join')),
    peers: peers.map((peer) => peer.trim()),
    discovery: !noDiscovery,
    mdnsInterface: mdnsInterface ?? null,
    logLevel,
    staticDir: optionalNonEmpty('static-dir', value('static-dir')),
    httpApi,
    ...(snapshotEvery === undefined ? {} : { snapshotEvery: entryCount('snapshot-every', snapshotEvery) }),
    ...(backupMinuteMs === undefined ? {} : { backupMinuteMs: minuteLength(backupMinuteMs) }),
    ...(classRules === undefined ? {} : { classRules: rulesVersion(classRules) }),
  };
}

function nonEmpty(name: string, text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError(`--${name} may not be empty`);
  return trimmed;
}

function optionalNonEmpty(name: string, text: string | undefined): string | null {
  return text === undefined ? null : nonEmpty(name, text);
}

function port(name: string, text: string): number {
  const number = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(number >= 0 && number <= 65_535)) throw new UsageError(`--${name} must be a port number from 0 to 65535, not ${JSON.stringify(text)}`);
  return number;
}

function entryCount(name: string, text: string): number {
  const number = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(number >= 1)) throw new UsageError(`--${name} must be a number of log entries from 1 to 9999999, not ${JSON.stringify(text)}`);
  return number;
}

function rulesVersion(text: string): number {
  const number = /^\d{1,2}$/.test(text) ? Number(text) : NaN;
  if (!(number >= 1)) throw new UsageError(`--class-rules must be a rules version from 1 to 99, not ${JSON.stringify(text)}`);
  return number;
}

function minuteLength(text: string): number {
  const number = /^\d{4,5}$/.test(text) ? Number(text) : NaN;
  if (!(number >= 1000 && number <= 60_000)) throw new UsageError(`--backup-minute-ms must be a number of milliseconds from 1000 to 60000, not ${JSON.stringify(text)}`);
  return number;
}

function address(name: string, text: string): string {
  if (text === '' || /\s/.test(text)) throw new UsageError(`--${name} must be an address such as 0.0.0.0 or 127.0.0.1, not ${JSON.stringify(text)}`);
  return text;
}
