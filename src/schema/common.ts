/**
 * Shared numeric schemas. Every number in a config must be finite (YAML `.inf` and `.nan`
 * would otherwise hash and print as null) and, unless said otherwise, non-negative.
 */
import { Schema } from "effect"

/** A finite number >= 0. */
export const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
/** A finite number > 0. */
export const Positive = Schema.Finite.check(Schema.isGreaterThan(0))
/** An integer >= 0. */
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
/** An integer >= 1. */
export const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
/** A fraction in [0, 1]. */
export const Fraction = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(1))
