/**
 * src/hf: `llmsim import hf`, the pure part: a Hugging Face config.json to layer templates and a
 * starter scenario.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { importHf, type ImportProblem } from "./import.ts"
