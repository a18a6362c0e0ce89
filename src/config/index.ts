/**
 * src/config: reading the project's files: YAML and llmsim.config.ts decoded with file:line:col errors,
 * the path rule, the project, the runtime a run evaluates at.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { CONFIG_LOAD_TIMEOUT_MS, preloadProjectConfig, startConfigLoad } from "./configWorker.ts"
export { ConfigError, formatIssue, type Issue, UsageError } from "./errors.ts"
export {
  displayPath,
  FileNode,
  type LoadedEntry,
  type LoadedScenario,
  loadHardwareFile,
  loadScenario,
  scenarioBlockPath,
  scenarioFieldError,
  warningLines
} from "./load.ts"
export { firstExisting, insideProject, isInside, type PathBase, pathCandidates, projectPaths, type ProjectPaths, resolvePath } from "./paths.ts"
export { checkProjectPaths, CONFIG_FILE, findProjectRoot, importProjectConfig, loadProject, type ProjectConfig, type ProjectShape } from "./project.ts"
export { checkedRuntime, type ResolvedRuntime, type RuntimeOverrides } from "./runtime.ts"
export { guardReads, refusalOf } from "./safeRead.ts"
export { decodeParsed, decodeYamlText, parseYaml } from "./yamlFile.ts"
