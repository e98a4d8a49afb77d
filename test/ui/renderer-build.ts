// The built UI the headless node serves (out/renderer, electron-vite's renderer output): built
// again when missing or older than its sources, so a UI test never runs yesterday's page.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
export const BUILT_PAGE = join(ROOT, 'out/renderer/index.html');
/** What the page is built from: its own sources, and the shared code it imports. */
const SOURCES = [join(ROOT, 'renderer'), join(ROOT, 'shared'), join(ROOT, 'electron.vite.config.ts')];

function newestChange(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

/** Build the renderer (with the rest of `npm run build`) unless out/renderer is newer than every source. */
export function ensureRendererBuilt(): void {
  const built = existsSync(BUILT_PAGE) ? statSync(BUILT_PAGE).mtimeMs : 0;
  const sources = Math.max(...SOURCES.map(newestChange));
  if (built > sources) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'pipe' });
}
