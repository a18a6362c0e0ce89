// Preloaded by the benches (node --import, or NODE_OPTIONS so a re-executed child loads it too):
// writes the largest peak resident set size (KB, getrusage maxRSS) of the processes sharing
// BENCH_RSS_FILE when each exits; the re-exec wrapper exits after its child, so the file ends
// holding the larger of the two.
import { readFileSync, writeFileSync } from "node:fs"
process.on("exit", () => {
  const file = process.env.BENCH_RSS_FILE
  if (!file) return
  let prior = 0
  try {
    prior = Number(readFileSync(file, "utf8")) || 0
  } catch {}
  writeFileSync(file, String(Math.max(prior, process.resourceUsage().maxRSS)))
})
