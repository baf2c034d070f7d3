import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// Builds the benchmark baseline's page (bench/bare): the same Form.io setup with no Doorstep code.
export default defineConfig({
  root: resolve(__dirname, 'bare'),
  base: './',
  // Some of Form.io's CommonJS dependencies refer to Node's `global`; browsers call it globalThis.
  define: { global: 'globalThis' },
  build: {
    outDir: resolve(__dirname, '../bench/bare/dist'),
    emptyOutDir: true,
    target: 'es2021',
    chunkSizeWarningLimit: 4096,
    assetsInlineLimit: 0,
  },
});
