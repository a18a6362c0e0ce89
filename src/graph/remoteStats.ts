/**
 * The remote cache's counts kept beside a local store (`<cache>/v1/remote.json`), summed over the
 * runs that used it, for `llmsim cache stats`. Written through the one atomic writer; two runs
 * finishing at once may lose one run's counts (they are statistics, never results).
 */
import * as fs from "node:fs"
import { writeAtomic } from "../base/atomicFile.js"
import { remoteStatsFile } from "../base/storeLayout.js"
import type { RemoteCounts } from "./remote.ts"

export interface RemoteStats extends RemoteCounts {
  /** The remote the last run used. */
  readonly url: string
}

const ZERO: RemoteCounts = { hits: 0, misses: 0, rejected: 0, uploads: 0, errors: 0 }
const FIELDS = ["hits", "misses", "rejected", "uploads", "errors"] as const

/** The counts so far, or undefined when no run used a remote (or the file is unreadable). */
export const readRemoteStats = (cacheDir: string): RemoteStats | undefined => {
  try {
    const v = JSON.parse(fs.readFileSync(remoteStatsFile(cacheDir), "utf8")) as Record<string, unknown>
    if (typeof v.url !== "string" || !FIELDS.every((f) => typeof v[f] === "number" && Number.isFinite(v[f]))) return undefined
    return v as unknown as RemoteStats
  } catch {
    return undefined
  }
}

/** Add one run's counts; a store that cannot be written keeps none (the store's own warning covers it). */
export const addRemoteStats = (cacheDir: string, url: string, run: RemoteCounts): void => {
  if (FIELDS.every((f) => run[f] === 0)) return
  const before = readRemoteStats(cacheDir) ?? { ...ZERO, url }
  const after: Record<string, number | string> = { url }
  for (const f of FIELDS) after[f] = before[f] + run[f]
  try {
    writeAtomic(remoteStatsFile(cacheDir), `${JSON.stringify(after)}\n`)
  } catch {
    // statistics only
  }
}
