// `npm start`: open the desktop app, or say plainly why it cannot open here.
// The Electron binary is downloaded after `npm install` and may be missing (offline install,
// CI, sandbox); a missing display or missing system libraries also stop it. In each case we
// print what is missing and how to fix it, rather than Electron's stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = dirname(import.meta.dirname);
const headlessNote =
  'A headless mode (a classroom peer without a window, used from a browser) arrives in the next release.';

const electron = checkElectron();
if (!electron.ok) {
  console.error(
    [
      '',
      'Quorum cannot open its window on this machine.',
      '',
      ...electron.problem,
      '',
      headlessNote,
      '',
    ].join('\n'),
  );
  process.exit(1);
}

// Builds main, preload and renderer, then launches Electron on the result.
const electronVite = join(root, 'node_modules', '.bin', 'electron-vite');
const child = spawn(electronVite, ['preview'], {
  cwd: root,
  stdio: 'inherit',
  shell: process.platform === 'win32',
  // Launch exactly the binary checked above (it honours ELECTRON_OVERRIDE_DIST_PATH; electron-vite does not).
  env: { ...process.env, ELECTRON_EXEC_PATH: electron.path },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

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
