/**
 * The dtype schema; the names, sizes and GEMM math rule are plain data in src/schema/dtypes.ts.
 */
import { Schema } from "effect"
import { DTYPES } from "./dtypes.ts"

export const Dtype = Schema.Literals(DTYPES)
export type Dtype = typeof Dtype.Type
