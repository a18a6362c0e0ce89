/**
 * src/reference: reading the published reference data: a CSV reader, summary statistics, the hardware
 * file a reference row names.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { type CsvRecord, type CsvTable, fieldAt, numberField, parseCsv } from "./csv.ts"
export { hardwareFileFor, type HardwareSet } from "./hardware.ts"
export { ape, type ErrorSummary, logSquaredError, quantile, summarise } from "./stats.ts"
