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
