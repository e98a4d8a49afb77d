// The installers' configuration (electron-builder.json), checked as far as this machine can:
// electron-builder itself is not installed here (see docs/packaging.md), so the config is read as
// data and held against what the build produces and what the app loads at run time.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const config = JSON.parse(readFileSync(join(ROOT, 'electron-builder.json'), 'utf8')) as BuilderConfig;
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; name: string; dependencies: Record<string, string> };

interface TargetEntry {
  target: string;
  arch?: string[];
}
interface BuilderConfig {
  appId: string;
  productName: string;
  extraMetadata?: { productName?: string };
  directories: { output: string; buildResources: string };
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  win: { target: TargetEntry[]; icon: string };
  nsis: Record<string, unknown>;
  mac: { target: TargetEntry[]; icon: string; category: string; extendInfo: Record<string, unknown> };
  dmg: { artifactName: string };
  linux: { target: TargetEntry[]; icon: string; category: string; maintainer?: string };
  appImage: { artifactName: string };
  deb: { depends: string[]; artifactName: string };
}

/** What the app loads at run time, besides package.json's main: the peer's utilityProcess entry (peer-process.ts), the preload and the page (index.ts). */
const RUNTIME_FILES = ['out/main/headless.js', 'out/preload/index.cjs', 'out/renderer/index.html', 'resources/icon.png'];

/** An electron-builder file pattern as a regular expression over paths relative to the project, with forward slashes. */
function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let at = 0; at < pattern.length; at++) {
    const character = pattern[at]!;
    if (pattern.startsWith('**/', at)) {
      source += '(?:.*/)?';
      at += 2;
    } else if (pattern.startsWith('**', at)) {
      source += '.*';
      at += 1;
    } else if (character === '*') {
      source += '[^/]*';
    } else if (character === '?') {
      source += '[^/]';
    } else {
      source += character.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

const includes = config.files.filter((pattern) => !pattern.startsWith('!')).map(patternToRegExp);
const excludes = config.files.filter((pattern) => pattern.startsWith('!')).map((pattern) => patternToRegExp(pattern.slice(1)));

/** Whether electron-builder would pack `path` from the project (node_modules' production packages are added on top of these). */
function packs(path: string): boolean {
  return includes.some((pattern) => pattern.test(path)) && !excludes.some((pattern) => pattern.test(path));
}

/** Every file under `directory`, relative to the project, skipping what is never the project's own. */
function filesUnder(directory: string, skip = new Set(['node_modules', '.git', 'dist'])): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path, skip));
    else found.push(relative(ROOT, path).split(sep).join('/'));
  }
  return found;
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(path: string): { width: number; height: number } {
  const header = readFileSync(path).subarray(0, 24);
  expect(header.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: header.readUInt32BE(16), height: header.readUInt32BE(20) };
}

beforeAll(() => {
  // Build when the outputs are missing (not merely older): this test is about which files exist.
  if (![packageJson.main, ...RUNTIME_FILES].every((path) => existsSync(join(ROOT, path)))) {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'pipe', timeout: 240_000 });
  }
}, 300_000);

describe('electron-builder.json', () => {
  it('names the app Quorum, in the installers and in the packed package.json the app reads its name from', () => {
    expect(config.productName).toBe('Quorum');
    expect(config.extraMetadata?.productName).toBe(config.productName);
    expect(config.appId).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
    expect(config.directories.output).toBe('dist');
  });

  it('packs package.json’s main and everything the app loads at run time, all of which the build made', () => {
    for (const path of [packageJson.main, ...RUNTIME_FILES]) {
      expect(existsSync(join(ROOT, path)), `${path} exists after the build`).toBe(true);
      expect(packs(path), `${path} is packed`).toBe(true);
    }
    const built = filesUnder(join(ROOT, 'out')).filter((path) => !path.endsWith('.map'));
    expect(built.filter((path) => !packs(path))).toEqual([]);
  });

  it('names no file or glob that matches nothing', () => {
    const candidates = filesUnder(ROOT);
    for (const pattern of config.files.filter((pattern) => !pattern.startsWith('!'))) {
      expect(candidates.some((path) => patternToRegExp(pattern).test(path)), `${pattern} matches a file`).toBe(true);
    }
  });

  it('packs no tests, benchmarks, sources or scripts', () => {
    const packed = filesUnder(ROOT).filter(packs);
    expect(packed.filter((path) => /^(test|bench|electron|shared|renderer|scripts|docs|\.ci)\//.test(path))).toEqual([]);
    expect(packed.filter((path) => /\.(ts|mts|cts|svelte|map)$/.test(path))).toEqual([]);
    expect(packed.length).toBeGreaterThan(0);
  });

  it('keeps better-sqlite3’s native binary outside the asar archive, rebuilt for Electron at packaging time', () => {
    expect(config.asar).toBe(true);
    expect(config.npmRebuild).toBe(true);
    expect(packageJson.dependencies).toHaveProperty('better-sqlite3');
    const binary = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    expect(existsSync(join(ROOT, binary)), 'npm install built it').toBe(true);
    expect(config.asarUnpack.some((pattern) => patternToRegExp(pattern).test(binary))).toBe(true);
    expect(excludes.some((pattern) => pattern.test(binary))).toBe(false);
  });

  it('builds the four installers, for Intel and ARM, with names that keep the architectures apart', () => {
    const targets = (entries: TargetEntry[]) => entries.map((entry) => `${entry.target}:${(entry.arch ?? []).join('+')}`);
    expect(targets(config.win.target)).toEqual(['nsis:x64+arm64']);
    expect(targets(config.mac.target)).toEqual(['dmg:x64+arm64']);
    expect(targets(config.linux.target)).toEqual(['AppImage:x64+arm64', 'deb:x64+arm64']);
    for (const artifactName of [config.nsis['artifactName'] as string, config.dmg.artifactName, config.appImage.artifactName, config.deb.artifactName]) {
      expect(artifactName).toContain('${version}');
      expect(artifactName).toContain('${arch}');
    }
  });

  it('uses the icon in resources/, large enough for every system', () => {
    expect(config.directories.buildResources).toBe('resources');
    for (const icon of [config.win.icon, config.mac.icon, config.linux.icon]) {
      expect(existsSync(join(ROOT, icon)), `${icon} exists`).toBe(true);
      const { width, height } = pngSize(join(ROOT, icon));
      expect(width).toBe(height);
      // macOS needs 512 px at least (1024 for Retina); Windows 256; Linux takes the largest given.
      expect(width).toBeGreaterThanOrEqual(512);
    }
  });

  it('installs per user on Windows, keeping the classes when Quorum is uninstalled', () => {
    expect(config.nsis).toMatchObject({ oneClick: true, perMachine: false, allowElevation: false, deleteAppDataOnUninstall: false });
  });

  it('files Quorum under Education, and asks macOS for the local network it finds laptops on', () => {
    expect(config.linux.category).toBe('Education');
    expect(config.mac.category).toBe('public.app-category.education');
    expect(config.mac.extendInfo['NSBonjourServices']).toEqual(['_quorum._tcp']);
    expect(config.mac.extendInfo['NSLocalNetworkUsageDescription']).toEqual(expect.stringMatching(/\S/));
  });

  it('has what a deb needs: a maintainer (package.json has no author) and the keyring library safeStorage uses', () => {
    expect(config.linux.maintainer).toMatch(/^.+ <[^@\s]+@[^@\s]+>$/);
    expect(config.deb.depends).toContain('libsecret-1-0');
  });
});
