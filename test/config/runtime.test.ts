/**
 * The runtime check of src/config/runtime.ts (checkedRuntime, run by every session): more
 * micro-batches than sequences is refused, naming the flag or the scenario field it came from.
 * In process; the flag case is also run through the CLI in cli.test.ts.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigError, UsageError } from "../../src/config/errors.ts"
import { makeProject } from "../helpers/cli.ts"
import { largeEpFailure, runFailure, runInProcess, runOptions } from "../helpers/inProcess.ts"

const LLAMA = "configs/scenarios/llama_3_1_70b_h100.yaml"
const EP144 = "configs/scenarios/deepseek_v3_h800_decode_ep144.yaml"

describe("micro-batches against the batch", () => {
  it("--batch 4 below the scenario's micro_batch 8 names --batch; the scenario's own pair is positioned", async () => {
    const dir = makeProject()
    const file = path.join(dir, LLAMA)
    // runtime: batch_size 16, micro_batch 8 (line 27: "  micro_batch: 8", value at column 16)
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("  seq_len: 4096\n", "  seq_len: 4096\n  micro_batch: 8\n"))
    const flag = await runFailure(runOptions(dir, LLAMA, { noCache: true, runtime: { batch_size: 4 } }))
    expect(flag).toBeInstanceOf(UsageError)
    expect(flag.message).toBe("--batch: micro_batch 8 is more than the batch of 4 sequences (--batch); a micro-batch holds at least one sequence")
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("batch_size: 16", "batch_size: 2"))
    const field = await runFailure(runOptions(dir, LLAMA, { noCache: true }))
    expect(field).toBeInstanceOf(ConfigError)
    expect(field.message).toBe(
      `${LLAMA}:27:16 runtime.micro_batch: Expected at most 2: micro_batch 8 is more than the batch of 2 sequences (the scenario's runtime.batch_size); a micro-batch holds at least one sequence`
    )
    // equal is fine: one sequence per micro-batch
    const ok = await runInProcess(runOptions(dir, LLAMA, { noCache: true, runtime: { batch_size: 8, phase: "decode", seq_len: 128 } }))
    expect(ok.out.result.runtime.batch_size).toBe(8)
  })

  it("large-ep evaluate --ep 7 is refused with the flag named", async () => {
    const dir = makeProject()
    const e = await largeEpFailure({ run: runOptions(dir, EP144, { noCache: true }), eps: [7], overrides: {}, batch: { kind: "runtime" } })
    expect(e.message).toBe("--ep: ep 7 does not divide the 8 GPUs of a node (an EP group inside one node is a divisor of gpus_per_node 8)")
  })
})
