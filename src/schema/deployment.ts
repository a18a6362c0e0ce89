/**
 * DeploymentSpec: the `deployment` block of a scenario, read by the serving playbooks
 * (`llmsim large-ep evaluate`, `llmsim afd simulate`). Every field is optional; defaults are
 * applied in src/deploy/deployment.ts and command-line flags override them. Units are in the
 * field names (GB, us); link dtypes are storage formats (fp8 = 1 byte per element).
 *
 * Large expert parallelism (DeepSeek's units, deepseek_inference_overview.yaml: prefill EP32 on
 * 4 nodes, decode EP144 on 18 nodes, 32 redundant experts, FP8 dispatch, BF16 combine):
 *
 *   deployment:
 *     gpus_per_node: 8            # default: the hardware file's gpus_per_node, else 8
 *     nodes: 18                   # GPUs = nodes * gpus_per_node
 *     attention: { tp: 1, dp: 144 }   # tp * dp = GPUs (DP attention: tp 1)
 *     ep: 144                     # GPUs holding routed experts; divides tp * dp
 *     redundant_experts: 32       # (n_routed_experts + redundant) / ep slots per GPU
 *     dispatch_dtype: fp8
 *     combine_dtype: bf16
 *     two_batch_overlap: true     # needs micro_batches 2
 *     micro_batches: 2
 *     load_imbalance: sampling    # or a max/mean factor (1.2), or {expert_loads: [...]}
 *     kernel_mode: { prefill: high_throughput, decode: low_latency }
 *
 * Attention-FFN disaggregation (MegaScale-Infer, Step-3) lives under `afd`.
 */
import { Schema } from "effect"
import { NonNegative, NonNegativeInt, physical, PositiveInt } from "./common.ts"

/** Formats a dispatch / combine / AFD transfer may use on the wire. */
export const LinkDtype = Schema.Literals(["fp8", "bf16", "fp16", "fp32"])
export type LinkDtype = typeof LinkDtype.Type

/**
 * All-to-all kernel family (DeepEP README): `high_throughput` ("normal" kernels: NVLink +
 * RDMA forwarding, a token crosses to each remote node once; for prefill) or `low_latency`
 * (pure point-to-point sends of every (token, expert) copy; for decode).
 */
export const KernelMode = Schema.Literals(["high_throughput", "low_latency"])
export type KernelMode = typeof KernelMode.Type

const KernelModes = Schema.Struct({
  prefill: Schema.optionalKey(KernelMode),
  decode: Schema.optionalKey(KernelMode)
})

/**
 * Expected max/mean load over the EP GPUs:
 *  - a number >= 1: declared factor;
 *  - `sampling`: expected maximum of uniform routing over the GPUs (computed per step from the
 *    tokens routed, src/deploy/imbalance.ts);
 *  - `{expert_loads: [...]}`: measured tokens (or shares) per logical expert, placed with
 *    DeepSeek's EPLB global policy onto the expert slots.
 */
export const LoadImbalance = Schema.Union([
  Schema.Finite.check(Schema.isGreaterThanOrEqualTo(1)),
  Schema.Literal("sampling"),
  Schema.Struct({ expert_loads: Schema.Array(NonNegative).check(Schema.isMinLength(1)) })
])
export type LoadImbalance = typeof LoadImbalance.Type

/** Fixed cost of one all-to-all call per kernel family, microseconds. */
const A2aLatency = Schema.Struct({
  high_throughput: Schema.optionalKey(physical("latency_us")),
  low_latency: Schema.optionalKey(physical("latency_us"))
})

const AttentionLayout = Schema.Struct({
  tp: Schema.optionalKey(PositiveInt),
  dp: Schema.optionalKey(PositiveInt)
})

export const AfdLink = Schema.Literals(["interconnect", "nic"])
export type AfdLink = typeof AfdLink.Type

/** One direction of the attention <-> FFN exchange. */
const AfdTransfer = Schema.Struct({
  link: Schema.optionalKey(AfdLink),
  dtype: Schema.optionalKey(LinkDtype)
})

/**
 * Pipeline regimes of the AFD model: `cyclic` (the default) is the cycle time of the micro-batch
 * loop as a timed event graph, continuous in the stage times and the micro-batch count
 * (src/kernel/afdPipeline.ts); AIC's regimes (ai-dynamo/aiconfigurator
 * src/aiconfigurator/sdk/inference_session.py, AFDInferenceSession) stay available: `three_stage`
 * (attention, transfer and FFN overlap; needs enough micro-batches in flight, else falls back to
 * `conservative`), `conservative`, `serial`; `auto` picks three_stage when enough micro-batches are
 * in flight, else conservative (a switch: at the threshold a small change of a stage moves TPOT a lot).
 */
export const AfdRegime = Schema.Literals(["cyclic", "auto", "three_stage", "conservative", "serial"])
export type AfdRegime = typeof AfdRegime.Type

export const AfdDeployment = Schema.Struct({
  attention: Schema.optionalKey(
    Schema.Struct({
      instances: Schema.optionalKey(PositiveInt),
      gpus_per_instance: Schema.optionalKey(PositiveInt),
      /** Attention tensor parallelism inside an instance; data parallel over the rest. */
      tp: Schema.optionalKey(PositiveInt)
    })
  ),
  ffn: Schema.optionalKey(
    Schema.Struct({
      instances: Schema.optionalKey(PositiveInt),
      gpus_per_instance: Schema.optionalKey(PositiveInt),
      /** Redundant expert replicas over all FFN GPUs (expert parallel over every FFN GPU). */
      redundant_experts: Schema.optionalKey(NonNegativeInt)
    })
  ),
  /** Micro-batches in flight (each carries batch_size / micro_batches sequences per rank). */
  micro_batches: Schema.optionalKey(PositiveInt),
  /** Attention -> FFN transfer (hidden states). */
  a2f: Schema.optionalKey(AfdTransfer),
  /** FFN -> attention transfer (expert outputs). */
  f2a: Schema.optionalKey(AfdTransfer),
  regime: Schema.optionalKey(AfdRegime),
  /** Fixed cost of one transfer call, microseconds. */
  transfer_latency_us: Schema.optionalKey(physical("latency_us"))
})
export type AfdDeployment = typeof AfdDeployment.Type

export const DeploymentSpec = Schema.Struct({
  gpus_per_node: Schema.optionalKey(PositiveInt),
  nodes: Schema.optionalKey(PositiveInt),
  attention: Schema.optionalKey(AttentionLayout),
  ep: Schema.optionalKey(PositiveInt),
  redundant_experts: Schema.optionalKey(NonNegativeInt),
  dispatch_dtype: Schema.optionalKey(LinkDtype),
  combine_dtype: Schema.optionalKey(LinkDtype),
  two_batch_overlap: Schema.optionalKey(Schema.Boolean),
  micro_batches: Schema.optionalKey(PositiveInt),
  load_imbalance: Schema.optionalKey(LoadImbalance),
  kernel_mode: Schema.optionalKey(KernelModes),
  a2a_latency_us: Schema.optionalKey(A2aLatency),
  /** SMs the high-throughput all-to-all kernels occupy while overlapped with compute. */
  comm_sms: Schema.optionalKey(NonNegativeInt),
  /** HBM kept free for the runtime (CUDA context, allocator slack), GB. */
  reserved_gb: Schema.optionalKey(physical("gb", true)),
  afd: Schema.optionalKey(AfdDeployment)
})
export type DeploymentSpec = typeof DeploymentSpec.Type
