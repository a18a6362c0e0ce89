/**
 * src/base: plain JavaScript on Node built-ins, shared by the launcher and the TypeScript: the one writer
 * (atomicFile.js), the one guarded read (guardedRead.js), the one SHA-256, the one CSV writer, the project root, package folder and
 * store-folder rules, the store layout, the entry and command tables; number formats, the
 * version, LLMSIM_DEBUG.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { type AtomicFile, checkWriteTarget, openAtomic, writeAtomic, writeFailure } from "./atomicFile.js"
export { COMMANDS, REPLAYABLE } from "./commands.js"
export { csvRecord, csvTable } from "./csv.js"
export { counted, injectedDefect, progress } from "./debug.ts"
export { ENTRIES, entryUrl } from "./entries.js"
export { ascii, fixed, gb, giga, mega, percent, signedCompact, signedFixed, significant } from "./format.ts"
export {
  formatBytes,
  linesGuarded,
  MAX_INPUT_BYTES,
  openGuarded,
  PROBE_LIMIT,
  probeState,
  readGuarded,
  readHeadGuarded,
  readTextGuarded,
  refusalText
} from "./guardedRead.js"
export { decodeNonFinite, encodeNonFinite } from "./nonFinite.ts"
export { cacheDirOf, CONFIG_FILE, findProjectRoot, PACKAGE_DIR } from "./project.js"
export { sha256, sha256Hasher } from "./sha256.js"
export { remoteStatsFile, shardedFile, STORE_LAYOUT, storeFolder } from "./storeLayout.js"
export { VERSION } from "./version.ts"
