/**
 * How `llmsim diff` reads its positional arguments, pure.
 *
 *   llmsim diff <revA> [revB] [scenario ...]
 *   llmsim diff --a PATH --b PATH [scenario ...]
 *
 * The rule for the second positional: it is the first scenario when it ends in `.yaml`/`.yml`
 * or names an existing file, otherwise it is revB. So `llmsim diff main configs/s.yaml`
 * compares `main` with the working tree, and `llmsim diff main HEAD` compares two commits. A
 * scenario file named like a revision is written with a path (`./HEAD`). Every later
 * positional is a scenario.
 */
import { UsageError } from "../config/errors.ts"

export type DiffTarget =
  | { readonly kind: "git"; readonly revA: string; readonly revB: string | undefined }
  | { readonly kind: "paths"; readonly a: string; readonly b: string }

export interface DiffArgs {
  readonly target: DiffTarget
  readonly scenarios: ReadonlyArray<string>
}

const USAGE = "llmsim diff <revA> [revB] [scenario ...]  or  llmsim diff --a PATH --b PATH [scenario ...]"

const looksLikeScenario = (token: string, existingFiles: ReadonlySet<string>): boolean => /\.ya?ml$/i.test(token) || existingFiles.has(token)

/**
 * `existingFiles`: which of the first two positionals name an existing file (the caller
 * checks the file system).
 */
export const classifyArgs = (
  positional: ReadonlyArray<string>,
  a: string | undefined,
  b: string | undefined,
  existingFiles: ReadonlySet<string>
): DiffArgs | UsageError => {
  if ((a === undefined) !== (b === undefined)) {
    return new UsageError({ message: `--a and --b go together (${USAGE})` })
  }
  if (a !== undefined && b !== undefined) return { target: { kind: "paths", a, b }, scenarios: positional }
  const [revA, second, ...rest] = positional
  if (revA === undefined) return new UsageError({ message: `no revision given (${USAGE})` })
  if (looksLikeScenario(revA, existingFiles)) {
    return new UsageError({ message: `the first argument is a git revision, got the scenario path ${revA} (${USAGE})` })
  }
  if (second === undefined) return { target: { kind: "git", revA, revB: undefined }, scenarios: [] }
  return looksLikeScenario(second, existingFiles)
    ? { target: { kind: "git", revA, revB: undefined }, scenarios: [second, ...rest] }
    : { target: { kind: "git", revA, revB: second }, scenarios: rest }
}
