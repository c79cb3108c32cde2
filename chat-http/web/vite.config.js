// Builds the three pages into dist/, which chat-http embeds: index.html (the demo host page
// served at `/`), widget.html (the customer widget at `/widget`) and admin.html (the agents'
// dashboard at `/admin…`). Each page has its own entry, so the widget loads no dashboard
// code; what both use (React, socket.io-client, src/shared/) lands in a shared chunk.
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
        widget: resolve(import.meta.dirname, 'widget.html'),
        admin: resolve(import.meta.dirname, 'admin.html'),
      },
    },
  },
});
