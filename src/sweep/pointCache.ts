/**
 * Sweep points in the result store: the sweep's graph nodes.
 *
 * A point is a node whose key is SHA-256 over its family digest and its resolved coordinates.
 * The family digest covers everything a point is computed from besides its coordinates: the
 * model (templates, repeats, LM head, precision), the scenario's layout and deployment blocks,
 * every hardware spec of the sweep, the estimator and efficiency mode, the point model and
 * strategy, the phases and default lengths, the code versions (this module's SWEEP_CODE_VERSION,
 * the kernel's timing and compose versions, every op formula's version) and the toolchain
 * fingerprint, exactly as a graph node's key material (docs/caching.md). Constraints and prices
 * are not inputs (rows are judged after replay).
 *
 * Storage: a point is a few hundred bytes and a sweep has up to millions, so points are stored
 * in packs, not one file each: `<cache>/v1/sweep/<family>/<pack digest>.jsonl`. A pack's first
 * line is `{"llmsim_pack": PACK_FORMAT, "family": <the family's material>}` (what its digest,
 * the folder name, is the digest of), then one line per point, `<key>\t<coordinates
 * JSON>\t<result JSON>`: a pack carries everything its points were computed from, so `cache
 * verify` recomputes them (src/sweep/verifyPack.ts) instead of trusting the store to have chosen
 * its bytes. A sweep loads its family's packs into a key -> result map, replays the points it
 * finds and streams the ones it computes into a new pack (a temp file, renamed into place only
 * when the sweep finished: an interrupted or failed sweep stores nothing). Packs are immutable
 * and named by their content; `cache gc` evicts them by age like entries.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { openAtomic, writeAtomic, type AtomicFile } from "../base/atomicFile.js"
import { readTextGuarded } from "../base/guardedRead.js"
import { sha256, sha256Hasher } from "../base/sha256.js"
import { storeFolder } from "../base/storeLayout.js"
import type { FamilyMaterial } from "./family.ts"

/** Bump when point evaluation (src/sweep/point.ts) changes its output for some input. */
export const SWEEP_CODE_VERSION = 3

/** Bump when a pack's layout (header line, point lines) changes: part of the family digest, so packs of another layout are never read. */
export const PACK_FORMAT = 2

/** Largest pack read (a sweep of millions of points writes packs of hundreds of MB). */
export const MAX_PACK_BYTES = 512 * 1024 * 1024

/** A pack's first line: its layout and its family's material. */
const packHeader = (material: FamilyMaterial): string => `${JSON.stringify({ llmsim_pack: PACK_FORMAT, family: material })}\n`

/** One computed point as a pack line. */
export const packLine = (key: string, coordinates: unknown, result: unknown): string => `${key}\t${JSON.stringify(coordinates)}\t${JSON.stringify(result)}\n`

/**
 * Each point line of a pack's text: `f(key, coordinates JSON, result JSON)`; the header line
 * and anything malformed are skipped.
 */
export const forEachPackLine = (text: string, f: (key: string, coordinates: string, result: string) => void): void => {
  let start = 0
  while (start < text.length) {
    let end = text.indexOf("\n", start)
    if (end < 0) end = text.length
    const tab = text.indexOf("\t", start)
    if (tab === start + 64) {
      const tab2 = text.indexOf("\t", tab + 1)
      if (tab2 > tab && tab2 < end) f(text.slice(start, tab), text.slice(tab + 1, tab2), text.slice(tab2 + 1, end))
    }
    start = end + 1
  }
}

const packFolder = (cacheDir: string, family: string): string => path.join(storeFolder(cacheDir, "packs"), family)

export const pointKey = (family: string, coordinates: string): string => sha256(`${family}\n${coordinates}`)

export interface PointCache {
  readonly get: (key: string) => string | undefined
  /** Record computed points: `key\tresult JSON\n` lines. */
  readonly addLines: (text: string) => void
  /** Store the computed points as one pack (none if nothing was computed); the pack's file, if one was written. */
  readonly commit: () => string | undefined
  /** Drop what was computed (a failed or interrupted sweep). */
  readonly abort: () => void
  /** The family's pack files, checked (worker threads read them themselves, without hashing them again). */
  readonly packFiles: ReadonlyArray<string>
  readonly enabled: boolean
}

/** The pack files of a family folder, in name order (none when the folder does not exist). */
const packFilesOf = (folder: string): Array<string> => {
  try {
    return fs
      .readdirSync(folder)
      .filter((n) => n.endsWith(".jsonl"))
      .sort()
      .map((n) => path.join(folder, n))
  } catch {
    return []
  }
}

/**
 * Every `key\tjson` line of `files`, and the files that were read. A pack whose content does not
 * match its name (damaged) is skipped and removed; `verified` packs (the main thread checked them
 * for its worker threads) are not hashed again.
 */
export const readPacks = (files: ReadonlyArray<string>, verified = false): { readonly index: Map<string, string>; readonly good: Array<string> } => {
  const out = new Map<string, string>()
  const good: Array<string> = []
  for (const file of files) {
    // Regular files only, through the guarded read (a FIFO in the store is skipped, not waited on).
    const text = readTextGuarded(file, MAX_PACK_BYTES)
    if (text === undefined) continue
    if (!verified && sha256(text) !== path.basename(file, ".jsonl")) {
      try {
        fs.rmSync(file, { force: true })
      } catch {
        // read-only: a miss either way
      }
      continue
    }
    good.push(file)
    forEachPackLine(text, (key, _coordinates, result) => out.set(key, result))
  }
  return { index: out, good }
}

const touch = (files: ReadonlyArray<string>) => {
  const now = new Date()
  for (const f of files) {
    try {
      fs.utimesSync(f, now, now)
    } catch {
      // read-only cache: fine
    }
  }
}

const BUFFER_BYTES = 1 << 20

export const openPointCache = (cacheDir: string | undefined, family: string, material: FamilyMaterial): PointCache => {
  if (cacheDir === undefined) {
    return { get: () => undefined, addLines: () => {}, commit: () => undefined, abort: () => {}, packFiles: [], enabled: false }
  }
  const folder = packFolder(cacheDir, family)
  const { index, good: packFiles } = readPacks(packFilesOf(folder))
  // A pack's mtime records its last use, so `cache gc` evicts the least recently used.
  touch(packFiles)
  let pack: AtomicFile | undefined
  let chunks: Array<string> = []
  let buffered = 0
  let written = 0
  const hash = sha256Hasher()
  let unwritable = false
  const flush = () => {
    if (chunks.length === 0 || unwritable) return
    const text = chunks.join("")
    chunks = []
    buffered = 0
    try {
      // The pack is named by its content, known once the sweep ends: a temp file in the store's tmp/ until then.
      if (pack === undefined) {
        pack = openAtomic(undefined, { tmpDir: storeFolder(cacheDir, "tmp"), contentAddressed: true })
        const header = packHeader(material)
        pack.write(header)
        hash.update(header)
      }
      pack.write(text)
      hash.update(text)
      written += text.length
    } catch (e) {
      unwritable = true
      process.stderr.write(
        `warning: cache ${cacheDir} is not writable (${e instanceof Error ? e.message.split(",")[0] : String(e)}): sweep points are not stored\n`
      )
    }
  }
  return {
    get: (key) => index.get(key),
    addLines: (text) => {
      chunks.push(text)
      buffered += text.length
      if (buffered >= BUFFER_BYTES) flush()
    },
    commit: () => {
      flush()
      if (pack === undefined) return undefined
      if (written === 0 || unwritable) {
        pack.abort()
        return undefined
      }
      try {
        const file = path.join(folder, `${hash.digest("hex")}.jsonl`)
        pack.commit(file)
        return file
      } catch {
        // A pack that cannot be stored only costs the next sweep its replay.
        return undefined
      }
    },
    abort: () => pack?.abort(),
    packFiles,
    enabled: true
  }
}

/**
 * Copy into the local store the packs of `family` the remote cache lists and the local store
 * lacks (src/graph/remote.ts: each checked against its digest), so the sweep replays them. A pack
 * is kept only if its header names this family (its material's digest): the folder is the family.
 */
export const pullPacks = (
  cacheDir: string,
  family: string,
  remote: {
    readonly packIndex: (family: string) => Effect.Effect<ReadonlyArray<string>>
    readonly pack: (digest: string) => Effect.Effect<string | undefined>
  },
  familyOf: (material: unknown) => string
) =>
  Effect.gen(function* () {
    const folder = packFolder(cacheDir, family)
    const have = new Set(packFilesOf(folder).map((f) => path.basename(f, ".jsonl")))
    for (const digest of yield* remote.packIndex(family)) {
      if (have.has(digest)) continue
      const text = yield* remote.pack(digest)
      if (text === undefined) continue
      const nl = text.indexOf("\n")
      let header: { llmsim_pack?: unknown; family?: unknown } | undefined
      try {
        header = JSON.parse(text.slice(0, nl)) as typeof header
      } catch {
        header = undefined
      }
      if (header?.llmsim_pack !== PACK_FORMAT || familyOf(header.family) !== family) continue
      try {
        writeAtomic(path.join(folder, `${digest}.jsonl`), text, { tmpDir: storeFolder(cacheDir, "tmp"), contentAddressed: true })
      } catch {
        // a store that cannot be written: the sweep computes those points
      }
    }
  })
