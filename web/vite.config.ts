import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// `npm run build:web` (vite build web) writes web/dist, which `coffer serve --console-dir
// web/dist` serves at /. `npx vite web` serves the console for development and forwards /api
// to a `coffer serve` on the default address.
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
})
