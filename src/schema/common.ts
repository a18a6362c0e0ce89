/**
 * Shared numeric schemas. Every number in a config must be finite (YAML `.inf` and `.nan`
 * would otherwise hash and print as null) and either 0 or a normal double: a denormal such as
 * 5e-324 is "positive" yet overflows to Infinity the moment it divides anything. A quantity a
 * formula divides by (a bandwidth, a TFLOPS rate, an efficiency fraction) is strictly positive,
 * so no time can come out as x / 0. Integers are safe integers (Schema.Int), hence finite.
 */
import { Schema } from "effect"
import { isPhysical, PHYSICAL, physicalProblem, type PhysicalKind } from "./physical.ts"

/** The smallest positive normal double (Number.MIN_VALUE is the smallest denormal). */
export const MIN_NORMAL = 2.2250738585072014e-308
/**
 * Largest magnitude a config number may have. No quantity in a config (GB, GB/s, TFLOPS, MB,
 * tokens, microseconds) comes near it, and products of such numbers stay far from overflow
 * (payload_mb 1e308 times 1e6 bytes per MB would be Infinity).
 */
export const MAX_MAGNITUDE = 1e15

// Both pass a non-finite value: Schema.Finite reports it once. Each carries its exact JSON Schema
// form, so the generated schema (src/schema/jsonSchema.ts) rejects what the decoder rejects.
const isNormalOrZero = Schema.makeFilter<number>(
  (n) => !Number.isFinite(n) || n === 0 || Math.abs(n) >= MIN_NORMAL || `Expected 0 or a number of magnitude >= ${MIN_NORMAL} (not a denormal), got ${n}`,
  { toJsonSchema: () => ({ not: { exclusiveMinimum: -MIN_NORMAL, exclusiveMaximum: MIN_NORMAL, not: { const: 0 } } }) }
)
const isNotHuge = Schema.makeFilter<number>(
  (n) => !Number.isFinite(n) || Math.abs(n) <= MAX_MAGNITUDE || `Expected a number of magnitude at most 1e15 (llmsim's input limit), got ${n}`,
  { toJsonSchema: () => ({ minimum: -MAX_MAGNITUDE, maximum: MAX_MAGNITUDE }) }
)

/** A finite number that is 0 or a normal double, at most MAX_MAGNITUDE in magnitude. */
const FiniteNumber = Schema.Finite.check(isNormalOrZero, isNotHuge)
/** A finite number >= 0. */
export const NonNegative = FiniteNumber.check(Schema.isGreaterThanOrEqualTo(0))
/** A finite number > 0 (so never a denormal): safe to divide by. */
export const Positive = FiniteNumber.check(Schema.isGreaterThan(0))
/** An integer >= 0. */
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
/** An integer >= 1. */
export const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
/** A fraction in [0, 1] (a multiplier, never a divisor). */
export const Fraction = FiniteNumber.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(1))
/** A fraction in (0, 1]: an achievable share of a peak rate, which times divide by. */
export const PositiveFraction = FiniteNumber.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1))

/**
 * A physical quantity of one kind (src/schema/physical.ts: the one table of ranges): a rate, a
 * bandwidth, a capacity, an achievable share, a latency, a price. `orZero`: 0 is allowed too and
 * means off (sm_load_gbps, reserved_gb). One check, so a value breaks it with one message; the
 * range lies inside the 1e15 limit and, but for a latency's 0, above the denormals, which are
 * refused as everywhere. Each carries its JSON Schema form, so an editor refuses what the decoder
 * refuses.
 */
export const physical = (kind: PhysicalKind, orZero = false) => {
  const r = PHYSICAL[kind]
  const range = { minimum: r.min, maximum: r.max }
  const denormalsIn = r.min < MIN_NORMAL
  return Schema.Finite.check(
    Schema.makeFilter<number>(
      (n) => {
        if (!Number.isFinite(n)) return true
        if (n !== 0 && Math.abs(n) < MIN_NORMAL) return `Expected 0 or a number of magnitude >= ${MIN_NORMAL} (not a denormal), got ${n}`
        return isPhysical(kind, n, orZero) || physicalProblem(kind, n, orZero)!
      },
      {
        toJsonSchema: () => ({
          ...(orZero && r.min > 0 ? { anyOf: [{ const: 0 }, range] } : range),
          ...(denormalsIn ? { not: { exclusiveMinimum: -MIN_NORMAL, exclusiveMaximum: MIN_NORMAL, not: { const: 0 } } } : {})
        })
      }
    )
  )
}
