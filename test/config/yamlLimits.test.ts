/**
 * Input limits of the config reading path, in process: YAML node, nesting and alias limits, the
 * number magnitude limit, regular-file-only bounded reads, the layer limit, files that are not
 * configs at all, and the message for a non-finite value reaching canonical JSON. Expected
 * limits and positions are worked out from the inputs written here.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { MAX_LAYERS } from "../../src/config/load.ts"
import { readRegularFile } from "../../src/config/safeRead.ts"
import { decodeYamlText, MAX_FLOW_DEPTH, MAX_YAML_NODES, parseYaml } from "../../src/config/yamlFile.ts"
import { canonicalJson } from "../../src/graph/canonical.ts"
import { HardwareSpec } from "../../src/schema/hardware.ts"
import { edit, makeProject, REPO } from "../helpers/cli.ts"
import { runFailure, runOptions } from "../helpers/inProcess.ts"
import { tempDir } from "../helpers/temp.ts"

const HARDWARE = fs.readFileSync(path.join(REPO, "configs/hardware/H800-SXM.yaml"), "utf8")
const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"

const messageOf = (r: unknown): string => {
  expect(r).toBeInstanceOf(ConfigError)
  return (r as ConfigError).message
}

/**
 * Runs `f` and checks it used under 2 s of CPU (hostile input must fail fast). CPU time, not wall
 * time: a loaded machine stretches the wall clock, not the work done.
 */
const fast = <A>(f: () => A): A => {
  const before = process.cpuUsage()
  const a = f()
  const used = process.cpuUsage(before)
  expect((used.user + used.system) / 1000).toBeLessThan(2000)
  return a
}

describe("YAML limits", () => {
  it("a billion-laughs alias bomb is refused, fast", () => {
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(",")}]`
      )
    const r = fast(() => parseYaml(`${lines.join("\n")}\n`, "bomb.yaml"))
    expect(messageOf(r)).toBe("bomb.yaml:1:1: YAML aliases expand too far (more than 100 times their size; llmsim's limit against alias bombs)")
  })

  it("a few aliases still work", () => {
    const r = parseYaml("a: &x 1\nb: *x\n", "ok.yaml")
    expect(r).not.toBeInstanceOf(ConfigError)
    expect((r as { value: unknown }).value).toEqual({ a: 1, b: 1 })
  })

  it("more nodes than the limit are refused before parsing, fast", () => {
    // `k: [1, 1, ...]`: one key scalar, one sequence start, then the items.
    const atLimit = `k: [${Array(MAX_YAML_NODES - 2)
      .fill("1")
      .join(",")}]\n`
    expect(parseYaml(atLimit, "ok.yaml")).not.toBeInstanceOf(ConfigError)
    const over = `k: [${Array(MAX_YAML_NODES - 1)
      .fill("1")
      .join(",")}]\n`
    expect(messageOf(fast(() => parseYaml(over, "big.yaml")))).toBe(
      "big.yaml:1:1: more than 10000 YAML nodes (llmsim's limit; a config file has a few hundred)"
    )
    // A huge file stops the count at the limit (the lexer reads no further).
    const huge = `k: [${Array(2_000_000).fill("1").join(",")}]\n`
    expect(messageOf(fast(() => parseYaml(huge, "huge.yaml")))).toMatch(/more than 10000 YAML nodes/)
  })

  it("flow nesting deeper than the limit is refused", () => {
    const nested = (n: number) => `k: ${"[".repeat(n)}1${"]".repeat(n)}\n`
    expect(parseYaml(nested(MAX_FLOW_DEPTH), "ok.yaml")).not.toBeInstanceOf(ConfigError)
    expect(messageOf(fast(() => parseYaml(nested(100_000), "deep.yaml")))).toBe("deep.yaml:1:1: [ ] / { } nested more than 64 deep (llmsim's limit)")
  })

  it("a number beyond its range is a positioned error (units would overflow it to Infinity)", () => {
    // A capacity's physical range (src/schema/physical.ts) lies inside the 1e15 limit of every number.
    const text = HARDWARE.replace(/hbm_gb:\s*[0-9.]+/, "hbm_gb: 1e16")
    const line = text.split("\n").findIndex((l) => l.startsWith("hbm_gb:")) + 1
    expect(messageOf(decodeYamlText(HardwareSpec, text, "hw.yaml"))).toBe(
      `hw.yaml:${line}:9 hbm_gb: Expected a memory capacity between 1e-3 and 1e6 GB (its physical range), got 10000000000000000`
    )
    expect(decodeYamlText(HardwareSpec, HARDWARE.replace(/hbm_gb:\s*[0-9.]+/, "hbm_gb: 1e6"), "hw.yaml")).not.toBeInstanceOf(ConfigError)
  })
})

describe("files that are not configs", () => {
  it("/etc/shadow-like text: one line saying what was expected, none of its lines", () => {
    const text = "root:$y$j9T$SECRETHASH:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n"
    const m = messageOf(decodeYamlText(HardwareSpec, text, "shadow"))
    expect(m).toBe("shadow:1:1: not a llmsim config file: none of its top-level keys is a known field (see configs/README.md)")
  })

  it("binary-looking text is reported as not a mapping", () => {
    expect(messageOf(decodeYamlText(HardwareSpec, "\u007fELF\u0002\u0001\u0001", "bin"))).toBe("bin:1:1: Expected a mapping of fields (a llmsim config file)")
  })

  it("an unknown key beside known ones is named when it is a plain name, masked otherwise", () => {
    const m = messageOf(decodeYamlText(HardwareSpec, `${HARDWARE}\ncolour: blue\n"root:$secret:1": x\n`, "hw.yaml"))
    expect(m).toMatch(/ colour: Expected no excess property/)
    expect(m).toMatch(/ <unknown key>: Expected no excess property/)
    expect(m).not.toMatch(/secret/)
  })
})

describe("bounded, regular-file-only reads", () => {
  const dir = tempDir("llmsim-read-")

  it("reads a regular file", () => {
    const f = path.join(dir, "a.yaml")
    fs.writeFileSync(f, "name: x\n")
    expect(readRegularFile(f)).toEqual({ text: "name: x\n" })
  })

  it("refuses a FIFO without blocking", () => {
    const f = path.join(dir, "fifo.yaml")
    execFileSync("mkfifo", [f])
    expect(fast(() => readRegularFile(f))).toEqual({ refused: "not a regular file (a FIFO)" })
  })

  it("refuses /dev/zero and a directory", () => {
    expect(fast(() => readRegularFile("/dev/zero"))).toEqual({ refused: "not a regular file (a character device)" })
    expect(readRegularFile(dir)).toEqual({ refused: "not a regular file (a directory)" })
  })

  it("refuses a file over the limit, naming its size and the limit", () => {
    const f = path.join(dir, "big.yaml")
    fs.writeFileSync(f, "x".repeat(2048))
    expect(readRegularFile(f, 1024)).toEqual({ refused: "2.0 KiB, over the 1.0 KiB limit for input files" })
    expect(readRegularFile(f, 2048)).toEqual({ text: "x".repeat(2048) })
  })

  it("a missing file is an error for the caller to report as not found", () => {
    expect(readRegularFile(path.join(dir, "nope.yaml"))).toHaveProperty("error")
  })
})

describe("layer limit", () => {
  it("a repeat over the limit points at that repeat", async () => {
    const dir = makeProject()
    const f = path.join(dir, SCENARIO)
    edit(f, (t) => t.replace(/repeat:\s*58/, `repeat: ${MAX_LAYERS + 1}`))
    const line =
      fs
        .readFileSync(f, "utf8")
        .split("\n")
        .findIndex((l) => l.includes(`repeat: ${MAX_LAYERS + 1}`)) + 1
    const e = await runFailure(runOptions(dir, SCENARIO))
    expect(e.message).toBe(`${SCENARIO}:${line}:13 layers.1.repeat: Expected at most 10000 (llmsim's layer limit), got 10001`)
  })

  it("repeats summing over the limit point at the layer list", async () => {
    const dir = makeProject()
    const f = path.join(dir, SCENARIO)
    // 3 dense + 9998 MoE layers = 10001.
    edit(f, (t) => t.replace(/repeat:\s*58/, "repeat: 9998"))
    const e = await runFailure(runOptions(dir, SCENARIO))
    expect(e.message).toMatch(new RegExp(`^${SCENARIO}:\\d+:\\d+ layers: Expected at most 10000 layers in all \\(llmsim's layer limit\\), got 10001$`))
  })
})

describe("canonical JSON of a non-finite value", () => {
  it("names where the value sits and the node, instead of the library's bare message", () => {
    expect(() => canonicalJson({ name: "L3.comm", params: { spec: { bytes: Infinity } } })).toThrow(
      "a computed value is not finite: params.spec.bytes is Infinity (node L3.comm)"
    )
    expect(() => canonicalJson([1, Number.NaN])).toThrow("a computed value is not finite: 1 is NaN")
  })
})
