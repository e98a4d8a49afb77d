import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

export default defineConfig({
  main: {
    build: {
      rolldownOptions: {
        input: {
          index: resolve('electron/main/index.ts'),
          // The peer without Electron: the same code the main process starts, runnable with
          // plain `node out/main/headless.js` (no TypeScript loader: less memory per node).
          headless: resolve('electron/headless/main.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        input: resolve('electron/preload/index.ts'),
        // Sandboxed preloads cannot be ES modules; package.json says "type": "module",
        // so the .cjs extension keeps Node from reading this file as one.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    build: {
      rolldownOptions: { input: resolve('renderer/index.html') },
    },
    // No svelte.config.js: Svelte 5 reads TypeScript in components without a preprocessor.
    plugins: [svelte({ configFile: false })],
  },
});
