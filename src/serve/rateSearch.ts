/**
 * The largest request rate an engine instance serves within its SLOs: what `sweep --bench` asks
 * of every layout. Pure: the caller runs a probe (one simulated benchmark at a rate) and says
 * whether it met the SLOs; this module only chooses the rates.
 *
 * The search, deterministic for a deterministic probe:
 * 1. rate inf (every request at once, the offline max-load run): meeting the SLOs there means
 *    no rate is too high, and that run is the answer. Its request throughput is the instance's
 *    capacity C; a rate above C only lengthens the queue.
 * 2. rate C: met, and C is the answer (the queue never builds enough to break an SLO).
 * 3. rate C / 64: missed, and no rate meets the SLOs (at such a load a request runs nearly alone,
 *    so TPOT is the small-batch decode step and TTFT the lone prefill: a lower rate cannot help).
 * 4. Otherwise bisect between the two in log space until the bracket is within `relative`
 *    (default 2%) or `max_probes` ran; the answer is the highest rate that met the SLOs.
 * The percentile metrics grow with the rate for a fixed seed (the arrival gaps scale as 1/rate,
 * the lengths stay), so a bisection converges on the boundary; a probe that breaks that order
 * only moves the bracket, never the rule that the answer met its SLOs.
 */

export interface RateProbe {
  /** Requests per second (Infinity: all at once). */
  readonly rate: number
  readonly meets: boolean
  /** Completed requests per second of the run (its capacity at rate Infinity). */
  readonly request_throughput: number
}

export interface RateSearchOptions {
  /** Stop bisecting when high / low < 1 + relative (default 0.02). */
  readonly relative?: number
  /** Most probes in all (default 14). */
  readonly max_probes?: number
  /** The lowest rate tried, as a fraction of the capacity (default 1/64). */
  readonly floor_fraction?: number
}

export interface RateSearch<P extends RateProbe> {
  /** The highest-rate probe that met the SLOs; undefined: none did. */
  readonly best: P | undefined
  /** Why the search stopped where it did. */
  readonly bound: "offline" | "capacity" | "bracket" | "none"
  /** Every probe, in the order run. */
  readonly probes: ReadonlyArray<P>
}

export const searchRate = <P extends RateProbe>(probe: (rate: number) => P, o: RateSearchOptions = {}): RateSearch<P> => {
  const relative = o.relative ?? 0.02
  const maxProbes = o.max_probes ?? 14
  const probes: Array<P> = []
  const run = (rate: number): P => {
    const p = probe(rate)
    probes.push(p)
    return p
  }
  const offline = run(Number.POSITIVE_INFINITY)
  if (offline.meets) return { best: offline, bound: "offline", probes }
  const capacity = offline.request_throughput
  if (!(capacity > 0)) return { best: undefined, bound: "none", probes }
  const atCapacity = run(capacity)
  if (atCapacity.meets) return { best: atCapacity, bound: "capacity", probes }
  const low = run(capacity * (o.floor_fraction ?? 1 / 64))
  if (!low.meets) return { best: undefined, bound: "none", probes }
  let best = low
  let lo = low.rate
  let hi = capacity
  while (hi / lo > 1 + relative && probes.length < maxProbes) {
    const p = run(Math.sqrt(lo * hi))
    if (p.meets) {
      lo = p.rate
      if (p.rate > best.rate) best = p
    } else hi = p.rate
  }
  return { best, bound: "bracket", probes }
}
