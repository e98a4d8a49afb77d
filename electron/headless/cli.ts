// `quorum-node`: a classroom peer without Electron, its API served over HTTP (and the UI, when
// built). stdout carries only a few stable lines, each `quorum-node <word> <json>`, for scripts
// and test harnesses; logs go to stderr as JSON lines. The peer comes from a factory so that tests
// can run the whole command against a fake one.
import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { PeerService } from '../peer/service';
import { ServiceError } from '../peer/service';
import { startApiServer, type ApiServer } from './api-server';
import { createLogger, isLogLevel, logLevels, type LogLevel, type StructuredLogger } from './logger';
import { loadOrCreateToken } from './token';

/** What the command gives the peer factory (ClassroomPeer.open takes these). */
export interface PeerOpenOptions {
  dataDir: string;
  displayName: string;
  /** Where the transport listens for other laptops. */
  host: string;
  port: number;
  discovery: { enabled: boolean; interface?: string };
  logger: StructuredLogger;
}

export type OpenPeer = (options: PeerOpenOptions) => Promise<PeerService>;

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
  --help                   show this text

stdout has one line per milestone, a word and a JSON object:
  quorum-node ready {"api":"http://127.0.0.1:PORT","token":"...","laptopId":"...","address":"LAPTOPID@host:port"}
  quorum-node class {"classId":"...","joinCode":"..."}
  quorum-node joined {"classId":"..."}
Logs go to stderr, one JSON object per line. SIGINT or SIGTERM stops the node gracefully
(it hands over leadership first); a second signal stops it at once.
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
    return { kind: 'run', options: checkOptions((name) => values.get(name)?.[0], values.get('peer') ?? [], values.has('no-discovery')) };
  } catch (error) {
    if (error instanceof UsageError) return { kind: 'error', message: error.message };
    throw error;
  }
}

class UsageError extends Error {}

function checkOptions(value: (name: string) => string | undefined, peers: string[], noDiscovery: boolean): CliOptions {
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

function address(name: string, text: string): string {
  if (text === '' || /\s/.test(text)) throw new UsageError(`--${name} must be an address such as 0.0.0.0 or 127.0.0.1, not ${JSON.stringify(text)}`);
  return text;
}

/** Where the process's signals come from; tests pass an EventEmitter. */
export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

export interface CliDependencies {
  /** Opens the peer; main.ts passes ClassroomPeer.open. */
  openPeer: OpenPeer;
  /** The stable lines and --help; default stdout. */
  stdout?: (text: string) => void;
  /** Logs and error sentences; default stderr. */
  stderr?: (text: string) => void;
  /** Default: the process. */
  signals?: SignalSource;
  /** Ends the process at once on a second signal; default process.exit. */
  exit?: (code: number) => void;
  /** The UI to serve when --static-dir is not given, if it exists; main.ts passes out/renderer. */
  defaultStaticDir?: string;
  /** Default: the computer's host name. */
  defaultName?: string;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** Exit code when a second signal cuts the graceful shutdown short. */
const FORCED_EXIT_CODE = 1;

/**
 * Runs the node until SIGINT or SIGTERM; resolves with the exit code: 0 after a graceful stop,
 * 1 when the node could not start or stop, 2 for a bad command line.
 */
export async function runCli(argv: readonly string[], dependencies: CliDependencies): Promise<number> {
  const stdout = dependencies.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = dependencies.stderr ?? ((text: string) => void process.stderr.write(text));
  const parsed = parseArguments(argv);
  if (parsed.kind === 'help') {
    stdout(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    stderr(`quorum-node: ${parsed.message}\n\n${USAGE}`);
    return 2;
  }
  const { options } = parsed;
  const staticDir = chooseStaticDir(options.staticDir, dependencies.defaultStaticDir);
  if (staticDir === false) {
    stderr(`quorum-node: --static-dir ${JSON.stringify(options.staticDir)} is not a directory\n\n${USAGE}`);
    return 2;
  }

  const logger = createLogger({ level: options.logLevel, component: 'node', write: stderr });
  const signals = dependencies.signals ?? process;
  const exit = dependencies.exit ?? ((code: number) => process.exit(code));
  const stop = new StopRequest();
  const onSignal = (signal: string) => () => {
    if (!stop.requested) {
      logger.info('stopping', { signal });
      stop.request();
    } else {
      logger.warn('stopping at once', { signal });
      exit(FORCED_EXIT_CODE);
    }
  };
  const handlers = SIGNALS.map((signal) => [signal, onSignal(signal)] as const);
  for (const [signal, handler] of handlers) signals.on(signal, handler);
  try {
    return await runNode({ options, staticDir, logger, openPeer: dependencies.openPeer, stdout, stderr, stop, defaultName: dependencies.defaultName });
  } finally {
    for (const [signal, handler] of handlers) signals.off(signal, handler);
  }
}

/** The first signal: asked once, awaited by the run, and checked between start-up steps. */
class StopRequest {
  requested = false;
  readonly promise: Promise<'stop'>;
  private resolve!: (value: 'stop') => void;

  constructor() {
    this.promise = new Promise((resolve) => (this.resolve = resolve));
  }

  request(): void {
    this.requested = true;
    this.resolve('stop');
  }
}

/** The directory to serve, null for none, or false when an explicit one is not a directory. */
function chooseStaticDir(explicit: string | null, fallback: string | undefined): string | null | false {
  if (explicit !== null) return isDirectory(explicit) ? resolve(explicit) : false;
  return fallback !== undefined && isDirectory(fallback) ? resolve(fallback) : null;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

interface NodeRun {
  options: CliOptions;
  staticDir: string | null;
  logger: StructuredLogger;
  openPeer: OpenPeer;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stop: StopRequest;
  defaultName: string | undefined;
}

async function runNode(run: NodeRun): Promise<number> {
  const { options, logger, stderr } = run;
  const dataDir = resolve(options.dataDir);
  const fail = (what: string, error: unknown): number => {
    logger.error(what, { error });
    stderr(`quorum-node: ${what}: ${explain(error)}\n`);
    return 1;
  };

  let token: string;
  try {
    const loaded = await loadOrCreateToken(dataDir);
    token = loaded.token;
    if (loaded.created) logger.info('created the API token', { path: loaded.path });
    if (loaded.permissionsTightened) logger.warn('the API token file was readable by others; it is owner-only again', { path: loaded.path });
  } catch (error) {
    return fail('could not read or create the API token', error);
  }

  let service: PeerService;
  try {
    service = await run.openPeer({
      dataDir,
      displayName: options.name ?? run.defaultName ?? hostname(),
      host: options.host,
      port: options.port,
      discovery: { enabled: options.discovery, ...(options.mdnsInterface ? { interface: options.mdnsInterface } : {}) },
      logger: logger.child('peer'),
    });
  } catch (error) {
    return fail('could not open the peer', error);
  }

  let server: ApiServer | null = null;
  const shutDown = async (code: number): Promise<number> => {
    try {
      await server?.close();
      await service.close();
      logger.info('stopped', { code });
      return code;
    } catch (error) {
      return fail('could not stop cleanly', error);
    }
  };

  // Stopped while the peer was opening: close it without serving anything.
  if (run.stop.requested) return shutDown(0);
  try {
    server = await startApiServer({
      service,
      token,
      host: options.apiHost,
      port: options.apiPort,
      ...(run.staticDir ? { staticDir: run.staticDir } : {}),
      logger: logger.child('api'),
    });
  } catch (error) {
    fail(`could not serve the API on ${options.apiHost}:${options.apiPort}`, error);
    return shutDown(1);
  }
  if (!isLoopback(options.apiHost)) {
    logger.warn('the API is reachable from other computers over plain HTTP: whoever sees the token can act as this laptop', {
      apiHost: options.apiHost,
    });
  }

  const started = await Promise.race([startUp(run, service, server, token), run.stop.promise]);
  if (started !== 'stop' && started !== 'ok') {
    fail(started.what, started.error);
    return shutDown(1);
  }
  await run.stop.promise;
  return shutDown(0);
}

/** Prints the ready line, then does what the command line asked. */
async function startUp(
  run: NodeRun,
  service: PeerService,
  server: ApiServer,
  token: string,
): Promise<'ok' | { what: string; error: unknown }> {
  const { options, logger, stdout } = run;
  let step = 'could not read the peer status';
  try {
    const status = await service.methods.status({});
    // Stopping: the API is closing, so do not announce it; a step already under way still reports what it did.
    if (run.stop.requested) return 'ok';
    stdout(`quorum-node ready ${JSON.stringify({ api: server.url, token, laptopId: status.laptopId, address: status.address })}\n`);
    // Manual peers first: with discovery off they are the only way to reach the class to join.
    for (const address of options.peers) {
      if (run.stop.requested) return 'ok';
      step = `could not add the peer ${address}`;
      await service.methods.addPeerAddress({ address });
      logger.info('added a peer address', { address });
    }
    if (options.createClass !== null && !run.stop.requested) {
      step = 'could not create the class';
      const created = await service.methods.createClass({ name: options.createClass });
      stdout(`quorum-node class ${JSON.stringify({ classId: created.classId, joinCode: created.joinCode })}\n`);
    }
    if (options.join !== null && !run.stop.requested) {
      step = 'could not join the class';
      const joined = await service.methods.joinClass({ joinCode: options.join });
      stdout(`quorum-node joined ${JSON.stringify({ classId: joined.classId })}\n`);
    }
    return 'ok';
  } catch (error) {
    return { what: step, error };
  }
}

function explain(error: unknown): string {
  if (error instanceof ServiceError) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
