/**
 * The client's routing of remote nodes over cluster runners (src/graph/dispatch.ts), worked by
 * hand on a small cluster. Shards: an entity id `s<n>` is on shard n; a candidate `s<n>~<i>`
 * (a stolen node's entity id) on shard (n + i) mod the shard count. The real hash and ring are
 * effect/cluster's (test/graph/cluster.test.ts drives them).
 */
import { describe, expect, it } from "vitest"
import { type Assignment, makeDispatch, type Placement } from "../../src/graph/dispatch.ts"

const SHARDS = 4
const shardIndex = (entity: string): number => {
  const [key, suffix] = entity.split("~")
  return (Number(key!.slice(1)) + Number(suffix ?? 0)) % SHARDS
}

/** Shards 0, 1 on runner A and 2, 3 on B, each with room for two nodes unless said otherwise. */
const view = (capacity: Record<string, number> = { A: 2, B: 2 }, owners = ["A", "A", "B", "B"]): Assignment => ({
  owners,
  capacity: new Map(Object.entries(capacity))
})

const setup = (assignment: Assignment | null) => {
  const dispatch = makeDispatch(shardIndex)
  dispatch.update(assignment ?? undefined)
  const placed: Array<[string, Placement]> = []
  const submit = (...keys: ReadonlyArray<string>) => {
    for (const key of keys) dispatch.submit(key, (p) => placed.push([key, p]))
  }
  return { dispatch, placed, submit }
}

describe("dispatch", () => {
  it("sends each node to the runner of its key's shard while that one has room, in arrival order", () => {
    const { dispatch, placed, submit } = setup(view())
    submit("s0", "s2", "s1")
    expect(placed).toEqual([
      ["s0", { runner: "A", entity: "s0" }],
      ["s2", { runner: "B", entity: "s2" }],
      ["s1", { runner: "A", entity: "s1" }]
    ])
    expect([dispatch.inFlight("A"), dispatch.inFlight("B"), dispatch.waiting()]).toEqual([2, 1, 0])
  })

  it("a runner with room and nothing of its own waiting takes the oldest node of the longest queue, under an id that lands on it", () => {
    const { dispatch, placed, submit } = setup(view())
    // Four nodes homed on A (room 2): two go home; B (room 2, none of its own) takes the next
    // two. s0 lands on B as s0~2 (shard 2); s1 as s1~1 (shard 2).
    submit("s0", "s1", "s4", "s5")
    expect(placed).toEqual([
      ["s0", { runner: "A", entity: "s0" }],
      ["s1", { runner: "A", entity: "s1" }],
      ["s4", { runner: "B", entity: "s4~2" }],
      ["s5", { runner: "B", entity: "s5~1" }]
    ])
    expect(dispatch.waiting()).toBe(0)
  })

  it("waits while every runner is full, and a released slot takes the next node home first", () => {
    const { dispatch, placed, submit } = setup(view({ A: 1, B: 1 }))
    submit("s0", "s2", "s4", "s3")
    expect(placed.map(([k]) => k)).toEqual(["s0", "s2"])
    expect(dispatch.waiting()).toBe(2)
    // B frees up: s3 is B's own (shard 3) and goes home although s4 (A's) came first.
    dispatch.release("B")
    expect(placed[2]).toEqual(["s3", { runner: "B", entity: "s3" }])
    // B again: nothing of its own waits, so it takes s4 (A's, shard 0) as s4~2.
    dispatch.release("B")
    expect(placed[3]).toEqual(["s4", { runner: "B", entity: "s4~2" }])
    expect([dispatch.inFlight("A"), dispatch.inFlight("B"), dispatch.waiting()]).toEqual([1, 1, 0])
  })

  it("room is per runner: a runner's capacity (its compute threads) bounds its nodes in flight", () => {
    const { dispatch, submit } = setup(view({ A: 3, B: 1 }))
    submit("s0", "s1", "s2", "s3", "s0", "s1")
    expect([dispatch.inFlight("A"), dispatch.inFlight("B"), dispatch.waiting()]).toEqual([3, 1, 2])
  })

  it("nodes wait without a view of the runners, and go when one comes", () => {
    const { dispatch, placed, submit } = setup(null)
    submit("s0", "s3")
    expect([placed.length, dispatch.waiting()]).toEqual([0, 2])
    dispatch.update(view())
    expect(placed).toEqual([
      ["s0", { runner: "A", entity: "s0" }],
      ["s3", { runner: "B", entity: "s3" }]
    ])
  })

  it("when the shards move (a runner died), waiting nodes follow them to their new home", () => {
    const { dispatch, placed, submit } = setup(view({ A: 1, B: 1 }))
    submit("s0", "s2", "s1", "s3")
    expect(placed.map(([k]) => k)).toEqual(["s0", "s2"])
    // A is gone: B holds every shard. s1 (shard 1) is B's now and waits for B's room.
    dispatch.update(view({ B: 1 }, ["B", "B", "B", "B"]))
    dispatch.release("B")
    expect(placed[2]).toEqual(["s1", { runner: "B", entity: "s1" }])
    // The dead runner's node is answered by the new owner: its count goes down, nothing is sent to it.
    dispatch.release("A")
    expect(placed).toHaveLength(3)
    dispatch.release("B")
    expect(placed[3]).toEqual(["s3", { runner: "B", entity: "s3" }])
  })

  it("a runner that holds no shard yet (just joined) is passed over: nothing can be addressed to it", () => {
    const { dispatch, placed, submit } = setup(view({ A: 1, B: 1, C: 5 }))
    // s1 finds its home A full and B idle: B takes it (as s1~1). C has the most room but no
    // shard, so s2 (B's) waits for B.
    submit("s0", "s1", "s2")
    expect(placed.map(([k, p]) => `${k}@${p.entity}@${p.runner}`)).toEqual(["s0@s0@A", "s1@s1~1@B"])
    expect([dispatch.inFlight("C"), dispatch.waiting()]).toEqual([0, 1])
  })
})
