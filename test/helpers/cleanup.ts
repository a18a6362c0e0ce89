/**
 * Vitest setup file (vitest.config.ts setupFiles): removes every temp folder a test file made
 * once the file is done, whether its tests passed or failed.
 */
import { afterAll } from "vitest"
import { removeTempDirs } from "./temp.ts"

afterAll(() => {
  removeTempDirs()
})
