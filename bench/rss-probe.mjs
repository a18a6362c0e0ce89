// Preloaded by the scaling bench (node --import): writes this process's peak resident set size
// (KB, getrusage maxRSS) to BENCH_RSS_FILE when it exits.
import { writeFileSync } from "node:fs"
process.on("exit", () => {
  if (process.env.BENCH_RSS_FILE) writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS))
})
