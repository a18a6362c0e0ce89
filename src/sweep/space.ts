/**
 * The point space of a sweep: the Cartesian product of its axes, addressed by index.
 *
 * Points are numbered in mixed radix over the axes in `AXES` order, the last axis varying
 * fastest, so a point's index, its coordinates and its neighbours (one step along one axis) are
 * all O(axes) arithmetic: nothing is materialised, which is what lets a million-point sweep run
 * in constant memory. A shard `k/n` is the k-th of n contiguous index ranges (as vitest and jest
 * number shards from 1), so n CI jobs cover every point exactly once.
 */
import { AXES, type AxisName, type AxisValue } from "./axes.ts"

interface Axis {
  readonly name: AxisName
  readonly values: ReadonlyArray<AxisValue>
}

export type Coordinates = Partial<Record<AxisName, AxisValue>>

export interface Space {
  /** The swept axes, in AXES order. */
  readonly axes: ReadonlyArray<Axis>
  readonly size: number
}

export const makeSpace = (values: Partial<Record<AxisName, ReadonlyArray<AxisValue>>>): Space => {
  const axes = AXES.filter((a) => values[a] !== undefined).map((name) => ({ name, values: values[name]! }))
  return { axes, size: axes.reduce((n, a) => n * a.values.length, 1) }
}

/** The coordinates of point `index` (0 <= index < size). */
export const pointAt = (space: Space, index: number): Coordinates => {
  const out: Coordinates = {}
  let rest = index
  for (let i = space.axes.length - 1; i >= 0; i--) {
    const a = space.axes[i]
    out[a.name] = a.values[rest % a.values.length]
    rest = Math.floor(rest / a.values.length)
  }
  return out
}

/** Per axis, the index of the value point `index` sits at. */
const digits = (space: Space, index: number): Array<number> => {
  const out = new Array<number>(space.axes.length)
  let rest = index
  for (let i = space.axes.length - 1; i >= 0; i--) {
    out[i] = rest % space.axes[i].values.length
    rest = Math.floor(rest / space.axes[i].values.length)
  }
  return out
}

export interface Neighbour {
  readonly axis: AxisName
  /** The neighbour's value on that axis. */
  readonly value: AxisValue
  readonly index: number
}

/** The points one step away from `index` along each axis, lower value first. */
export const neighbours = (space: Space, index: number): Array<Neighbour> => {
  const d = digits(space, index)
  const out: Array<Neighbour> = []
  let stride = 1
  const strides = new Array<number>(space.axes.length)
  for (let i = space.axes.length - 1; i >= 0; i--) {
    strides[i] = stride
    stride *= space.axes[i].values.length
  }
  space.axes.forEach((a, i) => {
    if (d[i] > 0) out.push({ axis: a.name, value: a.values[d[i] - 1], index: index - strides[i] })
    if (d[i] < a.values.length - 1) out.push({ axis: a.name, value: a.values[d[i] + 1], index: index + strides[i] })
  })
  return out
}

export interface Shard {
  /** 1-based. */
  readonly k: number
  readonly n: number
}

/** Parse `k/n` (1 <= k <= n). */
export const parseShard = (text: string): Shard | undefined => {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim())
  if (!m) return undefined
  const k = Number(m[1])
  const n = Number(m[2])
  return n >= 1 && k >= 1 && k <= n ? { k, n } : undefined
}

/** The index range [from, to) of shard k of n over `size` points. */
export const shardRange = (size: number, shard: Shard | undefined): { readonly from: number; readonly to: number } =>
  shard === undefined ? { from: 0, to: size } : { from: Math.floor(((shard.k - 1) * size) / shard.n), to: Math.floor((shard.k * size) / shard.n) }
