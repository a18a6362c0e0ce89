/**
 * The application's services, each built once per command by `appLayer`:
 *
 * - `Project`: the project root, its llmsim.config.ts and the directory the command started in;
 * - `Store` (src/graph/store.ts): the disk store at the resolved cache folder, or none with
 *   `--no-cache`;
 * - `Evaluator`: the build-graph evaluator (src/graph/evaluator.ts) over that store, sending
 *   remote nodes to a cluster's runners with `--cluster` (src/graph/cluster.ts).
 *
 * Commands are functions of these services; src/cli only parses flags and provides the layer.
 */
import { noteStoreDir } from "../launch/recording.ts"
import { Context, Layer } from "effect"
import type { ConfigError } from "../config/errors.ts"
import { loadProject, type ProjectShape } from "../config/project.ts"
import { makeEvaluator, type Evaluator as GraphEvaluator } from "../graph/evaluator.ts"
import { threadExecutor, type RemoteExecutionError } from "../graph/executor.ts"
import { remoteCache, withRemote, type RemoteCache } from "../graph/remote.ts"
import { diskStore, noStore, Store, type StoreShape } from "../graph/store.ts"
import { cacheDirOf } from "../base/project.js"

export class Project extends Context.Service<Project, ProjectShape>()("llmsim/app/Project") {
  /** The project around `cwd`; an unloadable llmsim.config.ts fails with a ConfigError. */
  static readonly layer = (cwd: string): Layer.Layer<Project, ConfigError> => Layer.effect(Project, loadProject(cwd))
}

export class Evaluator extends Context.Service<Evaluator, GraphEvaluator>()("llmsim/app/Evaluator") {
  /** A fresh evaluator (its own L1 and trace) over the `Store` in context. */
  static readonly layer: Layer.Layer<Evaluator, never, Store> = Layer.effect(Evaluator, makeEvaluator)
}

export interface StoreOptions {
  /** `--cache-dir` as typed. */
  readonly cacheDir?: string
  /** `--no-cache`. */
  readonly noCache: boolean
  /** `--remote-cache URL`. */
  readonly remoteCache?: string
}

/** Whether this process has said why a configured remote is not used (one warning per process). */
let warnedRemote = false
const warnRemoteOnce = (line: string) => {
  if (warnedRemote) return
  warnedRemote = true
  process.stderr.write(line)
}

/**
 * The remote cache to use, if any (docs/caching.md "Remote cache"): `--remote-cache`, else
 * LLMSIM_REMOTE_CACHE, else llmsim.config.ts `remoteCache`; read-only with
 * LLMSIM_REMOTE_CACHE_READ_ONLY=1 or `remoteCache.readOnly`; entries signed with
 * LLMSIM_REMOTE_CACHE_KEY, without which the remote is not used (one warning).
 */
const remoteFor = (project: ProjectShape, o: StoreOptions): RemoteCache | undefined => {
  const env = process.env.LLMSIM_REMOTE_CACHE
  const url = o.remoteCache ?? (env === undefined || env === "" ? undefined : env) ?? project.config.remoteCache?.url
  if (url === undefined) return undefined
  if (!/^https?:\/\/[^\s]+$/.test(url)) {
    warnRemoteOnce(`warning: remote cache ${JSON.stringify(url)} is not an http(s) URL: using the local store only\n`)
    return undefined
  }
  const secret = process.env.LLMSIM_REMOTE_CACHE_KEY
  if (secret === undefined || secret === "") {
    warnRemoteOnce(`warning: remote cache ${url} not used: LLMSIM_REMOTE_CACHE_KEY is not set (its entries are signed with it)\n`)
    return undefined
  }
  const readOnly = process.env.LLMSIM_REMOTE_CACHE_READ_ONLY === "1" || project.config.remoteCache?.readOnly === true
  return remoteCache({ url, secret, readOnly })
}

/** The disk store at the resolved folder (with the remote cache behind it when one is set), or none with --no-cache. */
export const storeFor = (project: ProjectShape, o: StoreOptions): StoreShape => {
  if (o.noCache) return noStore
  const dir = cacheDirOf({ flag: o.cacheDir, configured: project.config.cacheDir, cwd: project.cwd, root: project.root })
  noteStoreDir(dir) // a command record is kept only in the store the launcher looks in
  const local = diskStore(dir)
  const remote = remoteFor(project, o)
  return remote === undefined ? local : withRemote({ ...local, dir }, remote)
}

const storeLayer = (o: StoreOptions): Layer.Layer<Store, never, Project> =>
  Layer.effect(
    Store,
    Project.useSync((project) => storeFor(project, o))
  )

export interface AppOptions extends StoreOptions {
  readonly cwd: string
  /** `--cluster URL`: remote nodes that miss the store are computed by the cluster's runners (src/graph/cluster.ts). */
  readonly cluster?: string
}

/** Project, Store and Evaluator for one command; with `cluster`, the evaluator sends remote nodes there. */
export const appLayer = (o: AppOptions): Layer.Layer<Project | Store | Evaluator, ConfigError | RemoteExecutionError> =>
  (o.cluster === undefined ? Evaluator.layer : Evaluator.layer.pipe(Layer.provide(threadExecutor(o.cluster)))).pipe(
    Layer.provideMerge(storeLayer(o)),
    Layer.provideMerge(Project.layer(o.cwd))
  )
