/**
 * The toolchain fingerprint: versions of everything besides llmsim's own versioned code that can
 * change a cached result. It is part of every key, so upgrading any of them misses the cache
 * instead of replaying results the new toolchain would not produce.
 *
 *   llmsim        the package version (src/base/version.ts, read from package.json)
 *   node          the JS engine evaluates every formula (Math.* results are implementation-defined)
 *   effect        Schema decoding of every config file (defaults, transformations)
 *   yaml          parsing of every config file
 *   canonicalize  the canonical JSON text every key and digest is computed over
 *
 * Read once per process, lazily, from each package's own package.json (found along Node's
 * module lookup paths, since not every package exports ./package.json): a few small file reads.
 */
import { Context } from "effect"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { VERSION } from "../base/version.ts"

export interface Toolchain {
  readonly llmsim: string
  readonly node: string
  readonly effect: string
  readonly yaml: string
  readonly canonicalize: string
}

/** Dependencies that can change a result (see the module comment). */
export const TOOLCHAIN_PACKAGES = ["effect", "yaml", "canonicalize"] as const

const require = createRequire(import.meta.url)

/** The installed version of a package as Node would resolve it from here. */
const packageVersion = (name: string): string => {
  for (const dir of require.resolve.paths(name) ?? []) {
    const file = path.join(dir, name, "package.json")
    if (!fs.existsSync(file)) continue // cheaper than the exception of a failed read
    try {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8"))
      if (pkg.name === name && typeof pkg.version === "string") return pkg.version
    } catch {
      // unreadable: try the next one up
    }
  }
  return "unresolved"
}

let cached: Toolchain | undefined

export const toolchainFingerprint = (): Toolchain => {
  cached ??= {
    llmsim: VERSION,
    node: process.versions.node,
    effect: packageVersion("effect"),
    yaml: packageVersion("yaml"),
    canonicalize: packageVersion("canonicalize")
  }
  return cached
}

/** The fingerprint keys are made with; tests provide another to check it reaches every key. */
export const CurrentToolchain = Context.Reference<Toolchain>("llmsim/graph/Toolchain", {
  defaultValue: toolchainFingerprint
})
