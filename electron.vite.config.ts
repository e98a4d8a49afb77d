import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

export default defineConfig({
  main: {
    build: {
      rolldownOptions: { input: resolve('electron/main/index.ts') },
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
