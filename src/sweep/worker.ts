/**
 * A sweep worker thread: runs the chunks the main thread sends (src/sweep/engine.ts) with its
 * own chunk processor over the same job, reading the same cache packs. Only pure modules and
 * node built-ins are loaded here: no effect, no config loading.
 */
import { parentPort, workerData } from "node:worker_threads"
import { chunkProcessor, type SweepJob } from "./chunk.ts"
import { readPacks } from "./pointCache.ts"

const { job, packs } = workerData as { job: SweepJob; packs: ReadonlyArray<string> }
const index = readPacks(packs)
const processor = chunkProcessor(job, (key) => index.get(key))

parentPort!.on("message", (m: { from: number; to: number }) => {
  parentPort!.postMessage(processor.run(m.from, m.to))
})
