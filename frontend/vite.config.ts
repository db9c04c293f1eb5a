import { defineConfig } from "vitest/config";

// The production bundle is committed under the Django app's static folder and served by
// WhiteNoise; frontend/templates/frontend/index.html reads manifest.json to find the
// entry's file names. A relative base keeps lazy chunks working under any STATIC_URL.
export default defineConfig({
  base: "./",
  build: {
    outDir: "static/frontend/app",
    emptyOutDir: true,
    manifest: "manifest.json",
    rollupOptions: {
      input: "src/main.tsx",
      onwarn(warning, warn) {
        // xyflow marks itself "use client" for React Server Components; meaningless in a SPA.
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev` next to `manage.py nodeflow dev`: the API and login stay on Django.
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/login": "http://127.0.0.1:8000",
      "/logout": "http://127.0.0.1:8000",
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
