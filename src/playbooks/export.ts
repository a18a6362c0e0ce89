/**
 * `llmsim export`: a deployment as the launch files of a named engine. The deployment is what
 * `llmsim bench` serves for the scenario and flags (one engine instance, or the prefill and
 * decode pools of a disaggregated one), simulated on the planned workload for the predicted
 * figures; its roles take the engine settings the simulator used (after the engine's memory
 * rule), so the memory fraction, running limit, step budget and CUDA-graph bound written are the
 * ones the prediction rests on (src/serve/launchFiles.ts).
 */
import { Effect } from "effect"
import { UsageError } from "../config/errors.ts"
import { launchFiles, type LaunchFile, type LaunchInput, type LaunchRole } from "../serve/launchFiles.ts"
import { runBench, type BenchOptions, type BenchOutput } from "./bench.ts"

export const EXPORT_ENGINES = ["vllm", "sglang", "trtllm"] as const
type ExportEngine = (typeof EXPORT_ENGINES)[number]

export interface ExportOptions extends Omit<BenchOptions, "engine" | "onOutcome" | "onProgress"> {
  readonly engine: ExportEngine
  /** The checkpoint the engine loads (Hugging Face id or path). */
  readonly model: string
  /** The router's port (aggregated: the server's); roles count up from it. */
  readonly port?: number
}

export interface Exported {
  readonly input: LaunchInput
  readonly files: ReadonlyArray<LaunchFile>
  readonly predicted: BenchOutput
}

/** The launch roles of what bench served. */
const rolesOf = (out: BenchOutput): ReadonlyArray<LaunchRole> => {
  const s = out.setup
  if (s.disaggregated === null)
    return [
      {
        role: "server",
        instances: 1,
        tp: s.layout.tp,
        dp: s.layout.dp,
        ep: s.layout.ep,
        wide_ep: s.layout.wide_ep,
        two_batch_overlap: s.layout.two_batch_overlap,
        settings: s.engine,
        max_model_len: s.max_model_len
      }
    ]
  const d = s.disaggregated
  const role = (name: "prefill" | "decode", p: typeof d.prefill): LaunchRole => ({
    role: name,
    instances: p.instances,
    tp: p.layout.tp,
    dp: p.layout.dp,
    ep: p.layout.ep,
    wide_ep: p.layout.wide_ep,
    two_batch_overlap: p.layout.two_batch_overlap,
    settings: p.engine,
    max_model_len: s.max_model_len
  })
  return [role("prefill", d.prefill), role("decode", d.decode)]
}

export const runExport = (o: ExportOptions) =>
  Effect.gen(function* () {
    if (o.workload.dataset !== "random")
      return yield* Effect.fail(new UsageError({ message: "--dataset-name: export writes a random workload's client command (random only)" }))
    const predicted = yield* runBench({ ...o, engine: o.engine })
    const server = o.deployment !== undefined && "server" in o.deployment ? o.deployment.server : undefined
    const w = predicted.workload
    const input: LaunchInput = {
      engine: o.engine,
      model: o.model,
      // Replicas of a planned aggregated deployment: the same server, each on its own GPUs and port.
      roles: rolesOf(predicted).map((r) => (server === undefined ? r : { ...r, instances: server.instances })),
      workload: {
        input_len: o.workload.input_len ?? 1024,
        output_len: o.workload.output_len ?? 128,
        range_ratio: o.workload.range_ratio ?? 0,
        num_prompts: w.num_prompts,
        request_rate: w.request_rate,
        seed: w.seed,
        ...(o.goodput === undefined ? {} : { goodput: o.goodput })
      },
      port: o.port ?? 8000
    }
    const exported: Exported = { input, files: launchFiles(input), predicted }
    return exported
  })
