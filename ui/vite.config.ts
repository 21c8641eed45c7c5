import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The desk loads the built files from tauri://localhost: no dev server, no remote scripts.
export default defineConfig({
  plugins: [svelte()],
  base: './',
  build: {
    outDir: 'dist',
    target: 'safari16',
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    // The map worker is loaded by URL (see src/map/MapView.ts); keep it a file, not inlined.
    assetsInlineLimit: 0,
  },
});
