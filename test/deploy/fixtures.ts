/**
 * Test fixtures: the shipped DeepSeek-V3 templates and H800 hardware as a playbook model, and a
 * peak-only ("speed of light") timing of the H800 so hand-worked times do not depend on the
 * hardware file's fitted efficiency constants. Not a test file itself.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parse } from "yaml"
import type { PlaybookInput } from "../../src/deploy/largeEp.ts"
import type { Model as PlaybookModel } from "../../src/kernel/model.ts"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import type { LayerTemplate } from "../../src/schema/layer.ts"
import { analyticEstimator } from "../../src/timing/estimator.ts"
import { timingHardware } from "../../src/timing/roofline.ts"
import { REPO } from "../helpers/cli.ts"

const yaml = (rel: string) => parse(fs.readFileSync(path.join(REPO, rel), "utf8"))

export const DENSE: LayerTemplate = { type: "ffn_layer", config: yaml("configs/models/deepseek-v3/ffn_layer_config.yaml") }
export const MOE: LayerTemplate = { type: "moe_layer", config: yaml("configs/models/deepseek-v3/moe_layer_config.yaml") }

/** DeepSeek-V3: 3 dense + 58 MoE layers, FP8 weights, BF16 activations / KV / LM head. */
export const DEEPSEEK: PlaybookModel = {
  entries: [
    { index: 0, label: "ffn_layer", template: DENSE, repeat: 3 },
    { index: 1, label: "moe_layer", template: MOE, repeat: 58 }
  ],
  lm_head: { vocab_size: 129280, d_model: 7168 },
  precision: { weights: "fp8", activations: "bf16", kv_cache: "bf16", moe_experts: "fp8", lm_head: "bf16" }
}

/** The shipped H800 file without its efficiency block: 989 / 1980 TFLOPS, 3350 GB/s HBM, NVLink 200, NIC 50, no latencies. */
export const H800: HardwareSpec = (() => {
  const { efficiency: _e, ...hw } = yaml("configs/hardware/H800-SXM.yaml")
  return hw as HardwareSpec
})()

export const INPUT: PlaybookInput = { model: DEEPSEEK, hardware: H800, timing: timingHardware(H800, "none"), estimator: analyticEstimator }
