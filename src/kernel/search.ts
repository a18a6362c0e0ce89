/**
 * The one batch search: the largest integer x in [1, cap] with ok(x), for a predicate that is
 * true then false as x grows (memory and step time grow with the batch). Doubling from 1 then
 * bisection, so a small answer costs few evaluations: about 2 log2(answer) calls.
 */
export const largestSatisfying = (ok: (x: number) => boolean, cap = 1 << 24): number => {
  if (cap < 1 || !ok(1)) return 0
  let lo = 1
  let hi = 2
  while (hi <= cap && ok(hi)) {
    lo = hi
    hi *= 2
  }
  // hi fails, or lies past the cap (treated as failing).
  hi = Math.min(hi, cap + 1)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (ok(mid)) lo = mid
    else hi = mid
  }
  return lo
}

/**
 * The largest integer x in [1, cap] with bytes(x) <= capacity, for a memory function that is
 * non-decreasing and close to affine in x (weights + x x per-sequence bytes; the micro-batch
 * rounding of communication buffers adds steps of a few bytes). The affine solve from x = 1 and
 * x = 2 lands on or next to the answer, and a short walk settles it exactly: 4-6 evaluations
 * instead of the ~2 log2(answer) of `largestSatisfying`, which remains the fall-back when the
 * walk has not settled after a few steps (a function far from affine). Same answer either way.
 */
export const largestWithinCapacity = (bytes: (x: number) => number, capacity: number, cap = 1 << 24): number => {
  const ok = (x: number) => bytes(x) <= capacity
  if (cap < 1) return 0
  const f1 = bytes(1)
  if (f1 > capacity) return 0
  if (cap === 1) return 1
  const slope = bytes(2) - f1
  let x = slope > 0 ? Math.floor(1 + (capacity - f1) / slope) : cap
  x = Math.min(Math.max(x, 1), cap)
  for (let step = 0; step < 4; step++) {
    if (ok(x)) {
      if (x >= cap || !ok(x + 1)) return x
      x++
    } else {
      x--
      if (x >= 1 && ok(x)) return x
    }
  }
  return largestSatisfying(ok, cap)
}
