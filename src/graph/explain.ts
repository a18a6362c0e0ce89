/**
 * Why was a node computed? Each run leaves a summary of every node's key material (as
 * Turborepo's run summaries do); the next run compares a computed node's material with the
 * previous run's material for the same node id and names what changed.
 *
 * Summaries are one file per command and scenario, written temp-then-rename, so two processes racing on it
 * leave one complete summary (the last one), never a torn file.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { writeAtomic } from "../base/atomicFile.js"
import { canonicalJson } from "./canonical.ts"
import { sha256 } from "../base/sha256.js"
import type { NodeRecord } from "./evaluator.ts"
import type { TraceEntry } from "./node.ts"
import { storeFolder } from "../base/storeLayout.js"

export type RunSummary = Readonly<Record<string, NodeRecord>>

const summaryPath = (cacheDir: string, scope: string) => path.join(storeFolder(cacheDir, "runs"), `${sha256(scope).slice(0, 24)}.json`)

export const loadRunSummary = (cacheDir: string | undefined, scope: string): RunSummary | undefined => {
  if (cacheDir === undefined) return undefined
  try {
    const value = JSON.parse(fs.readFileSync(summaryPath(cacheDir, scope), "utf8"))
    return typeof value === "object" && value !== null ? (value as RunSummary) : undefined
  } catch {
    return undefined
  }
}

export const saveRunSummary = (cacheDir: string | undefined, scope: string, records: ReadonlyMap<string, NodeRecord>): void => {
  if (cacheDir === undefined) return
  try {
    writeAtomic(summaryPath(cacheDir, scope), JSON.stringify(Object.fromEntries(records)), { tmpDir: storeFolder(cacheDir, "tmp") })
  } catch {
    // A summary that cannot be written only loses the next run's explanations.
  }
}

/** Field paths where two JSON values differ (at most `limit`). */
const diffPaths = (a: unknown, b: unknown, prefix = "", out: Array<string> = [], limit = 8): Array<string> => {
  if (out.length >= limit) return out
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
    for (const k of keys) diffPaths((a as any)[k], (b as any)[k], prefix === "" ? k : `${prefix}.${k}`, out, limit)
    return out
  }
  if (canonicalJson(a ?? null) !== canonicalJson(b ?? null)) {
    const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v))
    out.push(`${prefix || "(value)"}: ${show(a)} -> ${show(b)}`)
  }
  return out
}

/** One reason line for a computed node. */
const explainNode = (id: string, current: NodeRecord | undefined, previous: RunSummary | undefined): string => {
  const prev = previous?.[id]
  if (!current) return "no key material recorded"
  if (!prev) return "new node (not in the previous run)"
  const reasons: Array<string> = []
  if (prev.material.v !== current.material.v) reasons.push(`key format ${prev.material.v} -> ${current.material.v}`)
  const toolchain = diffPaths(prev.material.toolchain, current.material.toolchain)
  if (toolchain.length > 0) reasons.push(`toolchain changed: ${toolchain.join("; ")}`)
  if (prev.material.code !== current.material.code) reasons.push(`code version ${prev.material.code} -> ${current.material.code}`)
  const params = diffPaths(prev.material.params, current.material.params)
  if (params.length > 0) reasons.push(`params changed: ${params.join("; ")}`)
  const changedDeps = current.dep_ids.filter((d, i) => prev.dep_ids[i] !== d || prev.material.deps[i] !== current.material.deps[i])
  if (changedDeps.length > 0)
    reasons.push(`dependency output changed: ${changedDeps.slice(0, 6).join(", ")}${changedDeps.length > 6 ? `, +${changedDeps.length - 6} more` : ""}`)
  if (reasons.length === 0) return "same inputs as the previous run; the stored entry was missing or unreadable (evicted, corrupt or --no-cache)"
  return reasons.join(" | ")
}

export const renderExplain = (trace: ReadonlyArray<TraceEntry>, records: ReadonlyMap<string, NodeRecord>, previous: RunSummary | undefined): string => {
  const computed = trace.filter((t) => t.status === "computed")
  const replayed = trace.filter((t) => t.status === "replayed").length
  const derivedAll = trace.length - computed.length - replayed
  const lines = [`${computed.length} computed, ${replayed} replayed${derivedAll > 0 ? `, ${derivedAll} derived (not stored)` : ""}`]
  // Counts per kind, kinds in the order they first occur (the core knows no kinds).
  for (const kind of new Set(trace.map((t) => t.kind))) {
    const c = trace.filter((t) => t.kind === kind)
    const derived = c.filter((t) => t.status === "derived").length
    lines.push(
      `  ${kind.padEnd(8)} ${c.filter((t) => t.status === "computed").length} computed, ${c.filter((t) => t.status === "replayed").length} replayed${derived > 0 ? `, ${derived} derived (not stored)` : ""}`
    )
  }
  for (const t of computed) lines.push(`computed ${t.id}: ${explainNode(t.id, records.get(t.id), previous)}`)
  return lines.join("\n") + "\n"
}
