import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Removes every temp folder a test file made (test/helpers/temp.ts), also when a test fails.
    setupFiles: ["test/helpers/cleanup.ts"],
    // Rebuilds dist/ when stale: CLI tests spawn bin/llmsim.js, which runs the bundle.
    globalSetup: ["test/helpers/bundle.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // CLI tests spawn processes; two cores in CI.
    maxWorkers: 2,
    // Reuse each worker's module graph across test files: importing effect and the sources
    // again per file was most of a small file's time (measured: 14 small files 26.8 s -> 7.6 s).
    // Test files keep no state in shared modules: temp folders are removed per file by the setup
    // file, and watch processes are stopped by each file's own afterEach.
    isolate: false
  }
})
