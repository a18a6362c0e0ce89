/**
 * Every flag `llmsim export` can write exists in the engine version its settings were read from:
 * the launch and benchmark commands of each engine, over deployments that take every branch of
 * the generator (aggregated dense, DP attention with EP, disaggregated, CUDA graphs on and off,
 * chunked prefill and prefix caching on and off, SLOs given), are checked flag by flag against the
 * argument lists vendored from each engine's source (data/engines/<engine>-<version>/args.json):
 * the flag exists, a flag written without a value takes none, a fixed-choice flag gets one of its
 * choices, and every key of TensorRT-LLM's options YAML is a field of its LLM API. Options written
 * before a subcommand are checked against the group's list (trtllm-bench --model); the one
 * exception, named here, is prepare_dataset.py's own --tokenizer and --stdout, whose file could not
 * be read at a pinned commit (data/engines/trtllm-main/SOURCE.md): only its subcommand is vendored.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import type { EngineSettings } from "../../src/serve/engine.ts"
import { launchCommands, launchFiles, type LaunchInput, type LaunchRole } from "../../src/serve/launchFiles.ts"

const ENGINES_DIR = path.resolve(import.meta.dirname, "..", "..", "data", "engines")

interface Args {
  readonly engine: string
  readonly version: string
  readonly commands: Readonly<
    Record<
      string,
      {
        readonly flags: ReadonlyArray<string>
        readonly boolean_flags: ReadonlyArray<string>
        readonly choices?: Readonly<Record<string, ReadonlyArray<string>>>
      }
    >
  >
  readonly yaml_keys?: Readonly<Record<string, unknown>>
}

/** Group options a subcommand's command line carries among its words, by command: the group's vendored list, or a named exception. */
const GROUPS: Readonly<Record<string, string | ReadonlyArray<string>>> = {
  "trtllm-bench throughput": "trtllm-bench",
  "prepare_dataset.py token-norm-dist": ["--tokenizer", "--stdout"]
}

const argsOf = (engine: string): Args => {
  const dir = fs.readdirSync(ENGINES_DIR).find((d) => d.startsWith(`${engine}-`))
  if (dir === undefined) throw new Error(`no vendored argument list for ${engine} under data/engines`)
  return JSON.parse(fs.readFileSync(path.join(ENGINES_DIR, dir, "args.json"), "utf8")) as Args
}

const settings = (o: Partial<EngineSettings>): EngineSettings => ({
  engine: "x",
  version: "x",
  max_running: 256,
  max_step_tokens: 8192,
  chunked_prefill: true,
  mixed_steps: true,
  memory_fraction: 0.9,
  block_size: 16,
  cuda_graph_sizes: [1, 2, 4, 8, 16],
  host_step_ms: 0,
  host_per_seq_ms: 0,
  host_source: "x",
  admission: "on-demand",
  prefix_caching: true,
  ...o
})

const role = (o: Partial<LaunchRole>): LaunchRole => ({
  role: "server",
  instances: 1,
  tp: 1,
  dp: 1,
  ep: 1,
  wide_ep: false,
  two_batch_overlap: false,
  settings: settings({}),
  max_model_len: 4096,
  ...o
})

/** Deployments that take every branch of the generator. */
const DEPLOYMENTS: ReadonlyArray<{ readonly name: string; readonly roles: ReadonlyArray<LaunchRole> }> = [
  { name: "aggregated TP4, graphs and caching on", roles: [role({ tp: 4 })] },
  {
    name: "aggregated DEP8, no graphs, no chunking, no caching, no context limit",
    roles: [role({ dp: 8, ep: 8, max_model_len: null, settings: settings({ cuda_graph_sizes: [], chunked_prefill: false, prefix_caching: false }) })]
  },
  {
    name: "disaggregated 2P TP2 + 1D DEP8",
    roles: [role({ role: "prefill", instances: 2, tp: 2 }), role({ role: "decode", dp: 8, ep: 8, settings: settings({ prefix_caching: false }) })]
  },
  {
    name: "wide EP: 1P DEP8 + 1D DEP16, and aggregated wide-EP DEP8",
    roles: [role({ role: "prefill", dp: 8, ep: 8, wide_ep: true, two_batch_overlap: true }), role({ role: "decode", dp: 16, ep: 16, wide_ep: true })]
  },
  { name: "aggregated wide-EP DEP8 with two-batch overlap", roles: [role({ dp: 8, ep: 8, wide_ep: true, two_batch_overlap: true })] }
]

const inputOf = (engine: LaunchInput["engine"], roles: ReadonlyArray<LaunchRole>): LaunchInput => ({
  engine,
  model: "org/model",
  roles,
  workload: { input_len: 1024, output_len: 128, range_ratio: 0.1, num_prompts: 100, request_rate: 4, seed: 1, goodput: { ttft: 2000, tpot: 50 } },
  port: 8000
})

/** Every key path of a parsed YAML object, dotted. */
const keyPaths = (o: unknown, prefix = ""): Array<string> =>
  o !== null && typeof o === "object" && !Array.isArray(o)
    ? Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => [`${prefix}${k}`, ...keyPaths(v, `${prefix}${k}.`)])
    : []

const known = (tree: Readonly<Record<string, unknown>>, dotted: string): boolean => {
  let at: unknown = tree
  for (const k of dotted.split(".")) {
    if (at === null || typeof at !== "object" || !(k in (at as object))) return false
    at = (at as Record<string, unknown>)[k]
  }
  return true
}

describe("launch files: every flag is the engine version's own", () => {
  for (const engine of ["vllm", "sglang", "trtllm"] as const) {
    it(engine, () => {
      const args = argsOf(engine)
      const unknown: Array<string> = []
      for (const d of DEPLOYMENTS) {
        const input = inputOf(engine, d.roles)
        for (const c of launchCommands(input)) {
          const list = args.commands[c.command]
          if (list === undefined) {
            unknown.push(`${d.name}: ${c.command}: no vendored argument list`)
            continue
          }
          const group = GROUPS[c.command]
          for (const w of c.words.filter((x) => x.startsWith("--"))) {
            const ok = typeof group === "string" ? (args.commands[group]?.flags.includes(w) ?? false) : (group?.includes(w) ?? false)
            if (!ok) unknown.push(`${d.name}: ${c.command} ${w}: not an option of its group`)
          }
          for (const [flag, value] of c.flags) {
            // A positional word written as a flag pair (trtllm's dataset subcommand) is not a flag.
            if (!flag.startsWith("-")) continue
            if (!list.flags.includes(flag)) unknown.push(`${d.name}: ${c.command} ${flag}: not a flag of ${args.engine} ${args.version}`)
            else if (value === null && !list.boolean_flags.includes(flag)) unknown.push(`${d.name}: ${c.command} ${flag}: takes a value`)
            else if (value !== null && list.boolean_flags.includes(flag)) unknown.push(`${d.name}: ${c.command} ${flag}: takes no value`)
            const choices = list.choices?.[flag]
            if (value !== null && choices !== undefined && !choices.includes(value))
              unknown.push(`${d.name}: ${c.command} ${flag} ${value}: not one of ${choices.join(", ")}`)
          }
        }
        if (engine === "trtllm")
          for (const f of launchFiles(input).filter((x) => x.path.endsWith(".yml") && x.path !== "disagg.yml"))
            for (const key of keyPaths(parse(f.text)))
              if (!known(args.yaml_keys ?? {}, key)) unknown.push(`${d.name}: ${f.path}: ${key}: not an LLM API option`)
      }
      expect(unknown).toEqual([])
    })
  }
})
