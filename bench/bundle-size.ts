// The renderer as `electron-vite build` leaves it in out/renderer: every file's size raw, gzipped
// and brotli-compressed, and the totals. Figures only, no assertions.
//   npm run build && npx tsx bench/bundle-size.ts
// Raw is what the window loads from disk and what the headless node serves (it does not compress);
// gzip and brotli are at their highest levels, as a static server would keep them precompressed,
// and say how much of the raw size is redundancy. Writes bench/results/bundle-size.json.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const RENDERER_OUT = join(ROOT, 'out', 'renderer');
const RENDERER_SOURCES = join(ROOT, 'renderer');

const GZIP_LEVEL = 9;
const BROTLI_QUALITY = 11;

interface Sizes {
  raw: number;
  gzip: number;
  brotli: number;
}

interface FileSizes extends Sizes {
  /** Relative to out/renderer, with forward slashes. */
  path: string;
  kind: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

function sizesOf(path: string): FileSizes {
  const bytes = readFileSync(path);
  return {
    path: relative(RENDERER_OUT, path).split('\\').join('/'),
    kind: extname(path).slice(1) || 'other',
    raw: bytes.byteLength,
    gzip: gzipSync(bytes, { level: GZIP_LEVEL }).byteLength,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength },
    }).byteLength,
  };
}

function total(files: readonly Sizes[]): Sizes {
  return files.reduce((sum, f) => ({ raw: sum.raw + f.raw, gzip: sum.gzip + f.gzip, brotli: sum.brotli + f.brotli }), { raw: 0, gzip: 0, brotli: 0 });
}

/** The newest modification time under `dir` (node_modules aside), in ms. */
function newestChange(dir: string): number {
  return Math.max(0, ...filesUnder(dir).filter((path) => !path.includes('node_modules')).map((path) => statSync(path).mtimeMs));
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, timeout: 5_000 }).toString().trim();
  } catch {
    return 'unknown';
  }
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function printReport(files: readonly FileSizes[], byKind: Record<string, Sizes>, all: Sizes): void {
  const rows: string[][] = [['file', 'raw', 'gzip', 'brotli']];
  for (const f of files) rows.push([f.path, kib(f.raw), kib(f.gzip), kib(f.brotli)]);
  rows.push(['', '', '', '']);
  for (const [kind, sizes] of Object.entries(byKind)) rows.push([`all .${kind}`, kib(sizes.raw), kib(sizes.gzip), kib(sizes.brotli)]);
  rows.push(['total', kib(all.raw), kib(all.gzip), kib(all.brotli)]);
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log(`\nQuorum renderer bundle: ${relative(ROOT, RENDERER_OUT)} (gzip level ${GZIP_LEVEL}, brotli quality ${BROTLI_QUALITY})\n`);
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('   '));
  }
}

if (!existsSync(RENDERER_OUT) || filesUnder(RENDERER_OUT).length === 0) {
  console.error(`There is no built renderer in ${RENDERER_OUT}. Run \`npm run build\` (electron-vite build) first, then this again.`);
  process.exit(1);
}

const files = filesUnder(RENDERER_OUT)
  .map(sizesOf)
  .sort((a, b) => b.raw - a.raw || a.path.localeCompare(b.path));
const kinds = [...new Set(files.map((f) => f.kind))].sort();
const byKind = Object.fromEntries(kinds.map((kind) => [kind, total(files.filter((f) => f.kind === kind))]));
const all = total(files);
const builtAt = Math.max(...files.map((f) => statSync(join(RENDERER_OUT, f.path)).mtimeMs));
// Figures for an old build would be mistaken for the current sources' (out/ is not in git).
const stale = newestChange(RENDERER_SOURCES) > builtAt;

printReport(files, byKind, all);
if (stale) console.log(`\nnote: renderer/ changed after this build; \`npm run build\` first for figures of the current sources`);

const results = {
  date: new Date().toISOString(),
  commit: commit(),
  builtAt: new Date(builtAt).toISOString(),
  sourcesNewerThanBuild: stale,
  compression: { gzipLevel: GZIP_LEVEL, brotliQuality: BROTLI_QUALITY },
  files,
  byKind,
  total: all,
};
const out = join(BENCH_DIR, 'results', 'bundle-size.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote ${out}`);
