// defineConfig from its dependency-free module: importing the config loads nothing else.
import { defineConfig } from "./src/config/define.ts"

export default defineConfig({
  defaultScenario: "configs/scenarios/deepseek_v3_h800.yaml",
  runtime: { batch_size: 8, seq_len: 4096, phase: "both" },
  cacheDir: "cache"
})
