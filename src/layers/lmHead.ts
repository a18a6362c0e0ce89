/**
 * Vocabulary ops of one step, in the `lm_head` dtype (DeepSeek-V3 keeps embedding and head in
 * BF16), vocabulary split by tp (Megatron-LM vocab-parallel embedding and head):
 *  - embedding gather of the T tokens; when tp > 1 a ring all-reduce of T * d_model sums the
 *    vocab shards' partial rows.
 *  - final RMSNorm over the T tokens (engines normalise every position, then keep the last).
 *  - LM head GEMM on batch_size tokens only: only the last position of each sequence needs
 *    logits, in prefill and decode alike. When tp > 1 an all-gather of the batch's logits
 *    (batch * vocab, activations dtype) assembles the full vocabulary for sampling.
 *  - MTP decode (ctx.decode_tokens_per_seq = 1 + k): the head scores the 1 + k verified tokens of
 *    each sequence, and the shared head also scores each of the k drafts (DeepSeek-V3 section 2.2:
 *    the MTP modules share the output head): `mtp_lm_head` on batch * k rows, with its all-gather.
 */
import type { OpSpec } from "../ops/types.ts"
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import type { LmHead } from "../schema/scenario.ts"
import { decodeQueriesPerSeq, tokensPerStep, type LayerContext } from "./context.ts"
import { linkFor } from "./layout.ts"
import { collectiveOp, linearOp, op, rmsnormOp } from "./spec.ts"

const vocabPerGpu = (lm: LmHead, ctx: LayerContext): number => Math.ceil(lm.vocab_size / ctx.parallel.tp)

export const planLmHead = (lm: LmHead, ctx: LayerContext): ReadonlyArray<OpSpec> => {
  const t = tokensPerStep(ctx)
  const tp = ctx.parallel.tp
  const { activations: act, lm_head: w } = ctx.precision
  const ab = DTYPE_BYTES[act]
  const link = linkFor(tp, ctx)
  // Logits for the last position of each sequence, or for each of the 1 + k verified MTP tokens.
  const rows = ctx.batch_size * decodeQueriesPerSeq(ctx)
  const drafts = ctx.batch_size * (decodeQueriesPerSeq(ctx) - 1)
  return [
    op("embedding", "embedding", "lm_head", { tokens: t, d_model: lm.d_model, table_dtype: w, act_dtype: act }),
    ...(tp > 1 ? [collectiveOp("embedding_all_reduce", "all_reduce", t * lm.d_model * ab, tp, link)] : []),
    rmsnormOp("final_norm", "lm_head", t, lm.d_model, act),
    linearOp("lm_head", "lm_head", rows, lm.d_model, vocabPerGpu(lm, ctx), w, act),
    ...(tp > 1 ? [collectiveOp("logits_all_gather", "all_gather", rows * lm.vocab_size * ab, tp, link)] : []),
    ...(drafts > 0 ? [linearOp("mtp_lm_head", "lm_head", drafts, lm.d_model, vocabPerGpu(lm, ctx), w, act)] : []),
    ...(drafts > 0 && tp > 1 ? [collectiveOp("mtp_logits_all_gather", "all_gather", drafts * lm.vocab_size * ab, tp, link)] : [])
  ]
}

/** Input embedding + LM head (vocab / tp rows each, `lm_head` dtype) + final norm gamma. */
export const lmHeadWeightBytesPerGpu = (lm: LmHead, ctx: LayerContext): number =>
  2 * vocabPerGpu(lm, ctx) * lm.d_model * DTYPE_BYTES[ctx.precision.lm_head] + lm.d_model * DTYPE_BYTES[ctx.precision.activations]
