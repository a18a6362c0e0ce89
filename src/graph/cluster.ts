/**
 * Distributed evaluation on effect/cluster (docs/cluster.md): remote nodes (src/graph/executor.ts)
 * as messages to cluster entities, sharded over runner processes, with PostgreSQL holding the
 * messages, the replies, the runner list and the shard locks (effect/cluster's SqlMessageStorage
 * and SqlRunnerStorage through @effect/sql-pg).
 *
 * - One entity per node key (`LlmsimNode`): the same node sent twice (two clients) goes to one
 *   entity, which handles its messages one at a time, so the second replays what the first
 *   stored. Messages carry no primary key: storage would answer a repeated key with the reply
 *   it kept, and a client stopped with Ctrl-C leaves an interruption as its requests' replies.
 * - Messages are persisted: a runner that dies holding a shard leaves its unanswered messages in
 *   PostgreSQL; its shard locks go with its connection and the shards move to a live runner,
 *   which reads them from storage and computes them. Nothing is lost, nothing is scheduled here.
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
import { Cause, type Context, Effect, Layer, Option, Redacted, Schema, Semaphore } from "effect"
import { ClusterSchema, Entity, RunnerAddress, RunnerStorage, ShardId, Sharding, ShardingConfig, SqlRunnerStorage } from "effect/cluster"
import { Rpc } from "effect/rpc"
import { SqlClient } from "effect/sql"
import { Executor, failureText, RemoteExecutionError, shownUrl, type ExecutionRequest } from "./executor.ts"

/** A node computation that failed on a runner (bad params, another toolchain); the message says which. */
export class ComputeFailed extends Schema.TaggedError<ComputeFailed>()("ComputeFailed", { message: Schema.String }) {}

const Compute = Rpc.make("Compute", {
  payload: { kind: Schema.String, id: Schema.String, name: Schema.String, params: Schema.Unknown, key: Schema.String },
  success: Schema.Unknown,
  error: ComputeFailed
}).annotate(ClusterSchema.Persisted, true)

/** The entity every remote node is a message to, addressed by its key. */
const NodeEntity = Entity.make("LlmsimNode", [Compute])

/** Shards per group: effect/cluster's default, named here because `holdsShards` scans them. */
const SHARDS_PER_GROUP = 300

/** Sharding settings every client and runner of a cluster must share (see the module comment). */
const CLUSTER_SHARDING = {
  shardsPerGroup: SHARDS_PER_GROUP,
  // A client that does not yet know a shard's runner leaves the message in storage: runners poll.
  entityMessagePollInterval: "1 second",
  // A client-only node learns of replies by polling (runners cannot call it): often enough that
  // a runner's window of messages (IN_FLIGHT_PER_THREAD) is refilled before it runs dry.
  entityReplyPollInterval: "100 millis",
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
 * The Executor of a client: each remote node a persisted message to its entity, awaited until a
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
      // Nodes go to runners by the hash of their key, not by load: with every node sent at once,
      // one runner can draw more work than another (111 against 97 searches, 8.3 against 7.2 s
      // of compute, measured on two runners) and finish last alone. A window of a few messages
      // per compute thread (a runner's weight is its thread count) keeps each busy and leaves a
      // tail of a few searches; the hash still picks the runner of each message.
      const threads = runners.reduce((n, [r, healthy]) => n + (healthy ? r.weight : 0), 0)
      const window = Semaphore.makeUnsafe(Math.max(IN_FLIGHT_PER_THREAD, IN_FLIGHT_PER_THREAD * threads))
      return {
        execute: (request) =>
          window.withPermits(1)(
            clientFor(request.key)
              .Compute(request)
              .pipe(Effect.mapError((e) => new RemoteExecutionError({ message: failureLine(url, request, e) })))
          )
      }
    })
  ).pipe(
    Layer.provide(NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: CLUSTER_SHARDING })),
    // The runner list, read once before the first message.
    Layer.provide(SqlRunnerStorage.layer.pipe(Layer.provide(ShardingConfig.layer(CLUSTER_SHARDING)))),
    mapLayerError((e) => (e instanceof RemoteExecutionError ? e : new RemoteExecutionError({ message: `cluster ${shownUrl(url)}: ${e.message}` }))),
    Layer.provide(pgLayer(url))
  )

/** Messages in flight per compute thread of the cluster (as it was when the client started). */
const IN_FLIGHT_PER_THREAD = 8

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
    const holds = () => Array.from({ length: SHARDS_PER_GROUP }, (_, i) => ShardId.make("default", i + 1)).some((id) => sharding.hasShardId(id))
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
