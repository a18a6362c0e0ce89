/**
 * The one op-timing function: an op spec (src/module emits them) in, its `OpExecution` record
 * out: exact cost from the op's formula (src/ops/registry.ts evaluateOpCost), times from the
 * estimator (analytic roofline by default, src/timing). The build graph's op nodes, the
 * playbooks' deployment models and the accuracy checks all time ops here.
 *
 * One deployment effect changes a compute op's time: SMs taken by overlapped communication
 * kernels. DeepEP's high-throughput kernels run on `comm_sms` of the GPU's SMs while the other
 * micro-batch computes (Buffer.num_sms = 20 by default, deepseek-ai/DeepEP deep_ep/buffer.py),
 * so the tensor-core rate left to compute is (sm_count - comm_sms) / sm_count of the peak
 * (shallowsim scales effective FLOPS the same way in prefill: Yingzi2021/shallowsim, "Notes/DeepSeek
 * architecture & analytical model.md"). The compute
 * time grows by sm_count / (sm_count - comm_sms); memory time is left alone (HBM bandwidth is
 * not partitioned by SM); dominant = max(compute, memory) + the op's fixed kernel latency as
 * before. Low-latency kernels receive through hooks and occupy no SMs (DeepEP README).
 */
import { evaluateOpCost } from "../ops/registry.ts"
import type { OpCategory, OpSpec } from "../ops/types.ts"
import type { Estimator } from "../timing/estimator.ts"
import type { OpTiming, TimingHardware } from "../timing/roofline.ts"
import type { OpExecution } from "./records.ts"

/** compute-time multiplier when `commSms` of `smCount` SMs run communication kernels. */
export const smSlowdown = (smCount: number, commSms: number): number => (commSms <= 0 || smCount <= 0 ? 1 : smCount / Math.max(1, smCount - commSms))

const slowed = (t: OpTiming, factor: number): OpTiming => {
  if (factor === 1 || t.bound === "comm") return t
  const compute = t.compute_time_ms * factor
  const fixed = t.dominant_latency_ms - Math.max(t.compute_time_ms, t.memory_time_ms)
  return {
    ...t,
    compute_time_ms: compute,
    dominant_latency_ms: Math.max(compute, t.memory_time_ms) + fixed,
    bound: compute >= t.memory_time_ms ? "compute" : "memory"
  }
}

/**
 * A kernel invariant broke: a computed time is not a finite number >= 0. Configs are validated
 * at decode and load, so this is a defect in llmsim, never a user error; it is thrown (the CLI
 * reports it as an internal error) rather than summed, since Infinity prints as null and a
 * JSON null sums as 0.
 */
export class KernelInvariantError extends Error {
  override readonly name = "KernelInvariantError"
}

/** `value`, checked to be a finite time >= 0 ms; `where` names the op or layer, `field` the field. */
export const checkedMs = (where: string, field: string, value: number): number => {
  if (Number.isFinite(value) && value >= 0) return value
  throw new KernelInvariantError(`${where}: ${field} is ${value}, expected a finite time >= 0 ms`)
}

/** Cost and time of one op; `computeSlowdown` >= 1 stretches compute time (SMs lent to communication). */
export const timeSpec = (spec: OpSpec, hw: TimingHardware, estimator: Estimator, computeSlowdown = 1): OpExecution => {
  const cost = evaluateOpCost(spec)
  const t = slowed(estimator.time(spec, cost, hw), computeSlowdown)
  const where = `op ${spec.name} (${spec.kind})`
  for (const field of ["compute_time_ms", "memory_time_ms", "comm_time_ms", "dominant_latency_ms"] as const) checkedMs(where, field, t[field])
  return {
    op: spec.name,
    kind: spec.kind,
    category: spec.category,
    flops: cost.flops,
    bytes_read: cost.bytes_read,
    bytes_written: cost.bytes_written,
    comm_bytes: cost.comm_bytes,
    link: cost.link ?? null,
    math_dtype: cost.math_dtype ?? null,
    compute_time_ms: t.compute_time_ms,
    memory_time_ms: t.memory_time_ms,
    comm_time_ms: t.comm_time_ms,
    dominant_latency_ms: t.dominant_latency_ms,
    bound: t.bound,
    notes: cost.notes,
    ...(t.estimate === undefined ? {} : { estimator: t.estimate.estimator, estimator_note: t.estimate.note })
  }
}

export const timeSpecs = (specs: ReadonlyArray<OpSpec>, hw: TimingHardware, estimator: Estimator, computeSlowdown = 1): Array<OpExecution> =>
  specs.map((s) => timeSpec(s, hw, estimator, computeSlowdown))

export const sumMs = (ops: ReadonlyArray<OpExecution>): number => ops.reduce((a, o) => a + o.dominant_latency_ms, 0)

/** Categories of the attention stage (before dispatch) and of the FFN stage. */
export const ATTENTION_STAGE: ReadonlySet<OpCategory> = new Set(["attention_linear", "attention_core", "other", "moe_router"])
export const FFN_STAGE: ReadonlySet<OpCategory> = new Set(["moe_shared", "moe_experts", "ffn"])
