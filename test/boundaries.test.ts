// Process boundaries, checked by reading imports (STYLE.md practice 5):
// - electron/raft/ is the pure Raft core: only relative imports that stay inside it, so no
//   Node builtin, no npm package, nothing from the rest of the app;
// - renderer/ is a browser page: nothing from electron/, the electron package or Node;
// - shared/ runs anywhere: nothing from electron/, renderer/, the electron package or Node;
// - the peer side (electron/peer/, electron/classroom/, electron/headless/) never imports the
//   electron package: the same entry runs under plain Node and in the app's utilityProcess;
// - electron/ipc/ (protocol, relay, supervisor, preload bridge) is pure: no electron package, no
//   Node builtin, since it runs in the main process, the peer process and the sandboxed preload;
// - electron/preload/ is a sandboxed preload: the electron package, but no Node builtin;
// - in electron/main/ only the files that wire Electron import it, so the rest is tested in Node.
// Test files (*.test.ts) are exempt: they run under vitest in Node, never in the app.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = dirname(import.meta.dirname);
const sourceExtensions = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.svelte'];
const testFile = /\.(test|spec)\.[cm]?[jt]s$/;

interface SourceFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  source: string;
}

interface Rule {
  /** Folder the rule applies to, relative to the root, with a trailing slash. */
  folder: string;
  /** Why the rule exists, shown next to each violation. */
  reason: string;
  /** Returns what is wrong with importing `specifier` from `file`, or null when it is allowed. */
  check(specifier: string, file: string): string | null;
}

/** The main-process files that may import the electron package: they only wire it. */
const ELECTRON_WIRING = new Set(['electron/main/index.ts', 'electron/main/peer-process.ts']);

const rules: Rule[] = [
  {
    folder: 'electron/raft/',
    reason: 'the Raft core is pure: time, randomness, disk and network come in from the caller',
    check: (specifier, file) => {
      if (isBuiltin(specifier)) return 'a Node builtin';
      if (!isRelative(specifier)) return 'an npm package';
      const target = resolveRelative(file, specifier);
      return target.startsWith('electron/raft/') ? null : `outside electron/raft/ (resolves to ${target})`;
    },
  },
  {
    folder: 'renderer/',
    reason: 'the renderer is a sandboxed web page; it reaches Electron only through window.quorum',
    check: (specifier, file) => forbidEnvironment(specifier, file, ['electron/']),
  },
  {
    folder: 'shared/',
    reason: 'shared code runs in every process, including the browser',
    check: (specifier, file) => forbidEnvironment(specifier, file, ['electron/', 'renderer/']),
  },
  ...['electron/peer/', 'electron/classroom/', 'electron/headless/'].map(
    (folder): Rule => ({
      folder,
      reason: 'the peer runs under plain Node (the headless node, tests) as well as in the app',
      check: (specifier) => (isElectronPackage(specifier) ? 'the electron package' : null),
    }),
  ),
  {
    folder: 'electron/ipc/',
    reason: 'the IPC plumbing runs in the main process, the peer process and the sandboxed preload, and is tested in Node',
    check: (specifier, file) => forbidEnvironment(specifier, file, ['renderer/']),
  },
  {
    folder: 'electron/preload/',
    reason: 'a sandboxed preload can require only a few modules; everything else must be bundled',
    check: (specifier) => (isBuiltin(specifier) ? 'a Node builtin' : null),
  },
  {
    folder: 'electron/main/',
    reason: `only ${[...ELECTRON_WIRING].join(' and ')} wire Electron; the rest of the main process is tested in plain Node`,
    check: (specifier, file) => (isElectronPackage(specifier) && !ELECTRON_WIRING.has(file) ? 'the electron package' : null),
  },
];

function forbidEnvironment(specifier: string, file: string, folders: string[]): string | null {
  if (isBuiltin(specifier)) return 'a Node builtin';
  if (isElectronPackage(specifier)) return 'the electron package';
  if (!isRelative(specifier)) return null;
  const target = resolveRelative(file, specifier);
  const folder = folders.find((candidate) => target.startsWith(candidate));
  return folder ? `inside ${folder} (resolves to ${target})` : null;
}

function isElectronPackage(specifier: string): boolean {
  return specifier === 'electron' || specifier.startsWith('electron/');
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0] ?? specifier);
}

function isRelative(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../');
}

function resolveRelative(file: string, specifier: string): string {
  return posix.normalize(posix.join(posix.dirname(file), specifier));
}

/** Every module specifier in a source file: static, side-effect, re-export, dynamic and require. */
function findImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((match) => match[1] ?? ''));
}

function findViolations(files: SourceFile[]): string[] {
  const violations: string[] = [];
  for (const file of files.filter((candidate) => !testFile.test(candidate.path))) {
    for (const rule of rules.filter((candidate) => file.path.startsWith(candidate.folder))) {
      for (const specifier of findImports(file.source)) {
        const problem = rule.check(specifier, file.path);
        if (problem) violations.push(`${file.path} imports '${specifier}': ${problem}; ${rule.reason}`);
      }
    }
  }
  return violations;
}

function readSourceTree(folder: string): SourceFile[] {
  const absolute = join(root, folder);
  // A folder that does not exist yet has nothing to break.
  if (!existsSync(absolute)) return [];
  return readdirSync(absolute, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && sourceExtensions.some((extension) => entry.name.endsWith(extension)))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.split(sep).includes('node_modules'))
    .map((path) => ({ path: relative(root, path).split(sep).join('/'), source: readFileSync(path, 'utf8') }));
}

describe('process boundaries', () => {
  it.each(rules.map((rule) => rule.folder))('nothing under %s imports what it must not', (folder) => {
    const violations = findViolations(readSourceTree(folder));
    expect(violations, `\n${violations.join('\n')}\n`).toEqual([]);
  });
});

describe('findImports', () => {
  it.each([
    ["import { a } from 'x'", ['x']],
    ["import type { A } from 'x'", ['x']],
    ["import * as x from 'x'", ['x']],
    ["import x, {\n  a,\n  b,\n} from 'x'", ['x']],
    ["import 'x'", ['x']],
    ["export { a } from 'x'", ['x']],
    ["export * from 'x'", ['x']],
    ["const x = await import('x')", ['x']],
    ["const x = require('x')", ['x']],
    ["import x = require('x')", ['x']],
    ["// import { a } from 'x'", []],
    ["/* import { a } from 'x' */", []],
    ["const url = 'http://example.org' // not an import", []],
    ['<script lang="ts">\n  import Child from \'./Child.svelte\'\n</script>', ['./Child.svelte']],
  ])('finds the specifiers in %j', (source, expected) => {
    expect(findImports(source)).toEqual(expected);
  });
});

describe('findViolations', () => {
  it('names the file, the import and the rule', () => {
    const files: SourceFile[] = [
      { path: 'electron/raft/log.ts', source: "import { readFileSync } from 'node:fs'" },
      { path: 'electron/raft/node.ts', source: "import { setTimeout } from 'timers'" },
      { path: 'electron/raft/tick.ts', source: "import WebSocket from 'ws'" },
      { path: 'electron/raft/step.ts', source: "import type { Api } from '../../shared/api'" },
      {
        path: 'electron/raft/ok.ts',
        source: "import { Log } from './log'\nimport { quorum } from './quorum/majority'",
      },
      {
        path: 'electron/raft/log.test.ts',
        source: "import { it } from 'vitest'\nimport { cluster } from '../../test/raft/sim'",
      },
      {
        path: 'renderer/src/App.svelte',
        source: "<script>import { x } from '../../electron/peer/service'</script>",
      },
      {
        path: 'renderer/src/ok.ts',
        source: "import { mount } from 'svelte'\nimport type { QuorumApi } from '../../shared/api'",
      },
      {
        path: 'shared/api.ts',
        source: "import { ipcRenderer } from 'electron'\nimport { join } from 'path'",
      },
    ];
    expect(findViolations(files)).toEqual([
      expect.stringMatching(/^electron\/raft\/log\.ts imports 'node:fs': a Node builtin; /),
      expect.stringMatching(/^electron\/raft\/node\.ts imports 'timers': a Node builtin; /),
      expect.stringMatching(/^electron\/raft\/tick\.ts imports 'ws': an npm package; /),
      expect.stringMatching(
        /^electron\/raft\/step\.ts imports '..\/..\/shared\/api': outside electron\/raft\/ \(resolves to shared\/api\); /,
      ),
      expect.stringMatching(
        /^renderer\/src\/App\.svelte imports '..\/..\/electron\/peer\/service': inside electron\/ /,
      ),
      expect.stringMatching(/^shared\/api\.ts imports 'electron': the electron package; /),
      expect.stringMatching(/^shared\/api\.ts imports 'path': a Node builtin; /),
    ]);
  });

  it('keeps Electron in the files that wire it', () => {
    const files: SourceFile[] = [
      { path: 'electron/peer/classroom-peer.ts', source: "import { app } from 'electron'\nimport { join } from 'node:path'" },
      { path: 'electron/headless/main.ts', source: "import { utilityProcess } from 'electron/main'" },
      { path: 'electron/classroom/apply.ts', source: "import { app } from 'electron'" },
      { path: 'electron/ipc/peer-relay.ts', source: "import { ipcMain } from 'electron'\nimport { EventEmitter } from 'node:events'" },
      { path: 'electron/ipc/ok.ts', source: "import type { Logger } from '../peer/transport/types'\nimport { isApiMethod } from '../../shared/http'" },
      { path: 'electron/preload/index.ts', source: "import { contextBridge } from 'electron'\nimport { readFileSync } from 'fs'" },
      { path: 'electron/main/peer-process.ts', source: "import { utilityProcess } from 'electron'\nimport { join } from 'node:path'" },
      { path: 'electron/main/peer-launch.ts', source: "import { app } from 'electron'\nimport { join } from 'node:path'" },
    ];
    expect(findViolations(files)).toEqual([
      expect.stringMatching(/^electron\/peer\/classroom-peer\.ts imports 'electron': the electron package; the peer runs under plain Node/),
      expect.stringMatching(/^electron\/headless\/main\.ts imports 'electron\/main': the electron package; /),
      expect.stringMatching(/^electron\/classroom\/apply\.ts imports 'electron': the electron package; /),
      expect.stringMatching(/^electron\/ipc\/peer-relay\.ts imports 'electron': the electron package; /),
      expect.stringMatching(/^electron\/ipc\/peer-relay\.ts imports 'node:events': a Node builtin; /),
      expect.stringMatching(/^electron\/preload\/index\.ts imports 'fs': a Node builtin; a sandboxed preload/),
      expect.stringMatching(/^electron\/main\/peer-launch\.ts imports 'electron': the electron package; only electron\/main\/index\.ts and electron\/main\/peer-process\.ts wire Electron/),
    ]);
  });
});
