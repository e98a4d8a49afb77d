// `npm start`: open the desktop app, or say plainly why it cannot open here and fall back to
// the headless node, which serves the same API and the same renderer to a browser.
// The Electron binary is downloaded after `npm install` and may be missing (offline install,
// CI, sandbox); a missing display or missing system libraries also stop it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const root = dirname(import.meta.dirname);

const electron = checkElectron();
if (!electron.ok) {
  console.error(['', 'Quorum cannot open its window on this machine.', '', ...electron.problem, ''].join('\n'));
  startHeadless();
} else {
  startElectron(electron.path);
}

/** The classroom peer without a window: prints the address to open in a browser. */
function startHeadless() {
  const dataDir = process.env.QUORUM_DATA_DIR ?? join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'quorum');
  if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) {
    console.error('Building the user interface once (a minute at most)…');
    const build = spawnSync(join(root, 'node_modules', '.bin', 'electron-vite'), ['build'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) console.error('The user interface could not be built; the node still starts and serves its API.');
  }
  console.error(`Starting Quorum without a window instead. Its data lives in ${dataDir}.`);
  // The flags of electron/headless/runtime-flags.ts (this plain script can't import TypeScript).
  const flags = ['--max-semi-space-size=2'];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', join(root, 'electron', 'headless', 'main.ts'), '--data-dir', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk.toString();
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.startsWith('quorum-node ready ')) {
        const ready = JSON.parse(line.slice('quorum-node ready '.length));
        console.log(`\nQuorum is running. Open this address in a browser on this computer:\n\n  ${ready.api}/#token=${ready.token}\n`);
      } else {
        console.log(line);
      }
    }
  });
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

/**
 * Builds main, preload and renderer, then launches Electron on the result.
 * @param {string} electronPath
 */
function startElectron(electronPath) {
  const electronVite = join(root, 'node_modules', '.bin', 'electron-vite');
  const child = spawn(electronVite, ['preview'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
    // Launch exactly the binary checked above (it honours ELECTRON_OVERRIDE_DIST_PATH; electron-vite does not).
    env: { ...process.env, ELECTRON_EXEC_PATH: electronPath },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

/**
 * Finds the Electron binary and checks that it can open a window here.
 * @returns {{ ok: true, path: string } | { ok: false, problem: string[] }} the problem says what is missing and how to fix it
 */
function checkElectron() {
  const installHint = [
    'To install it, connect this machine to the internet and run, in this folder:',
    '  node node_modules/electron/install.js',
    'then run `npm start` again.',
  ];
  /** @type {string} */
  let electronPath;
  try {
    // The electron package exports the binary's path; it throws if the download never happened.
    electronPath = createRequire(import.meta.url)('electron');
  } catch {
    return {
      ok: false,
      problem: [
        'What is missing: the Electron binary. npm installed the electron package, but the',
        'binary (~100 MB) could not be downloaded or installed on this machine.',
        ...installHint,
      ],
    };
  }
  if (!existsSync(electronPath)) {
    return {
      ok: false,
      problem: [
        `What is missing: the Electron binary. It should be at ${electronPath}, but that file does not exist.`,
        ...installHint,
      ],
    };
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return {
      ok: false,
      problem: [
        'What is missing: a display. Neither DISPLAY nor WAYLAND_DISPLAY is set, so there is no',
        'screen to open a window on. Run `npm start` from a desktop session (or under xvfb-run).',
      ],
    };
  }
  const probe = spawnSync(electronPath, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) {
    return {
      ok: false,
      problem: [
        `What is missing: a working Electron binary. ${electronPath} is there but does not run:`,
        `  ${(probe.stderr || probe.error?.message || `exit code ${probe.status}`).trim()}`,
        'On Linux this usually means system libraries are missing (for example libnss3, libgtk-3-0, libasound2).',
      ],
    };
  }
  return { ok: true, path: electronPath };
}
