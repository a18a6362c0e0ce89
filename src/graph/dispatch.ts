/**
 * Which cluster runner computes each remote node (src/graph/cluster.ts), decided by the client as
 * a load balancer does: least outstanding work, with key affinity. Plain state, no Effect.
 *
 * effect/cluster delivers a message to the runner that holds its entity's shard. Addressing each
 * node by its key alone spreads nodes by hash, not by load: one runner draws a longer queue than
 * another and the sweep waits for it (on two runners, up to 1.5 s of one core idle at the end of
 * a 13 s sweep, measured). Here each runner takes at most `capacity` nodes in flight (a few per
 * compute thread), and a node is sent when a runner has room:
 *
 *   home    to the runner its key's shard is on, when that one has room: the same node sent by two
 *           clients meets the same entity there, and the second replays what the first stored;
 *   steal   else, to a runner with room and no waiting node of its own (least loaded first), the
 *           oldest node of the longest queue, under an entity id that lands on that runner (the
 *           key with a `~n` suffix).
 *
 * So no runner waits while another has a queue, and the last nodes finish together. The client
 * computes the shard owners as effect/cluster does (src/graph/cluster.ts `ownersOf`); where it is
 * briefly wrong (a runner joining or dying), a message still reaches whoever holds the shard, and
 * only the balance suffers until the next refresh.
 */

/** Where one node goes: the runner counted for it, and the entity id to address. */
export interface Placement {
  readonly runner: string
  readonly entity: string
}

/** The cluster as the client sees it: the runner of each shard (by index), and each runner's room. */
export interface Assignment {
  readonly owners: ReadonlyArray<string>
  readonly capacity: ReadonlyMap<string, number>
}

export interface Dispatch {
  /** A new view of the runners (every refresh): waiting nodes are placed against it. */
  readonly update: (assignment: Assignment | undefined) => void
  /** Queue a node; `go` is called once, when it has a runner. */
  readonly submit: (key: string, go: (placement: Placement) => void) => void
  /** A node placed on `runner` is answered (or failed): its room is free again. */
  readonly release: (runner: string) => void
  /** Nodes waiting for room, and in flight per runner (for tests and logs). */
  readonly waiting: () => number
  readonly inFlight: (runner: string) => number
}

/** Entity ids tried for a stolen node before a runner is passed over (a runner that owns 1 shard in `n` takes ~n tries). */
const MAX_CANDIDATES = 4096

interface Waiting {
  /** Arrival order. */
  readonly seq: number
  readonly key: string
  readonly go: (placement: Placement) => void
}

/** `shardIndex`: the index into `owners` of an entity id's shard (effect/cluster's hash of the id). */
export const makeDispatch = (shardIndex: (entity: string) => number): Dispatch => {
  let view: Assignment | undefined
  let viewSignature = ""
  const inFlight = new Map<string, number>()
  // Waiting nodes by home runner, each in arrival order; `homeless` until the first view.
  let byHome = new Map<string, Array<Waiting>>()
  let homeless: Array<Waiting> = []
  let next = 0
  const load = (runner: string) => inFlight.get(runner) ?? 0
  const share = (runner: string) => load(runner) / view!.capacity.get(runner)!
  const hasRoom = (runner: string) => load(runner) < (view?.capacity.get(runner) ?? 0)
  const enqueue = (node: Waiting) => {
    const home = view?.owners[shardIndex(node.key)]
    if (home === undefined) return void homeless.push(node)
    const queue = byHome.get(home)
    if (queue === undefined) byHome.set(home, [node])
    else queue.push(node)
  }
  const entityOn = (key: string, runner: string): string | undefined => {
    for (let i = 1; i <= MAX_CANDIDATES; i++) {
      const candidate = `${key}~${i}`
      if (view?.owners[shardIndex(candidate)] === runner) return candidate
    }
    return undefined
  }
  const place = (node: Waiting, placement: Placement) => {
    inFlight.set(placement.runner, load(placement.runner) + 1)
    node.go(placement)
  }
  const pump = () => {
    if (view === undefined) return
    const passed = new Set<string>()
    for (;;) {
      const withRoom = [...view.capacity.keys()].filter((r) => hasRoom(r) && !passed.has(r)).sort((a, b) => share(a) - share(b))
      if (withRoom.length === 0) return
      const home = withRoom.find((r) => (byHome.get(r)?.length ?? 0) > 0)
      if (home !== undefined) {
        const node = byHome.get(home)!.shift()!
        place(node, { runner: home, entity: node.key })
        continue
      }
      // No runner with room has a node of its own waiting: the least loaded takes the oldest
      // node of the longest queue.
      const victim = [...byHome.entries()].reduce<[string, Array<Waiting>] | undefined>((a, e) => (e[1].length > (a?.[1].length ?? 0) ? e : a), undefined)
      if (victim === undefined) return
      const thief = withRoom[0]!
      const entity = entityOn(victim[1][0]!.key, thief)
      if (entity === undefined) {
        passed.add(thief)
        continue
      }
      place(victim[1].shift()!, { runner: thief, entity })
    }
  }
  return {
    update: (assignment) => {
      const signature = assignment === undefined ? "" : `${assignment.owners.join(",")}|${[...assignment.capacity].join(",")}`
      view = assignment
      if (signature !== viewSignature) {
        viewSignature = signature
        // Homes follow the shards: every waiting node is queued again against the new owners, in arrival order.
        const all = [...homeless, ...[...byHome.values()].flat()].sort((a, b) => a.seq - b.seq)
        byHome = new Map()
        homeless = []
        for (const node of all) enqueue(node)
      }
      pump()
    },
    submit: (key, go) => {
      enqueue({ seq: next++, key, go })
      pump()
    },
    release: (runner) => {
      inFlight.set(runner, Math.max(0, load(runner) - 1))
      pump()
    },
    waiting: () => homeless.length + [...byHome.values()].reduce((n, q) => n + q.length, 0),
    inFlight: load
  }
}
