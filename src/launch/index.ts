/**
 * src/launch: the command node: a recorded command replayed before anything loads (command.js), and
 * the recording the CLI makes (recording.ts).
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { type CommandRecord, parseRecord } from "./command.js"
export {
  bytesDigest,
  CONFIG_CACHE_FORMAT,
  type ConfigCache,
  configCacheFor,
  type ConfigEntry,
  configEntryStaleness,
  configKey,
  isPlainJson,
  parseConfigEntry,
  readConfigEntry,
  writeConfigEntry
} from "./configCache.ts"
export { noteBytes, noteEntry, noteInput, noteOutput, noteStoreDir, startRecording, taint } from "./recording.ts"
export { recordSelfConsistent, recordStaleness, reexecuteRecord } from "./reexecute.ts"
