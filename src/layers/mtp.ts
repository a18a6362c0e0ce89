/**
 * Multi-token prediction at decode time (DeepSeek-V3 tech report arXiv 2412.19437 sections 2.2
 * and 5.4.3): k MTP layers each draft one more token per sequence; the main model verifies the
 * 1 + k tokens in one step and keeps the longest accepted prefix plus its own next token. With
 * each draft accepted independently with probability a, a step emits on average
 *   E = 1 + a + a^2 + ... + a^k = (1 - a^(k+1)) / (1 - a)
 * tokens per sequence (Leviathan, Kalman, Matias, Fast Inference from Transformers via
 * Speculative Decoding, arXiv 2211.17192, eq. 1). DeepSeek reports a = 0.85-0.9 for k = 1, a
 * 1.8x decode speed-up (E = 1.85-1.9 before the extra work of verifying 2 tokens).
 */
export const expectedTokensPerStep = (draftTokens: number, acceptance: number): number => {
  let sum = 0
  for (let i = 0; i <= draftTokens; i++) sum += Math.pow(acceptance, i)
  return sum
}
