import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Removes every temp folder a test file made (test/helpers/temp.ts), also when a test fails.
    setupFiles: ["test/helpers/cleanup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // CLI tests spawn processes; two cores in CI.
    maxWorkers: 2
  }
})
