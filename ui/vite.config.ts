import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The app runs inside Tauri's webview from its custom protocol; everything it needs is bundled
// here, nothing is fetched at run time.
export default defineConfig({
  plugins: [svelte()],
  // Some of Form.io's CommonJS dependencies refer to Node's `global`; browsers call it globalThis.
  define: process.env.VITEST ? {} : { global: 'globalThis' },
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    host: '127.0.0.1',
    // Tests only: the catalog test reads the Rust sources to check every reason they give has a
    // sentence. The dev server itself serves the UI folder and nothing above it.
    fs: process.env.VITEST ? { allow: ['..'] } : undefined,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK 2.40+ (Debian 12) supports ES2021; no need to ship transpiled legacy code.
    target: 'es2021',
    // Form.io is one big chunk by nature; it loads from disk, not from a network.
    chunkSizeWarningLimit: 4096,
    // Fonts and images stay separate files: inlining them as data: URLs would only bloat JS.
    assetsInlineLimit: 0,
  },
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
    testTimeout: 20_000,
    // Form.io prints every validation failure to the console; the tests assert on them instead.
    onConsoleLog: (log) => !log.includes('errorKeyOrMessage'),
  },
});
