/**
 * The shipped scenarios made by `llmsim import hf` are what a fresh import writes, byte for
 * byte (so the importer and the shipped files cannot drift apart). The options are the flags
 * each was imported with.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { importHf, type ImportOptions } from "../../src/hf/import.ts"
import { REPO } from "../helpers/cli.ts"

const base = { dp: 1, ep: 1, tp: 1, batch_size: 8, seq_len: 4096, phase: "both" as const, hardware: "configs/hardware/H100-SXM.yaml" }
const SHIPPED: ReadonlyArray<{ ref: string; name: string; scenario: string; o: Partial<ImportOptions> }> = [
  {
    ref: "deepseek-v3.2",
    name: "deepseek-v3.2",
    scenario: "deepseek_v3_2_h800",
    o: { hardware: "configs/hardware/H800-SXM.yaml", dp: 16, ep: 16, batch_size: 2, seq_len: 8192, mtp_acceptance: 0.85 }
  },
  { ref: "qwen3-next-80b-a3b", name: "qwen3-next-80b-a3b", scenario: "qwen3_next_80b_h100", o: { tp: 4, ep: 4, seq_len: 16384 } },
  { ref: "step3", name: "step3", scenario: "step3_h200", o: { hardware: "configs/hardware/H200-SXM.yaml", tp: 8, ep: 8 } },
  {
    ref: "llama-4-maverick",
    name: "llama-4-maverick",
    scenario: "llama_4_maverick_h200",
    o: { hardware: "configs/hardware/H200-SXM.yaml", tp: 8, ep: 8, batch_size: 4, seq_len: 16384 }
  },
  {
    ref: "minimax-text-01",
    name: "minimax-text-01",
    scenario: "minimax_text_01_h200",
    o: { hardware: "configs/hardware/H200-SXM.yaml", tp: 8, ep: 8, batch_size: 4, seq_len: 32768 }
  },
  // Models of the serving reference rows (data/reference/trtllm_perf_overview.csv, serving_benchmarks.csv).
  { ref: "llama-3.1-8b", name: "llama-3.1-8b", scenario: "llama_3_1_8b_h100", o: {} },
  { ref: "llama-3.1-405b", name: "llama-3.1-405b", scenario: "llama_3_1_405b_h200", o: { hardware: "configs/hardware/H200-SXM.yaml", tp: 8 } },
  { ref: "qwen3-30b-a3b", name: "qwen3-30b-a3b", scenario: "qwen3_30b_a3b_h100", o: {} },
  { ref: "gpt-oss-20b", name: "gpt-oss-20b", scenario: "gpt_oss_20b_h100", o: {} },
  { ref: "mixtral-8x22b", name: "mixtral-8x22b", scenario: "mixtral_8x22b_h100", o: { tp: 8, ep: 8 } }
]

describe("shipped imports = a fresh import", () => {
  for (const s of SHIPPED) {
    it(`${s.scenario}.yaml and configs/models/${s.name}/`, () => {
      const source = `data/reference/hf-configs/${s.ref}.json`
      const json = JSON.parse(fs.readFileSync(path.join(REPO, source), "utf8"))
      const r = importHf(json, {
        ...base,
        ...s.o,
        name: s.name,
        model_dir: `configs/models/${s.name}`,
        source,
        schema_dir: { templates: "../../../schema", scenario: "../../schema" }
      })
      if (!r.ok) throw new Error(JSON.stringify(r.problems))
      expect(fs.readFileSync(path.join(REPO, "configs/scenarios", `${s.scenario}.yaml`), "utf8")).toBe(r.scenario)
      for (const t of r.templates) expect(fs.readFileSync(path.join(REPO, t.path), "utf8")).toBe(t.text)
    })
  }
})
