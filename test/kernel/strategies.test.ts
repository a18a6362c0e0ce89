/** Strategy selection for `--strategy` (src/kernel/strategies.ts), case by case. */
import { describe, expect, it } from "vitest"
import { coreStrategy, hiddenCommMs, planCore, STRATEGIES } from "../../src/kernel/strategies.ts"

describe("strategies", () => {
  it("every strategy is listed with a description and its module", () => {
    for (const [name, s] of Object.entries(STRATEGIES)) {
      expect(s.name).toBe(name)
      expect(s.description.length).toBeGreaterThan(20)
      expect(s.module).toMatch(/^src\/kernel\//)
    }
  })

  it("the core overlaps only with >= 2 micro-batches on >= 2 streams", () => {
    expect(coreStrategy({ overlap_efficiency: 0.8, max_concurrency: 2, micro_batch: 2 })).toBe("overlapped")
    expect(coreStrategy({ overlap_efficiency: 0.8, max_concurrency: 1, micro_batch: 2 })).toBe("serial")
    expect(coreStrategy({ overlap_efficiency: 0.8, max_concurrency: 2, micro_batch: 1 })).toBe("serial")
    // 0.8 x min(3, 5) = 2.4 ms hidden
    expect(hiddenCommMs({ overlap_efficiency: 0.8, max_concurrency: 2, micro_batch: 2 }, 3, 5)).toBeCloseTo(2.4, 12)
    expect(hiddenCommMs({ overlap_efficiency: 0.8, max_concurrency: 2, micro_batch: 1 }, 3, 5)).toBe(0)
  })

  it("runs the core strategies at the micro-batch count they need", () => {
    expect(planCore(undefined, undefined, 2)).toEqual({ ok: true })
    expect(planCore("overlapped", undefined, 2)).toEqual({ ok: true, micro_batch: 2 })
    expect(planCore("overlapped", 4, 2)).toEqual({ ok: true, micro_batch: 4 })
    expect(planCore("serial", undefined, 2)).toEqual({ ok: true })
  })

  it("refuses contradictions with a reason", () => {
    const a = planCore("overlapped", undefined, 1)
    expect(a.ok).toBe(false)
    if (!a.ok) expect(a.message).toContain("max_concurrency >= 2")
    const b = planCore("overlapped", 1, 2)
    expect(b.ok).toBe(false)
    const c = planCore("serial", 2, 2)
    expect(c.ok).toBe(false)
    if (!c.ok) expect(c.message).toContain("--strategy overlapped")
  })
})
