/**
 * A sweep worker thread: runs the chunks the main thread sends (src/sweep/engine.ts) with its
 * own chunk processor over the same job, reading the same cache packs. Only pure modules and
 * node built-ins are loaded here: no effect, no config loading. A learned estimator is rebuilt
 * from its model file (the main thread loaded and checked it; its digest is in the job).
 */
import * as fs from "node:fs"
import { parentPort, workerData } from "node:worker_threads"
import { mlEstimator } from "../ml/estimator.ts"
import { decodeModel } from "../ml/model.ts"
import { ESTIMATORS, type Estimator } from "../timing/estimator.ts"
import { chunkProcessor, type SweepJob } from "./chunk.ts"
import { readPacks } from "./pointCache.ts"

const { job, packs } = workerData as { job: SweepJob; packs: ReadonlyArray<string> }

const estimatorOfJob = (): Estimator => {
  const m = job.base.estimator_model
  if (m === undefined) return ESTIMATORS[job.base.estimator_id]
  const model = decodeModel(fs.readFileSync(m.file, "utf8"))
  if (typeof model === "string") throw new Error(`${m.file}: ${model}`)
  return mlEstimator(model, m.digest)
}

const { index } = readPacks(packs, true)
const processor = chunkProcessor(job, estimatorOfJob(), (key) => index.get(key))

parentPort!.on("message", (m: { from: number; to: number } | { candidates: true }) => {
  parentPort!.postMessage("candidates" in m ? { candidates: processor.candidates() } : processor.run(m.from, m.to))
})
