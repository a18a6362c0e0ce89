/**
 * Rendering of a run result as table, JSON or CSV.
 */
import type { RunResult, SimulationResult } from "../kernel/records.ts"
import { fixed, gb, giga, mega, renderTable } from "./table.ts"

export type Format = "table" | "json" | "csv"

const phaseTable = (r: SimulationResult): string => {
  const rows = r.layers.map((l) => [
    l.layer_name,
    l.layer_type,
    giga(l.flops),
    mega(l.bytes_read + l.bytes_written),
    mega(l.comm_bytes),
    fixed(l.compute_time_ms, 4),
    fixed(l.memory_time_ms, 4),
    fixed(l.comm_time_ms, 4),
    fixed(l.dominant_latency_ms, 4),
    l.bound
  ])
  rows.push([
    "TOTAL",
    "",
    giga(r.total_flops),
    mega(r.total_bytes),
    mega(r.total_comm_bytes),
    fixed(r.layers.reduce((a, l) => a + l.compute_time_ms, 0), 4),
    fixed(r.layers.reduce((a, l) => a + l.memory_time_ms, 0), 4),
    fixed(r.layers.reduce((a, l) => a + l.comm_time_ms, 0), 4),
    fixed(r.total_latency_ms, 4),
    ""
  ])
  return renderTable(
    [
      { header: "layer", align: "left" },
      { header: "type", align: "left" },
      { header: "GFLOP" },
      { header: "HBM MB" },
      { header: "link MB" },
      { header: "compute ms" },
      { header: "memory ms" },
      { header: "comm ms" },
      { header: "dominant ms" },
      { header: "bound", align: "left" }
    ],
    rows
  )
}

export const renderRunTable = (res: RunResult): string => {
  const out: Array<string> = []
  const p = res.parallelism
  out.push(`scenario  ${res.scenario}`)
  out.push(`hardware  ${res.hardware}   layout tp=${p.tp} dp=${p.dp} ep=${p.ep} (${res.serving.gpus} GPUs)   estimator ${res.estimator}`)
  out.push(`runtime   batch_size=${res.runtime.batch_size} seq_len=${res.runtime.seq_len} phase=${res.runtime.phase}` +
    (res.runtime.micro_batch ? ` micro_batch=${res.runtime.micro_batch}` : ""))
  for (const phase of ["prefill", "decode"] as const) {
    const r = res.phases[phase]
    if (!r) continue
    out.push("")
    out.push(`== ${phase} (per GPU) ==`)
    out.push(phaseTable(r))
    const bottleneck = r.layers.find((l) => l.layer_name === r.bottleneck_layer)
    out.push(`bottleneck layer: ${r.bottleneck_layer} (${fixed(bottleneck?.dominant_latency_ms, 4)} ms, ${bottleneck?.bound}-bound)`)
    out.push(`peak memory per GPU: ${gb(r.peak_memory_bytes)} GB = weights ${gb(r.memory.weights_bytes)} + KV cache ${gb(r.memory.kv_cache_bytes)} + activations ${gb(r.memory.activation_bytes)}; HBM ${gb(res.serving.hbm_bytes_per_gpu)} GB -> ${r.peak_memory_bytes <= res.serving.hbm_bytes_per_gpu ? "fits" : "DOES NOT FIT"}`)
  }
  const s = res.serving
  out.push("")
  out.push("== serving ==")
  out.push(renderTable(
    [{ header: "metric", align: "left" }, { header: "value" }],
    [
      ["TTFT ms", fixed(s.ttft_ms, 3)],
      ["TPOT ms", fixed(s.tpot_ms, 3)],
      ["decode tokens/s (replica)", fixed(s.throughput_tokens_per_s, 1)],
      ["decode tokens/s per GPU", fixed(s.throughput_tokens_per_s_per_gpu, 1)],
      ["prefill tokens/s (replica)", fixed(s.prefill_throughput_tokens_per_s, 1)],
      ["peak memory per GPU GB", gb(s.peak_memory_bytes)],
      ["HBM per GPU GB", gb(s.hbm_bytes_per_gpu)],
      ["fits in HBM", s.fits_in_hbm ? "yes" : "no"]
    ]
  ))
  return out.join("\n") + "\n"
}

const CSV_COLUMNS = [
  "phase",
  "layer_name",
  "layer_type",
  "flops",
  "bytes_read",
  "bytes_written",
  "comm_bytes",
  "compute_time_ms",
  "memory_time_ms",
  "comm_time_ms",
  "dominant_latency_ms",
  "estimated_execution_time_ms",
  "bound"
] as const

export const renderRunCsv = (res: RunResult): string => {
  const lines: Array<string> = [CSV_COLUMNS.join(",")]
  for (const phase of ["prefill", "decode"] as const) {
    for (const l of res.phases[phase]?.layers ?? []) {
      const rec = { ...l, phase } as unknown as Record<string, unknown>
      lines.push(CSV_COLUMNS.map((c) => String(rec[c])).join(","))
    }
  }
  return lines.join("\n") + "\n"
}

export const renderRunJson = (res: RunResult): string => JSON.stringify(res, null, 2) + "\n"

export const renderRun = (res: RunResult, format: Format): string =>
  format === "json" ? renderRunJson(res) : format === "csv" ? renderRunCsv(res) : renderRunTable(res)
