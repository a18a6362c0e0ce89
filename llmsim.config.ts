import { defineConfig } from "./src/config/project.ts"

export default defineConfig({
  defaultScenario: "configs/scenarios/deepseek_v3_h800.yaml",
  runtime: { batch_size: 8, seq_len: 4096, phase: "both" },
  cacheDir: "cache"
})
