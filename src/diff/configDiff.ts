/**
 * Changed config fields between two sides, from the decoded configs (not a text diff): a
 * comment, key order or `1.0` vs `1` is no change, and every change names its field path.
 *
 * Files are paired by role: the scenario with the scenario, the hardware it uses with the
 * hardware (so switching GPUs lists the spec fields that differ), and layer templates by path,
 * then by the layer entry that uses them (a template swapped for another file at the same
 * entry). A file used on one side only is one change with path "" and the whole config on
 * its side.
 */
import { canonicalJson } from "../graph/canonical.ts"

interface ConfigFile {
  /** Path as shown (relative to the side's project root). */
  readonly file: string
  readonly value: unknown
}

export interface TemplateFile extends ConfigFile {
  /** Layer entries using this template: their index in `layers` and their type. */
  readonly uses: ReadonlyArray<{ readonly index: number; readonly type: string }>
}

export interface ConfigSet {
  readonly scenario: ConfigFile
  readonly hardware: ConfigFile
  readonly templates: ReadonlyArray<TemplateFile>
}

type ChangeKind = "changed" | "added" | "removed"

export interface ConfigChange {
  /** The file, or `A -> B` when the paired files have different paths. */
  readonly file: string
  /** Dotted field path (`moe_config.moe_intermediate_size`, `layers.1.repeat`); "" = whole file. */
  readonly path: string
  /** Value on side A; null when absent there. */
  readonly a: unknown
  readonly b: unknown
  /** `added`: absent on side A; `removed`: absent on side B. */
  readonly change: ChangeKind
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const join = (prefix: string, key: string | number): string => (prefix === "" ? String(key) : `${prefix}.${key}`)

/** Field-level differences of two decoded values, in A's key order then B's new keys. */
const diffValues = (a: unknown, b: unknown, prefix = ""): Array<Omit<ConfigChange, "file">> => {
  if (isRecord(a) && isRecord(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))]
    return keys.flatMap((k) =>
      !(k in b)
        ? [{ path: join(prefix, k), a: a[k], b: null, change: "removed" as const }]
        : !(k in a)
          ? [{ path: join(prefix, k), a: null, b: b[k], change: "added" as const }]
          : diffValues(a[k], b[k], join(prefix, k))
    )
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: Array<Omit<ConfigChange, "file">> = []
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length) out.push({ path: join(prefix, i), a: null, b: b[i], change: "added" })
      else if (i >= b.length) out.push({ path: join(prefix, i), a: a[i], b: null, change: "removed" })
      else out.push(...diffValues(a[i], b[i], join(prefix, i)))
    }
    return out
  }
  return canonicalJson(a) === canonicalJson(b) ? [] : [{ path: prefix, a, b, change: "changed" }]
}

type Pair = readonly [ConfigFile | undefined, ConfigFile | undefined]

/** Templates paired by path, then by the layer entry (index and type) using them. */
const pairTemplates = (a: ReadonlyArray<TemplateFile>, b: ReadonlyArray<TemplateFile>): Array<Pair> => {
  const bByFile = new Map(b.map((t) => [t.file, t]))
  const pairs: Array<[TemplateFile | undefined, TemplateFile | undefined]> = a.map((t) => [t, bByFile.get(t.file)])
  const onlyA = pairs.filter(([, y]) => y === undefined)
  const paired = new Set(pairs.flatMap(([, y]) => (y ? [y.file] : [])))
  for (const t of b) {
    if (paired.has(t.file)) continue
    const partner = onlyA.find(
      ([x, y]) => y === undefined && x !== undefined && x.uses.some((u) => t.uses.some((v) => v.index === u.index && v.type === u.type))
    )
    if (partner) partner[1] = t
    else pairs.push([undefined, t])
  }
  return pairs
}

const label = (a: ConfigFile, b: ConfigFile): string => (a.file === b.file ? a.file : `${a.file} -> ${b.file}`)

export const diffConfigs = (a: ConfigSet, b: ConfigSet): Array<ConfigChange> => {
  const pairs: Array<Pair> = [[a.scenario, b.scenario], [a.hardware, b.hardware], ...pairTemplates(a.templates, b.templates)]
  return pairs.flatMap(([x, y]): Array<ConfigChange> => {
    if (x && y) return diffValues(x.value, y.value).map((c) => ({ file: label(x, y), ...c }))
    if (x) return [{ file: x.file, path: "", a: x.value, b: null, change: "removed" }]
    if (y) return [{ file: y.file, path: "", a: null, b: y.value, change: "added" }]
    return []
  })
}
