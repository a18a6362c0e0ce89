/**
 * `llmsim worker`'s flags, in process (they fail before anything starts); the runner itself is
 * driven through the real CLI against PostgreSQL in test/graph/cluster.test.ts.
 */
import { describe, expect, it } from "vitest"
import { workerCommand } from "../../src/cli/worker.ts"
import { commandErrors } from "../helpers/inProcess.ts"

describe("llmsim worker flags", () => {
  it("--cluster is required and must be a postgres:// URL; --listen and --advertise are HOST:PORT; --threads 1 to 256", async () => {
    expect((await commandErrors(workerCommand, [])).join("\n")).toMatch(/--cluster/)
    expect(await commandErrors(workerCommand, ["--cluster", "redis://x"])).toEqual(['--cluster: expected a postgres:// URL, got "redis://x"'])
    const url = "postgres://llmsim@127.0.0.1:5432/llmsim"
    expect(await commandErrors(workerCommand, ["--cluster", url, "--listen", "127.0.0.1"])).toEqual([
      '--listen: expected HOST:PORT (a port from 1 to 65535), got "127.0.0.1"'
    ])
    expect(await commandErrors(workerCommand, ["--cluster", url, "--advertise", "node-3:70000"])).toEqual([
      '--advertise: expected HOST:PORT (a port from 1 to 65535), got "node-3:70000"'
    ])
    expect((await commandErrors(workerCommand, ["--cluster", url, "--threads", "0"])).join("\n")).toMatch(/--threads must be 1 to 256, got 0/)
  })
})
