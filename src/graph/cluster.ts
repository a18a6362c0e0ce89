/**
 * Distributed evaluation on effect/cluster (docs/cluster.md): remote nodes (src/graph/executor.ts)
 * as messages to cluster entities, sharded over runner processes, with PostgreSQL holding the
 * runner list and the shard locks (effect/cluster's SqlRunnerStorage through @effect/sql-pg).
 *
 * - One entity per node key (`LlmsimNode`): the same node sent twice (two clients) goes to one
 *   entity, which handles its messages one at a time, so the second replays what the first
 *   stored.
 * - The client sends a node when a runner has room (src/graph/dispatch.ts): to the runner of its
 *   key's shard, else, so that no runner waits while another has a queue, to an idle one under
 *   the entity id `key~n` that lands there.
 * - Messages are volatile: they go from the client to the runner over effect/cluster's socket,
 *   and the reply comes back on it; PostgreSQL sees none. A runner that dies holding a message
 *   drops the connection, and effect/cluster sends the message again (every 100 ms) until the
 *   runner now holding the shard takes it: nothing is lost, and delivery, retry and takeover are
 *   effect/cluster's. Persisted messages (stored, polled) did the same at 7 % more wall time for
 *   a sweep on two runners (13.35 against 12.01 s, medians of 4 alternating rounds, measured),
 *   and left every message and reply in tables that only grew.
 * - The client (`sweep --bench` or `plan` with `--cluster URL`) runs client-only: it sends and
 *   awaits replies.
 *
 * Timing (CLUSTER_SHARDING): effect/cluster's defaults suit long-lived services; planning wants a
 * dead runner's work taken over in seconds, so health checks run every second and a runner whose
 * lock refreshes stop for 6 s loses its shards. Runners compute on worker threads
 * (src/app/runner.ts), so their event loop always answers those checks.
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import { PgClient } from "@effect/sql-pg"
import { Cause, type Context, Deferred, Effect, HashRing, Layer, Option, Redacted, Schema } from "effect"
import { Entity, EntityId, type Runner, RunnerAddress, RunnerStorage, ShardId, Sharding, ShardingConfig, SqlRunnerStorage } from "effect/cluster"
import { Rpc } from "effect/rpc"
import { SqlClient } from "effect/sql"
import { type Assignment, makeDispatch, type Placement } from "./dispatch.ts"
import { Executor, failureText, RemoteExecutionError, shownUrl, type ExecutionRequest } from "./executor.ts"

/** A node computation that failed on a runner (bad params, another toolchain); the message says which. */
export class ComputeFailed extends Schema.TaggedError<ComputeFailed>()("ComputeFailed", { message: Schema.String }) {}

const Compute = Rpc.make("Compute", {
  payload: { kind: Schema.String, id: Schema.String, name: Schema.String, params: Schema.Unknown, key: Schema.String },
  success: Schema.Unknown,
  error: ComputeFailed
})

/** The entity every remote node is a message to, addressed by its key. */
const NodeEntity = Entity.make("LlmsimNode", [Compute])

/** Shards per group: effect/cluster's default, named here because `holdsShards` scans them. */
const SHARDS_PER_GROUP = 300

/** Sharding settings every client and runner of a cluster must share (see the module comment). */
const CLUSTER_SHARDING = {
  shardsPerGroup: SHARDS_PER_GROUP,
  refreshAssignmentsInterval: "1 second",
  runnerHealthCheckInterval: "1 second",
  shardLockExpiration: "6 seconds",
  entityMaxIdleTime: "10 seconds"
} as const

/** A layer whose typed failure is mapped by `f` (defects and interruption pass through). */
const mapLayerError =
  <E, E2>(f: (e: E) => E2) =>
  <A, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E2, R> =>
    layer.pipe(Layer.catchCause((cause) => Layer.effectContext(Effect.failCause(Cause.map(cause, f)) as Effect.Effect<Context.Context<A>, E2>)))

const unreachable = (url: string, e: { readonly message: string }) =>
  new RemoteExecutionError({ message: `cluster ${shownUrl(url)}: cannot reach PostgreSQL (${e.message})` })

const pgLayer = (url: string) =>
  PgClient.layer({ url: Redacted.make(url), applicationName: "llmsim", connectTimeout: "5 seconds" }).pipe(mapLayerError((e) => unreachable(url, e)))

/**
 * `layer` once PostgreSQL answered a query: effect/cluster's socket layer turns a runner-storage
 * failure into a defect, so an unreachable database is caught here and said in one line.
 */
const afterProbe = <A, E, R>(url: string, layer: Layer.Layer<A, E, R>): Layer.Layer<A, E | RemoteExecutionError, R> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`SELECT 1`.pipe(Effect.mapError((e) => unreachable(url, e)))
      return layer
    }).pipe(Effect.provide(pgLayer(url)))
  )

/** One line for a failure on the way to or from a runner. */
const failureLine = (url: string, request: ExecutionRequest, e: unknown): string => {
  // ComputeFailed, the runner's failure, is an Error too.
  return `cluster ${shownUrl(url)}: ${request.name}: ${failureText(e)}`
}

/**
 * The Executor of a client: each remote node a message to its entity, awaited until a
 * runner replies. Fails at once, saying how to start one, when no runner has joined the cluster.
 */
export const clusterExecutor = (url: string): Layer.Layer<Executor, RemoteExecutionError> => afterProbe(url, executorLayer(url))

const executorLayer = (url: string): Layer.Layer<Executor, RemoteExecutionError> =>
  Layer.effect(
    Executor,
    Effect.gen(function* () {
      const runners = yield* (yield* RunnerStorage.RunnerStorage).getRunners.pipe(
        Effect.mapError((e) => new RemoteExecutionError({ message: `cluster ${shownUrl(url)}: cannot read its runners (${e.message})` }))
      )
      if (!runners.some(([, healthy]) => healthy)) {
        return yield* new RemoteExecutionError({
          message: `cluster ${shownUrl(url)}: no runner has joined; start one with: llmsim worker --cluster ${shownUrl(url)}`
        })
      }
      const clientFor = yield* NodeEntity.client
      const sharding = yield* Sharding.Sharding
      const storage = yield* RunnerStorage.RunnerStorage
      // Each node to a runner with room, its home runner first (src/graph/dispatch.ts); the view
      // of the runners is refreshed as often as effect/cluster refreshes its own.
      const dispatch = makeDispatch((entity) => sharding.getShardId(EntityId.make(entity), SHARD_GROUP).id - 1)
      dispatch.update(assignmentOf(runners))
      yield* storage.getRunners.pipe(
        Effect.map((list) => dispatch.update(assignmentOf(list))),
        Effect.ignore,
        Effect.delay(CLUSTER_SHARDING.refreshAssignmentsInterval),
        Effect.forever,
        Effect.forkScoped
      )
      return {
        execute: (request) =>
          Effect.gen(function* () {
            const placed = Deferred.makeUnsafe<Placement>()
            // A node given up while it waited (the run was interrupted) frees its room when placed.
            let abandoned = false
            dispatch.submit(request.key, (p) => (abandoned ? dispatch.release(p.runner) : Deferred.doneUnsafe(placed, Effect.succeed(p))))
            const { runner, entity } = yield* Deferred.await(placed).pipe(Effect.onInterrupt(() => Effect.sync(() => (abandoned = true))))
            return yield* clientFor(entity)
              .Compute(request)
              .pipe(
                Effect.mapError((e) => new RemoteExecutionError({ message: failureLine(url, request, e) })),
                Effect.ensuring(Effect.sync(() => dispatch.release(runner)))
              )
          })
      }
    })
  ).pipe(
    Layer.provide(NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: CLUSTER_SHARDING })),
    // The runner list: read before the first message, then every refresh (the dispatch's view).
    Layer.provide(SqlRunnerStorage.layer.pipe(Layer.provide(ShardingConfig.layer(CLUSTER_SHARDING)))),
    mapLayerError((e) => (e instanceof RemoteExecutionError ? e : new RemoteExecutionError({ message: `cluster ${shownUrl(url)}: ${e.message}` }))),
    Layer.provide(pgLayer(url))
  )

/**
 * Nodes in flight per compute thread of a runner: one computing, the next ones already there while
 * the reply of the last travels back and the client sends another. 2, 3 and 5 measured alike on two
 * runners (12.8, 12.8, 12.7 s, medians of 3 alternating rounds, with the persisted messages of
 * then); fewer leave a shorter tail.
 */
const IN_FLIGHT_PER_THREAD = 3

/** The shard group every node entity is in (effect/cluster's default). */
const SHARD_GROUP = "default"

/**
 * Shard owners as effect/cluster assigns them (Sharding's refresh loop: a HashRing of the healthy
 * runners, weighted by their shard weight, cut into `shardsPerGroup` shards), and each runner's
 * room: IN_FLIGHT_PER_THREAD per compute thread (its weight).
 */
const assignmentOf = (runners: ReadonlyArray<readonly [Runner.Runner, boolean]>): Assignment | undefined => {
  const ring = HashRing.make<RunnerAddress.RunnerAddress>()
  const capacity = new Map<string, number>()
  for (const [runner, healthy] of runners) {
    if (!healthy) continue
    HashRing.add(ring, runner.address, { weight: runner.weight })
    capacity.set(runner.address.toString(), IN_FLIGHT_PER_THREAD * runner.weight)
  }
  const owners = HashRing.getShards(ring, SHARDS_PER_GROUP)
  return owners === undefined ? undefined : { owners: owners.map((a) => a.toString()), capacity }
}

export interface RunnerOptions {
  readonly url: string
  /** Where this runner listens for other runners and clients. */
  readonly listen: { readonly host: string; readonly port: number }
  /** The address others reach it at (default: `listen`). */
  readonly advertise?: { readonly host: string; readonly port: number }
  /** Its compute threads: its share of the shards is in proportion (effect/cluster's runner weight). */
  readonly threads: number
  /** Compute one node: its output, or why not. */
  readonly handle: (request: ExecutionRequest) => Effect.Effect<unknown, ComputeFailed>
}

/**
 * Resolves once this runner holds a shard, i.e. it is registered and clients reach it (a runner
 * that joins a running cluster gets its shards as the others hand them over); at most `ms`.
 */
export const holdsShards = (ms: number): Effect.Effect<boolean, never, Sharding.Sharding> =>
  Effect.gen(function* () {
    const sharding = yield* Sharding.Sharding
    const holds = () => Array.from({ length: SHARDS_PER_GROUP }, (_, i) => ShardId.make(SHARD_GROUP, i + 1)).some((id) => sharding.hasShardId(id))
    const end = Date.now() + ms
    while (!holds()) {
      if (Date.now() > end) return false
      yield* Effect.sleep("50 millis")
    }
    return true
  })

/** A runner: joins the cluster and serves its shards of the node entity until its scope closes. */
export const runnerLayer = (o: RunnerOptions): Layer.Layer<Sharding.Sharding, RemoteExecutionError> => {
  const advertise = o.advertise ?? o.listen
  return afterProbe(
    o.url,
    NodeEntity.toLayer(NodeEntity.of({ Compute: ({ payload }) => o.handle(payload) }), { maxIdleTime: CLUSTER_SHARDING.entityMaxIdleTime }).pipe(
      Layer.provideMerge(
        NodeClusterSocket.layer({
          storage: "sql",
          shardingConfig: {
            ...CLUSTER_SHARDING,
            runnerAddress: Option.some(RunnerAddress.make(advertise.host, advertise.port)),
            runnerShardWeight: o.threads,
            runnerListenAddress: Option.some(RunnerAddress.make(o.listen.host, o.listen.port))
          }
        }).pipe(
          mapLayerError(
            (e) =>
              new RemoteExecutionError({
                message: `runner ${o.listen.host}:${o.listen.port}: ${e._tag === "SocketServerError" ? "cannot listen (is the port in use?)" : e.message}`
              })
          )
        )
      ),
      Layer.provide(pgLayer(o.url))
    )
  )
}
