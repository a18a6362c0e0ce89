/**
 * "Did you mean" for an unknown key: the keys a mapping may hold at that path, read from the
 * Effect schema's AST (so new fields are suggested as soon as a schema has them), and the closest
 * by edit distance, or the llmsim name of a Hugging Face `config.json` key (configs/README.md
 * names the correspondences). Pure: no I/O.
 */
import type { SchemaAST } from "effect"

/**
 * Hugging Face (and Megatron / GPT-2) key names and the llmsim keys they correspond to, in the
 * order to try: the first one allowed at the path is suggested (`intermediate_size` is `d_ff`
 * in ffn_config, `moe_intermediate_size` in moe_config, as for Mixtral and gpt-oss).
 */
const HF_KEY_ALIASES: Readonly<Record<string, ReadonlyArray<string>>> = {
  hidden_size: ["d_model"],
  n_embd: ["d_model"],
  intermediate_size: ["d_ff", "moe_intermediate_size"],
  ffn_hidden_size: ["d_ff"],
  num_local_experts: ["n_routed_experts"],
  num_experts: ["n_routed_experts"],
  moe_num_experts: ["n_routed_experts"],
  experts_per_token: ["num_experts_per_tok"],
  moe_top_k: ["num_experts_per_tok"],
  num_shared_experts: ["n_shared_experts"],
  n_head: ["num_attention_heads"],
  num_heads: ["num_attention_heads"],
  num_kv_heads: ["num_key_value_heads"],
  kv_channels: ["head_dim"],
  torch_dtype: ["precision", "weights"],
  tensor_parallel_size: ["tp"],
  expert_parallel_size: ["ep"],
  data_parallel_size: ["dp"]
}

/** The literal values a property's type admits (`type: MLA`), or undefined when not only literals. */
const literalsOf = (ast: SchemaAST.AST): ReadonlyArray<unknown> | undefined => {
  if (ast._tag === "Literal") return [ast.literal]
  if (ast._tag === "Union") {
    const all = ast.types.map(literalsOf)
    return all.every((l) => l !== undefined) ? all.flat() : undefined
  }
  return undefined
}

/** The struct members `ast` may decode `value` with; union members are kept when their literal fields match the value's. */
const objectsFor = (ast: SchemaAST.AST, value: unknown): Array<SchemaAST.Objects> => {
  if (ast._tag === "Suspend") return objectsFor(ast.thunk(), value)
  if (ast._tag === "Objects") return [ast]
  if (ast._tag !== "Union") return []
  const members = ast.types.flatMap((t) => objectsFor(t, value))
  const record = typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>) : {}
  const matching = members.filter((m) =>
    m.propertySignatures.every((p) => {
      const lits = literalsOf(p.type)
      return lits === undefined || lits.includes(record[p.name])
    })
  )
  return matching.length > 0 ? matching : members
}

/** The schema nodes at `path` inside `value`. */
const nodesAt = (ast: SchemaAST.AST, value: unknown, path: ReadonlyArray<PropertyKey>): Array<SchemaAST.AST> => {
  if (path.length === 0) return [ast]
  const [key, ...rest] = path
  const child = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey]
  const next: Array<SchemaAST.AST> = []
  const visit = (a: SchemaAST.AST): void => {
    if (a._tag === "Suspend") return visit(a.thunk())
    if (a._tag === "Union") return a.types.forEach(visit)
    if (a._tag === "Arrays" && typeof key === "number") {
      const t = a.elements[key] ?? a.rest[0]
      if (t !== undefined) next.push(t)
    }
  }
  for (const o of objectsFor(ast, value)) {
    const p = o.propertySignatures.find((s) => s.name === key)
    if (p !== undefined) next.push(p.type)
  }
  visit(ast)
  return next.flatMap((a) => nodesAt(a, child, rest))
}

/** Keys a mapping at `path` (the unknown key's parent) may hold, in schema order. */
export const allowedKeysAt = (ast: SchemaAST.AST, value: unknown, path: ReadonlyArray<PropertyKey>): Array<string> => {
  const parent = path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], value)
  const keys = nodesAt(ast, value, path)
    .flatMap((a) => objectsFor(a, parent))
    .flatMap((o) => o.propertySignatures.map((p) => String(p.name)))
  return [...new Set(keys)]
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export const editDistance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[a.length]![b.length]!
}

/**
 * The text to add to "Expected no excess property" for `key` where `allowed` are the keys:
 * a Hugging Face alias first, else the closest key within a third of its length (at least 1
 * edit), else the one key it begins or ends (`batch` -> `batch_size`), else the list of known keys.
 */
export const unknownKeyHint = (key: string, allowed: ReadonlyArray<string>): string => {
  if (allowed.length === 0) return ""
  const alias = HF_KEY_ALIASES[key]?.find((k) => allowed.includes(k))
  if (alias !== undefined) return `; did you mean ${alias}? (llmsim's name for the Hugging Face key ${key})`
  const lower = key.toLowerCase()
  const ranked = allowed.map((k) => ({ k, d: editDistance(lower, k.toLowerCase()) })).sort((x, y) => x.d - y.d)
  const best = ranked[0]!
  if (best.d <= Math.max(1, Math.floor(key.length / 3)) && (ranked[1] === undefined || ranked[1].d > best.d)) return `; did you mean ${best.k}?`
  // A shortened or lengthened name (`batch` for `batch_size`): the one allowed key it begins or ends.
  const partial = allowed.filter((k) => key.length >= 2 && (k.startsWith(key) || key.startsWith(k) || k.endsWith(key)))
  if (partial.length === 1) return `; did you mean ${partial[0]}?`
  return `; known keys here: ${allowed.join(", ")}`
}

/**
 * Whether an issue comes from a union member the value was never meant for: the decoder reports
 * every member's issues (an MLA attention block also gets the GQA member's "q_lora_rank: excess
 * property" and "type: Expected MHA | GQA"), while the value's literal fields (`type: MLA`) pick
 * one member. Such an issue names a key or a literal the picked member accepts.
 */
export const isOtherMemberIssue = (ast: SchemaAST.AST, value: unknown, path: ReadonlyArray<PropertyKey>, message: string): boolean => {
  if (path.length === 0) return false
  const key = path[path.length - 1]!
  if (message === "Expected no excess property") return allowedKeysAt(ast, value, path.slice(0, -1)).includes(String(key))
  if (!message.startsWith('Expected "')) return false
  const here = path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], value)
  return nodesAt(ast, value, path).some((a) => literalsOf(a)?.includes(here) === true)
}
