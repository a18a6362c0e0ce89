/**
 * The JSON Lines a sweep writes (`--points FILE.jsonl`) as Effect schemas: the header line
 * `{"llmsim_sweep": {...}}` (src/sweep/run.ts SweepHeader) and one row per point
 * (src/sweep/judge.ts Row). `sweep merge` decodes every line with them, so any valid JSON
 * spacing reads the same, and a line that is not what a sweep writes is refused at its field
 * (`FILE:LINE:COL field: message`), never read as a row with a hole in it. Strict: a key a sweep
 * does not write is an error too.
 */
import { Result, Schema, type SchemaAST, SchemaIssue } from "effect"
import type { EXTRA_AXES, Row } from "./judge.ts"
import type { SweepHeader } from "./run.ts"
import { AXES } from "./axes.ts"
import { CALIBRATED_CONSTANTS, ConstantCalibration } from "../schema/hardware.ts"

const Num = Schema.Finite
const NullNum = Schema.NullOr(Num)
const AxisValue = Schema.Union([Schema.String, Num])
const AxisValues = Schema.optionalKey(Schema.Array(AxisValue))
const AxisText = Schema.optionalKey(Schema.String)
const AxisName = Schema.Literals(AXES)
const Objective = Schema.Literals(["tokens_per_s_per_gpu", "tokens_per_s_per_user", "cost_per_1m_output_tokens_usd", "cost_per_1m_input_tokens_usd"])
const Strategy = Schema.Literals(["serial", "overlapped", "two-batch-overlap", "serial-micro-batches", "afd-pipeline"])
const PointModel = Schema.Literals(["core", "large-ep", "afd"])

const Constraints = Schema.Struct({
  ttft_ms_max: Schema.optionalKey(Num),
  tpot_ms_max: Schema.optionalKey(Num),
  tokens_per_s_per_user_min: Schema.optionalKey(Num),
  gpus_max: Schema.optionalKey(Num)
})

const Inputs = Schema.Struct({
  cwd: Schema.String,
  runtime: Schema.Struct({
    batch_size: Schema.optionalKey(Num),
    seq_len: Schema.optionalKey(Num),
    phase: Schema.optionalKey(Schema.Literals(["prefill", "decode", "both"])),
    micro_batch: Schema.optionalKey(Num),
    tokens_per_expert: Schema.optionalKey(Num),
    mtp_acceptance_rate: Schema.optionalKey(Num)
  }),
  estimator: Schema.String,
  model: Schema.NullOr(Schema.String),
  efficiency: Schema.Literals(["hardware", "none"]),
  axes: Schema.Struct({
    hardware: AxisText,
    weights: AxisText,
    kv_cache: AxisText,
    moe_experts: AxisText,
    instances: AxisText,
    tp: AxisText,
    dp: AxisText,
    ep: AxisText,
    redundant_experts: AxisText,
    tbo: AxisText,
    micro_batches: AxisText,
    seq: AxisText,
    output: AxisText,
    batch: AxisText
  }),
  constraints: Constraints,
  objective: Schema.NullOr(Objective),
  by: Schema.NullOr(AxisName),
  strategy: Schema.NullOr(Strategy),
  price_per_gpu_hour_usd: NullNum,
  require_calibrated: Schema.Boolean
})

const Constant = Schema.Literals(CALIBRATED_CONSTANTS)

/** src/timing/calibration.ts CalibrationSummary: a hardware's status and each constant's source. */
const CalibrationSummary = Schema.Struct({
  status: Schema.Literals(["fitted", "borrowed", "partial", "datasheet only", "unstated", "off (--efficiency none)"]),
  constants: Schema.optionalKey(Schema.Record(Constant, Schema.Union([ConstantCalibration, Schema.Struct({ status: Schema.Literal("unstated") })])))
})

const Header = Schema.Struct({
  version: Schema.Literal(2),
  scenario: Schema.String,
  model: PointModel,
  axes: Schema.Struct({
    hardware: AxisValues,
    weights: AxisValues,
    kv_cache: AxisValues,
    moe_experts: AxisValues,
    instances: AxisValues,
    tp: AxisValues,
    dp: AxisValues,
    ep: AxisValues,
    redundant_experts: AxisValues,
    tbo: AxisValues,
    micro_batches: AxisValues,
    seq: AxisValues,
    output: AxisValues,
    batch: AxisValues
  }),
  constraints: Constraints,
  objective: Objective,
  group_by: Schema.NullOr(Schema.Struct({ axis: Schema.String, objective: Objective })),
  phases: Schema.Array(Schema.Literals(["prefill", "decode"])),
  uncalibrated_hardware: Schema.Array(Schema.String),
  inputs: Inputs,
  code: Schema.Struct({ llmsim: Schema.String, node: Schema.String, digest: Schema.String }),
  parts: Schema.Struct({ scenario: Schema.String, hardware: Schema.Record(Schema.String, Schema.String), estimator: Schema.String }),
  prices: Schema.Record(Schema.String, NullNum),
  sweep_digest: Schema.String,
  total_points: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  shard: Schema.NullOr(Schema.String),
  first_index: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  end_index: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  calibration: Schema.Record(Schema.String, CalibrationSummary),
  calibration_differences: Schema.Array(Schema.Struct({ constants: Schema.Array(Constant), by_hardware: Schema.Record(Schema.String, Schema.String) }))
})

/** The first line of a sweep's JSON Lines. */
export const HeaderLine = Schema.Struct({ llmsim_sweep: Header })

/** Only the version, read before the strict decode so an older header is named as such. */
export const HeaderVersion = Schema.Struct({ llmsim_sweep: Schema.Struct({ version: Schema.Unknown }) })

/** A row's fields besides the extra axes it carries. */
const ROW_FIELDS = {
  index: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  hardware: Schema.String,
  model: PointModel,
  strategy: Schema.NullOr(Strategy),
  batch: Num,
  seq: Num,
  output: Num,
  tp: NullNum,
  dp: NullNum,
  ep: NullNum,
  gpus: NullNum,
  ttft_ms: NullNum,
  tpot_ms: NullNum,
  tokens_per_s_per_gpu: NullNum,
  tokens_per_s_per_user: NullNum,
  prefill_tokens_per_s_per_gpu: NullNum,
  memory_per_gpu_bytes: NullNum,
  weights_bytes: NullNum,
  kv_cache_bytes: NullNum,
  activation_bytes: NullNum,
  comm_buffer_bytes: NullNum,
  capacity_bytes: NullNum,
  fits_in_hbm: Schema.Boolean,
  max_batch: NullNum,
  bottleneck: Schema.NullOr(Schema.String),
  price_per_gpu_hour_usd: NullNum,
  cost_per_1m_output_tokens_usd: NullNum,
  cost_per_1m_input_tokens_usd: NullNum,
  feasible: Schema.Boolean,
  rejected_by: Schema.String,
  invalid: Schema.NullOr(Schema.String)
}

const Extra = Schema.optionalKey(AxisValue)

/** One point's row, of any sweep (the extra axes a sweep varies are optional). */
const RowLine = Schema.Struct({
  ...ROW_FIELDS,
  weights: Extra,
  kv_cache: Extra,
  moe_experts: Extra,
  instances: Extra,
  redundant_experts: Extra,
  tbo: Extra,
  micro_batches: Extra
})

/**
 * The rows of a sweep that varies the extra axes `extras`: each of those keys required, the
 * others absent (and decoding a row of a known sweep skips the optional keys, a third of the
 * time of a row).
 */
export const rowLineFor = (extras: ReadonlyArray<(typeof EXTRA_AXES)[number]>) => {
  const schema = Schema.Struct({ ...ROW_FIELDS, ...Object.fromEntries(extras.map((a) => [a, AxisValue])) })
  const is = Schema.is(schema)
  return {
    schema,
    /** Whether a parsed line is such a row (a guard: the parsed object is the row, no copy). */
    is: (value: unknown): value is Row => is(value)
  }
}

// The schemas decode exactly the types the sweep writes (a field added to one must be added to the other).
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const headerIsSweepHeader: Same<typeof Header.Type, SweepHeader> = true
const rowIsRow: Same<typeof RowLine.Type, Row> = true
void headerIsSweepHeader
void rowIsRow

/** What is wrong with a line, at a field path (empty: the whole line). */
export interface LineIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

const decoders = new WeakMap<Schema.Top, (value: unknown, options: SchemaAST.ParseOptions) => Result.Result<unknown, Schema.SchemaError>>()

/** One decoder per schema (a merge decodes a million rows). */
const decoderOf = <S extends Schema.Decoder<unknown>>(schema: S) => {
  let d = decoders.get(schema)
  if (d === undefined) decoders.set(schema, (d = Schema.decodeUnknownResult(schema)))
  return d as (value: unknown, options: SchemaAST.ParseOptions) => Result.Result<S["Type"], Schema.SchemaError>
}

/** Decode a parsed line, strictly (unknown keys refused) unless `strict` is false; the first issue otherwise. */
export const decodeLine = <S extends Schema.Decoder<unknown>>(schema: S, value: unknown, strict = true): { readonly value: S["Type"] } | LineIssue => {
  const r = decoderOf(schema)(value, { errors: "first", onExcessProperty: strict ? "error" : "ignore" })
  if (Result.isSuccess(r)) return { value: r.success }
  const first = SchemaIssue.makeFormatterStandardSchemaV1()(r.failure.issue).issues[0]
  const path = (first?.path ?? []).map((p) => {
    const key = typeof p === "object" && p !== null && "key" in p ? p.key : p
    return typeof key === "number" ? key : String(key)
  })
  return { path, message: first?.message ?? "not what a sweep writes" }
}

/** The dotted path of a field. */
export const pathText = (path: ReadonlyArray<string | number>): string => path.join(".")

/**
 * The 1-based column of a field path's key in a JSON line (each key searched after the one
 * before it, so `inputs.axes.batch` finds the `batch` inside `inputs`); 1 when not found.
 */
export const columnOf = (line: string, path: ReadonlyArray<string | number>): number => {
  let at = 0
  let col = 1
  for (const key of path) {
    if (typeof key === "number") continue
    const re = new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"\\s*:`, "g")
    re.lastIndex = at
    const m = re.exec(line)
    if (m === null) break
    col = m.index + 1
    at = m.index + m[0].length
  }
  return col
}
