/**
 * Reading a Hugging Face `config.json` object key by key: every read is recorded, so the
 * importer can refuse keys it never looked at (an architecture field it does not understand must
 * not be dropped silently), and every bad value becomes one problem naming its key.
 */

/** A template field with the config.json key (or the reason) it came from. */
export interface Field {
  readonly key: string
  readonly value: number | string | boolean
  /** Shown as the field's YAML comment: `config.json <from>`, or a sentence when derived. */
  readonly from: string
}

export type Json = Record<string, unknown>

export class ConfigReader {
  readonly used = new Set<string>()
  readonly problems: Array<{ key: string; message: string }> = []
  readonly json: Json
  readonly prefix: string
  constructor(json: Json, prefix = "") {
    this.json = json
    this.prefix = prefix
  }

  has(key: string): boolean {
    this.used.add(key)
    return this.json[key] !== undefined && this.json[key] !== null
  }

  raw(key: string): unknown {
    this.used.add(key)
    return this.json[key]
  }

  private fail(key: string, expected: string, got: unknown): undefined {
    this.problems.push({
      key: `${this.prefix}${key}`,
      message: `expected ${expected}, got ${got === undefined ? "nothing (the key is missing)" : JSON.stringify(got)}`
    })
    return undefined
  }

  /** A required positive integer (a missing key is a problem). */
  int(key: string): number {
    const v = this.raw(key)
    if (typeof v === "number" && Number.isInteger(v) && v > 0) return v
    this.fail(key, "a positive integer", v)
    return 1
  }

  /** A non-negative integer; `null` or absent gives `dflt`. */
  optInt(key: string, dflt: number): number {
    const v = this.raw(key)
    if (v === undefined || v === null) return dflt
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v
    this.fail(key, "a non-negative integer or null", v)
    return dflt
  }

  optBool(key: string, dflt: boolean): boolean {
    const v = this.raw(key)
    if (v === undefined || v === null) return dflt
    if (typeof v === "boolean") return v
    this.fail(key, "true or false", v)
    return dflt
  }

  optString(key: string): string | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (typeof v === "string") return v
    this.fail(key, "a string", v)
    return undefined
  }

  optNumber(key: string): number | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (typeof v === "number" && Number.isFinite(v) && v > 0) return v
    this.fail(key, "a positive number", v)
    return undefined
  }

  /** A list of strings (layer_types), or undefined when absent. */
  optStrings(key: string): ReadonlyArray<string> | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as Array<string>
    this.fail(key, "a list of strings", v)
    return undefined
  }

  /** A list of non-negative integers; a comma-separated string is accepted (Step-3 moe_layers_enum). */
  optInts(key: string): ReadonlyArray<number> | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    const list = typeof v === "string" ? v.split(",").map((x) => (x.trim() === "" ? NaN : Number(x))) : v
    if (Array.isArray(list) && list.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 0)) return list as Array<number>
    this.fail(key, "a list of non-negative integers", v)
    return undefined
  }

  /** A value that must equal `want` for the mapping to hold (else the model is not supported). */
  expect(key: string, ok: (v: unknown) => boolean, expected: string): void {
    const v = this.raw(key)
    if (!ok(v)) this.fail(key, expected, v)
  }

  problem(key: string, message: string): void {
    this.problems.push({ key: `${this.prefix}${key}`, message })
  }

  /** Keys present in the config that nothing read, minus the ones known not to change the math. */
  unread(ignorable: ReadonlySet<string>): Array<string> {
    return Object.keys(this.json)
      .filter((k) => !this.used.has(k) && !ignorable.has(k) && !k.startsWith("_"))
      .sort()
  }
}

export const f = (key: string, value: number | string | boolean, from: string): Field => ({ key, value, from })
