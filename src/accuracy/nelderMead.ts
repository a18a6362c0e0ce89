/**
 * Nelder-Mead simplex minimisation (Nelder & Mead, "A simplex method for function minimization",
 * The Computer Journal 7(4), 1965), with the standard coefficients: reflection 1, expansion 2,
 * contraction 1/2, shrink 1/2 (as in scipy.optimize.fmin and Numerical Recipes section 10.5).
 * Derivative-free, deterministic, pure: the same start gives the same answer.
 *
 * Used for calibration, where the objective (log-time error over measured kernels) has kinks
 * (max(), ceil() of wave counts), so gradients are not available.
 */

export interface MinimiseOptions {
  /** Initial simplex edge along each axis (absolute). */
  readonly step?: number
  /** Stop after this many iterations. */
  readonly maxIterations?: number
  /** Stop when the simplex's function values span less than this. */
  readonly tolerance?: number
}

export interface MinimiseResult {
  readonly x: ReadonlyArray<number>
  readonly value: number
  readonly iterations: number
}

const REFLECT = 1
const EXPAND = 2
const CONTRACT = 0.5
const SHRINK = 0.5

export const nelderMead = (f: (x: ReadonlyArray<number>) => number, x0: ReadonlyArray<number>, options: MinimiseOptions = {}): MinimiseResult => {
  const n = x0.length
  const step = options.step ?? 0.5
  const maxIterations = options.maxIterations ?? 400 * Math.max(1, n)
  const tolerance = options.tolerance ?? 1e-12
  if (n === 0) return { x: [], value: f([]), iterations: 0 }
  let pts: Array<Array<number>> = [[...x0]]
  for (let i = 0; i < n; i++) pts.push(x0.map((v, j) => (j === i ? v + step : v)))
  let vals = pts.map(f)
  const along = (from: ReadonlyArray<number>, to: ReadonlyArray<number>, t: number) => from.map((v, j) => v + t * (to[j] - v))
  let it = 0
  for (; it < maxIterations; it++) {
    // Order best to worst (stable on ties: keeps the earlier point first).
    const order = vals.map((_, i) => i).sort((a, b) => vals[a] - vals[b] || a - b)
    pts = order.map((i) => pts[i])
    vals = order.map((i) => vals[i])
    if (Math.abs(vals[n] - vals[0]) < tolerance) break
    const centroid = x0.map((_, j) => pts.slice(0, n).reduce((s, p) => s + p[j], 0) / n)
    const worst = pts[n]
    const xr = along(centroid, worst, -REFLECT)
    const fr = f(xr)
    if (fr < vals[0]) {
      const xe = along(centroid, worst, -EXPAND)
      const fe = f(xe)
      if (fe < fr) {
        pts[n] = xe
        vals[n] = fe
      } else {
        pts[n] = xr
        vals[n] = fr
      }
      continue
    }
    if (fr < vals[n - 1]) {
      pts[n] = xr
      vals[n] = fr
      continue
    }
    // Contract towards the better of the worst point and its reflection.
    const outside = fr < vals[n]
    const xc = along(centroid, outside ? xr : worst, CONTRACT)
    const fc = f(xc)
    if (fc < (outside ? fr : vals[n])) {
      pts[n] = xc
      vals[n] = fc
      continue
    }
    for (let i = 1; i <= n; i++) {
      pts[i] = along(pts[0], pts[i], SHRINK)
      vals[i] = f(pts[i])
    }
  }
  let best = 0
  for (let i = 1; i < vals.length; i++) if (vals[i] < vals[best]) best = i
  return { x: pts[best], value: vals[best], iterations: it }
}
