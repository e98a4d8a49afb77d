// `quorum-node`: a classroom peer without Electron, its API served over HTTP (and the UI, when
// built). stdout carries only a few stable lines, each `quorum-node <word> <json>`, for scripts
// and test harnesses; logs go to stderr as JSON lines. The peer comes from a factory so that tests
// can run the whole command against a fake one. The desktop app runs this same command in an
// Electron utilityProcess: there the API goes over the parent port (port-server.ts), and over
// HTTP only when --http-api asks for it.
import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { KeySealer } from '../peer/secrets';
import type { PeerService } from '../peer/service';
import type { CompactionPolicy } from '../peer/storage';
import { ServiceError } from '../peer/service';
import { startApiServer, type ApiServer } from './api-server';
import { parseArguments, USAGE, type CliOptions } from './arguments';
import { createLogger, type StructuredLogger } from './logger';
import { PortServer, type ParentPortLike } from './port-server';
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
  /** Under the desktop app, the system's keyring (through the main process) to seal the laptop's keys with; absent for a plain node. */
  sealer?: KeySealer;
  /** When each class is snapshotted, from --snapshot-every (tests only); absent: the peer's default. */
  compaction?: Partial<CompactionPolicy>;
  /** How long a minute of the backup schedule lasts, from --backup-minute-ms (tests only). */
  backupMinuteMs?: number;
  /** The class rules this node acts as knowing, from --class-rules (tests only). */
  knownRules?: number;
}

export type OpenPeer = (options: PeerOpenOptions) => Promise<PeerService>;

// The command line lives in arguments.ts; these are re-exported for the command's callers and tests.
export { parseArguments, USAGE, type CliOptions, type ParsedArguments } from './arguments';

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
  /**
   * Electron's `process.parentPort` when the desktop app runs this node in a utilityProcess: the
   * API is served over it (and over HTTP only with --http-api), and a stop message from the app
   * stops the node like a signal. Absent or null: a plain node, served over HTTP.
   */
  parentPort?: ParentPortLike | null;
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
    return await runNode({
      options,
      staticDir,
      logger,
      openPeer: dependencies.openPeer,
      stdout,
      stderr,
      stop,
      defaultName: dependencies.defaultName,
      parentPort: dependencies.parentPort ?? null,
    });
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
  parentPort: ParentPortLike | null;
}

async function runNode(run: NodeRun): Promise<number> {
  const { options, logger, stderr } = run;
  const dataDir = resolve(options.dataDir);
  const fail = (what: string, error: unknown): number => {
    logger.error(what, { error });
    stderr(`quorum-node: ${what}: ${explain(error)}\n`);
    return 1;
  };

  // Under the desktop app, the port is heard from the start: a stop asked while the peer opens is not missed.
  const portServer = run.parentPort ? listenToApp(run, run.parentPort) : null;
  // The app needs no HTTP port, and one it does not use is one more way in.
  const servesHttp = portServer === null || options.httpApi;

  let token: string | null = null;
  if (servesHttp) {
    try {
      token = await readToken(dataDir, logger);
    } catch (error) {
      portServer?.close();
      return fail('could not read or create the API token', error);
    }
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
      ...(portServer ? { sealer: portServer.sealer } : {}),
      ...(options.snapshotEvery === undefined ? {} : { compaction: { entries: options.snapshotEvery } }),
      ...(options.backupMinuteMs === undefined ? {} : { backupMinuteMs: options.backupMinuteMs }),
      ...(options.classRules === undefined ? {} : { knownRules: options.classRules }),
    });
  } catch (error) {
    portServer?.close();
    return fail('could not open the peer', error);
  }

  let server: ApiServer | null = null;
  const shutDown = async (code: number): Promise<number> => {
    portServer?.refuseNewCalls();
    let exitCode: number;
    try {
      await server?.close();
      await service.close();
      logger.info('stopped', { code });
      exitCode = code;
    } catch (error) {
      exitCode = fail('could not stop cleanly', error);
    }
    portServer?.close();
    return exitCode;
  };

  // Stopped while the peer was opening: close it without serving anything.
  if (run.stop.requested) return shutDown(0);
  portServer?.serve(service);
  if (token !== null) {
    try {
      server = await serveHttp(run, service, token);
    } catch (error) {
      fail(`could not serve the API on ${options.apiHost}:${options.apiPort}`, error);
      return shutDown(1);
    }
  }

  const http = server && token !== null ? { server, token } : null;
  const started = await Promise.race([startUp(run, service, { http, portServer }), run.stop.promise]);
  if (started !== 'stop' && started !== 'ok') {
    fail(started.what, started.error);
    return shutDown(1);
  }
  await run.stop.promise;
  return shutDown(0);
}

/** Serves the API (and the UI, if built) over HTTP, as the command line says. */
async function serveHttp(run: NodeRun, service: PeerService, token: string): Promise<ApiServer> {
  const { options, logger } = run;
  const server = await startApiServer({
    service,
    token,
    host: options.apiHost,
    port: options.apiPort,
    ...(run.staticDir ? { staticDir: run.staticDir } : {}),
    logger: logger.child('api'),
  });
  if (!isLoopback(options.apiHost)) {
    logger.warn('the API is reachable from other computers over plain HTTP: whoever sees the token can act as this laptop', {
      apiHost: options.apiHost,
    });
  }
  return server;
}

/** Serves the desktop app over its port; the app's stop works like the first signal. */
function listenToApp(run: NodeRun, port: ParentPortLike): PortServer {
  return new PortServer({
    port,
    logger: run.logger.child('port'),
    onStop: (reason) => {
      if (run.stop.requested) return;
      run.logger.info('stopping', { reason: reason === 'asked' ? 'the app asked' : 'the app closed its port' });
      run.stop.request();
    },
  });
}

/** The HTTP API's token, created on the first run. */
async function readToken(dataDir: string, logger: StructuredLogger): Promise<string> {
  const loaded = await loadOrCreateToken(dataDir);
  if (loaded.created) logger.info('created the API token', { path: loaded.path });
  if (loaded.permissionsTightened) logger.warn('the API token file was readable by others; it is owner-only again', { path: loaded.path });
  return loaded.token;
}

/** Where the API is served: over HTTP (the ready line names it), over the app's port, or both. */
interface Endpoints {
  http: { server: ApiServer; token: string } | null;
  portServer: PortServer | null;
}

/** Announces the node (the ready line, the ready message), then does what the command line asked. */
async function startUp(run: NodeRun, service: PeerService, endpoints: Endpoints): Promise<'ok' | { what: string; error: unknown }> {
  const { options, logger, stdout } = run;
  let step = 'could not read the peer status';
  try {
    const status = await service.methods.status({});
    // Stopping: the API is closing, so do not announce it; a step already under way still reports what it did.
    if (run.stop.requested) return 'ok';
    if (endpoints.http) {
      const { server, token } = endpoints.http;
      stdout(`quorum-node ready ${JSON.stringify({ api: server.url, token, laptopId: status.laptopId, address: status.address })}\n`);
    }
    endpoints.portServer?.announceReady(status);
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
      const joined = await joinUntilFound(run, service, options.join);
      if (joined === null) return 'ok';
      stdout(`quorum-node joined ${JSON.stringify({ classId: joined.classId })}\n`);
    }
    return 'ok';
  } catch (error) {
    return { what: step, error };
  }
}

/**
 * Look for the class until a laptop of it answers or the node is stopped: the teacher's laptop may
 * start after this one. Null when stopped first. Any other refusal (a bad code) ends the search.
 */
async function joinUntilFound(run: NodeRun, service: PeerService, joinCode: string): Promise<{ classId: string } | null> {
  for (;;) {
    try {
      return await service.methods.joinClass({ joinCode });
    } catch (error) {
      if (!(error instanceof ServiceError && error.code === 'CLASS_NOT_FOUND') || run.stop.requested) throw error;
      run.logger.info('no laptop of the class answered yet; still looking');
    }
    if (run.stop.requested) return null;
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
