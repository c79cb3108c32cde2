// Builds the two pages into dist/, which chat-http embeds: index.html (the demo host page
// served at `/`) and app.html (the widget and the dashboard, one app routed by path).
// public/widget.js, the embed loader, is copied as is.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: {
      input: {
        demo: resolve(import.meta.dirname, 'index.html'),
        app: resolve(import.meta.dirname, 'app.html'),
      },
    },
  },
});
