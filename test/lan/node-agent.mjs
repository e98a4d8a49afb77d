// A laptop's stand-in for the test inside its network namespace: starts a real `quorum-node`
// as its own child and relays HTTP requests to the node's API, which listens on the
// namespace's loopback where the test (in the root namespace) cannot reach it. JSON lines:
//   argv[2]  {"cwd": repository root, "main": path of electron/headless/main.ts, "args": [node arguments]}
//   stdout   {"type":"ready","pid":…,"api":…,"token":…,"laptopId":…,"address":…}   the node's ready line, and its pid
//            {"type":"line","line":…}                                             any other stdout line of the node
//            {"type":"response","id":…,"status":…,"body":…} | {"type":"response","id":…,"error":…}
//            {"type":"exit","code":…,"signal":…}                                 the node exited; so does the agent
//   stdin    {"type":"fetch","id":…,"url":…,"init":{method,headers,body},"timeoutMs":…}
//   stderr   the node's stderr, passed through
// When stdin closes (the test is gone or done) the node is killed and the agent exits, so nothing
// lingers in the namespace. Plain JavaScript without tsx on purpose: a class runs 31 of these on
// one machine next to the nodes themselves, and this one loads nothing from the repository.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const READY_PREFIX = 'quorum-node ready ';

/** @param {object} line */
function send(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** @type {{cwd: string, main: string, args: string[]}} */
const config = JSON.parse(process.argv[2] ?? '{}');
const node = spawn(process.execPath, ['--import', 'tsx', config.main, ...config.args], {
  cwd: config.cwd,
  stdio: ['ignore', 'pipe', 'inherit'],
});

createInterface({ input: /** @type {import('node:stream').Readable} */ (node.stdout) }).on('line', (line) => {
  if (line.startsWith(READY_PREFIX)) send({ type: 'ready', pid: node.pid, ...JSON.parse(line.slice(READY_PREFIX.length)) });
  else send({ type: 'line', line });
});

node.once('exit', (code, signal) => {
  send({ type: 'exit', code, signal });
  process.exit(0);
});

/**
 * @param {{id: number, url: string, init: {method: string, headers: Record<string, string>, body: string}, timeoutMs: number}} request
 */
async function relay(request) {
  try {
    const response = await fetch(request.url, { ...request.init, signal: AbortSignal.timeout(request.timeoutMs) });
    send({ type: 'response', id: request.id, status: response.status, body: await response.text() });
  } catch (error) {
    send({ type: 'response', id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
}

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  const request = JSON.parse(line);
  if (request.type === 'fetch') void relay(request);
});
input.once('close', () => {
  // SIGKILL also ends a node stopped with SIGSTOP; the 'exit' handler then ends the agent.
  node.kill('SIGKILL');
});
