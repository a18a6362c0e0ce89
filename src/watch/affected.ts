/**
 * Which saves matter, and what an evaluation recomputed. Pure functions: deciding *when* to run
 * (quiet window, interrupting a run in flight) lives in `schedule.ts`, as vitest keeps its
 * affected-test logic apart from its rerun scheduling.
 */
import * as path from "node:path"
import { isInside } from "../config/paths.ts"
import type { NodeRecord } from "../graph/evaluator.ts"
import type { TraceEntry } from "../graph/node.ts"
import type { ScenarioParams } from "../sim/plan.ts"

export type FileEventKind = "add" | "change" | "unlink" | "addDir" | "unlinkDir"

export interface FileEvent {
  readonly kind: FileEventKind
  /** Absolute path. */
  readonly path: string
}

export interface WatchSet {
  /** Files whose save triggers an evaluation. */
  readonly files: ReadonlySet<string>
  /** Folders to watch: editors save by writing a temp file and renaming it over the old one,
   *  which a watch on the file itself (its inode) stops seeing. */
  readonly folders: ReadonlySet<string>
}

/**
 * The watch set after an evaluation: the files it read plus the ones always watched (the
 * scenario and `llmsim.config.ts`), watched through their folders. `keepFolders` stay watched
 * without triggering (the last good result's folders, so that a broken save and its fix do not
 * tear watchers down and set them up again).
 */
export const watchSetOf = (read: Iterable<string>, always: Iterable<string>, keepFolders: Iterable<string> = []): WatchSet => {
  const files = new Set([...always, ...read].map((f) => path.resolve(f)))
  const folders = new Set([...files].map((f) => path.dirname(f)))
  for (const f of keepFolders) folders.add(path.resolve(f))
  return { files, folders }
}

/**
 * Whether an event can change the next evaluation: a watched file was added, changed or removed,
 * or a folder on the way to one appeared or vanished (`mkdir -p` then write; `rm -r`).
 */
export const triggers = (set: WatchSet, e: FileEvent): boolean => {
  const p = path.resolve(e.path)
  if (e.kind === "addDir" || e.kind === "unlinkDir") {
    for (const f of set.files) if (isInside(f, p)) return true
    return false
  }
  return set.files.has(p)
}

/**
 * Layer instances (`L3.moe_layer`, matching `layer_name` in results) whose layer node was
 * computed rather than replayed, in layer order, prefill's then decode's new names.
 *
 * Read off the trace and the scenario nodes' key material (instance names and the layer node
 * each uses), so the names are the planner's own. A layer counts as recomputed when its key was
 * computed in this evaluation under any node id: two entries sharing one template share one key,
 * and only the first of them is traced as computed.
 */
export const layersRecomputed = (trace: ReadonlyArray<TraceEntry>, materials: ReadonlyMap<string, NodeRecord>): ReadonlyArray<string> => {
  const keyOf = new Map<string, string>()
  const computedKeys = new Set<string>()
  for (const t of trace) {
    keyOf.set(t.id, t.key)
    if (t.status === "computed") computedKeys.add(t.key)
  }
  const names = new Set<string>()
  for (const t of trace) {
    if (t.kind !== "scenario") continue
    const record = materials.get(t.id)
    if (record === undefined) continue
    const params = record.material.params as ScenarioParams
    for (const instance of params.instances) {
      const layerKey = keyOf.get(record.dep_ids[instance.summary])
      if (layerKey !== undefined && computedKeys.has(layerKey)) names.add(instance.layer_name)
    }
  }
  return [...names]
}
