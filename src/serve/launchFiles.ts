/**
 * Launch files for a planned deployment, per engine: the server command of each role, the engine's
 * own benchmark client reproducing the planned workload, and for TensorRT-LLM its extra options
 * YAML. The memory and batching settings written are the ones the simulator used (the engine
 * settings after its memory rule: the same fraction, the same running limit and step budget, the
 * same CUDA-graph bound), so what boots is what was planned. Every flag is one of the engine
 * version's own (data/engines/<engine>-<version>/args.json, checked by test/serve/launchFiles.test.ts).
 * Pure: files as text, in a fixed order, so an export writes the same bytes every time.
 *
 * Roles: an aggregated deployment is one server of tp x dp GPUs; a disaggregated one a prefill
 * server and a decode server (each its instances' count of copies), and the engine's router in
 * front (SGLang's sglang_router, TensorRT-LLM's `trtllm-serve disaggregated`; vLLM has no router
 * command of its own: the README names the example proxy of its repository).
 */
import type { EngineSettings } from "./engine.ts"

/** One role of a deployment: an engine instance of this layout and settings, `instances` times. */
export interface LaunchRole {
  readonly role: "server" | "prefill" | "decode"
  readonly instances: number
  readonly tp: number
  readonly dp: number
  readonly ep: number
  /** A wide expert-parallel deployment (DeepEP all-to-all), as the simulator priced it, with two-batch overlap or not. */
  readonly wide_ep: boolean
  readonly two_batch_overlap: boolean
  readonly settings: EngineSettings
  /** Longest prompt + output the server accepts, tokens (null: the model's own limit, as the simulator assumed). */
  readonly max_model_len: number | null
}

/** The workload the benchmark client replays (vllm bench serve's names). */
interface LaunchWorkload {
  readonly input_len: number
  readonly output_len: number
  readonly range_ratio: number
  readonly num_prompts: number
  /** Requests/s (Infinity: all at once). */
  readonly request_rate: number
  readonly seed: number
  readonly goodput?: { readonly ttft?: number; readonly tpot?: number; readonly e2el?: number }
}

export interface LaunchInput {
  readonly engine: "vllm" | "sglang" | "trtllm"
  /** The checkpoint the engine loads: a Hugging Face id or a local path. */
  readonly model: string
  readonly roles: ReadonlyArray<LaunchRole>
  readonly workload: LaunchWorkload
  /** The port clients talk to: the server's, or with disaggregation the router's (servers count up from it). */
  readonly port: number
}

export interface LaunchFile {
  readonly path: string
  readonly text: string
  /** A shell script (written executable). */
  readonly executable: boolean
}

/** The command line of one invocation: the program words, then flags with their values. */
export interface CommandLine {
  readonly command: string
  readonly words: ReadonlyArray<string>
  readonly flags: ReadonlyArray<readonly [string, string | null]>
}

/** Quote a shell word only when it needs it. */
const sh = (w: string): string => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)

const renderCommand = (c: CommandLine): string => {
  const parts = [...c.words.map(sh), ...c.flags.map(([f, v]) => (v === null ? f : `${f} ${sh(v)}`))]
  // One flag a line, as engine docs write long commands.
  return parts.reduce((acc, p, i) => (i === 0 ? p : i < c.words.length ? `${acc} ${p}` : `${acc} \\\n  ${p}`), "")
}

const largestGraph = (s: EngineSettings): number => s.cuda_graph_sizes.at(-1) ?? 0
const rateText = (r: number): string => (r === Number.POSITIVE_INFINITY ? "inf" : String(r))
const goodputText = (g: LaunchWorkload["goodput"]): string | undefined => {
  if (g === undefined) return undefined
  const parts = (["ttft", "tpot", "e2el"] as const).filter((k) => g[k] !== undefined).map((k) => `${k}:${g[k]}`)
  return parts.length === 0 ? undefined : parts.join(" ")
}

/** The planned random workload as `vllm bench serve` and `sglang.bench_serving` both name it. */
const randomClientFlags = (input: LaunchInput, port: number): Array<readonly [string, string | null]> => {
  const w = input.workload
  return [
    ["--model", input.model],
    ["--port", String(port)],
    ["--dataset-name", "random"],
    ["--random-input-len", String(w.input_len)],
    ["--random-output-len", String(w.output_len)],
    ["--random-range-ratio", String(w.range_ratio)],
    ["--num-prompts", String(w.num_prompts)],
    ["--request-rate", rateText(w.request_rate)],
    ["--seed", String(w.seed)]
  ]
}

// ---------------------------------------------------------------------------------------------
// vLLM v0.16.0

const vllmServe = (input: LaunchInput, r: LaunchRole, port: number): CommandLine => {
  const s = r.settings
  const flags: Array<readonly [string, string | null]> = [
    ["--tensor-parallel-size", String(r.tp)],
    ["--data-parallel-size", String(r.dp)],
    ...(r.ep > 1 ? ([["--enable-expert-parallel", null]] as const) : []),
    ...(r.max_model_len === null ? [] : ([["--max-model-len", String(r.max_model_len)]] as const)),
    ["--max-num-seqs", String(s.max_running)],
    ["--max-num-batched-tokens", String(s.max_step_tokens)],
    ["--gpu-memory-utilization", String(s.memory_fraction)],
    ["--block-size", String(s.block_size)],
    [s.chunked_prefill ? "--enable-chunked-prefill" : "--no-enable-chunked-prefill", null],
    [s.prefix_caching ? "--enable-prefix-caching" : "--no-enable-prefix-caching", null],
    ...(largestGraph(s) === 0 ? ([["--enforce-eager", null]] as const) : ([["--max-cudagraph-capture-size", String(largestGraph(s))]] as const)),
    ...(r.role === "server" ? [] : ([["--kv-transfer-config", JSON.stringify({ kv_connector: "NixlConnector", kv_role: "kv_both" })]] as const)),
    // Wide EP: DeepEP's kernels (values of vllm/config/parallel.py All2AllBackend) and dual-batch overlap.
    ...(r.wide_ep
      ? ([
          ["--all2all-backend", r.role === "prefill" ? "deepep_high_throughput" : "deepep_low_latency"],
          ...(r.two_batch_overlap ? ([["--enable-dbo", null]] as const) : [])
        ] as const)
      : []),
    ["--port", String(port)]
  ]
  return { command: "vllm serve", words: ["vllm", "serve", input.model], flags }
}

const vllmBench = (input: LaunchInput, port: number): CommandLine => {
  const w = input.workload
  const g = goodputText(w.goodput)
  return {
    command: "vllm bench serve",
    words: ["vllm", "bench", "serve"],
    flags: [
      ["--backend", "vllm"],
      ...randomClientFlags(input, port),
      ...(g === undefined ? [] : ([["--goodput", g]] as const)),
      ["--percentile-metrics", "ttft,tpot,itl,e2el"],
      ["--metric-percentiles", "90,99"],
      ["--save-result", null],
      ["--result-filename", "result.json"]
    ]
  }
}

// ---------------------------------------------------------------------------------------------
// SGLang v0.5.6

const sglangServe = (input: LaunchInput, r: LaunchRole, port: number): CommandLine => {
  const s = r.settings
  // DP attention with EP is one server of tp x dp GPUs (engines.ts): --tp-size counts every GPU.
  const dpAttention = r.dp > 1 && r.ep > 1
  const flags: Array<readonly [string, string | null]> = [
    ["--model-path", input.model],
    ["--tp-size", String(dpAttention ? r.tp * r.dp : r.tp)],
    ...(r.dp > 1 ? ([["--dp-size", String(r.dp)]] as const) : []),
    ...(dpAttention ? ([["--enable-dp-attention", null]] as const) : []),
    ...(r.ep > 1 ? ([["--ep-size", String(r.ep)]] as const) : []),
    ...(r.max_model_len === null ? [] : ([["--context-length", String(r.max_model_len)]] as const)),
    // Under DP attention SGLang splits both over the dp ranks (engines.ts models one rank): the server's flag is the sum.
    ["--chunked-prefill-size", String(s.chunked_prefill ? s.max_step_tokens * (dpAttention ? r.dp : 1) : -1)],
    ["--max-running-requests", String(s.max_running * (dpAttention ? r.dp : 1))],
    ["--mem-fraction-static", String(s.memory_fraction)],
    ["--page-size", String(s.block_size)],
    ...(largestGraph(s) === 0 ? ([["--disable-cuda-graph", null]] as const) : ([["--cuda-graph-max-bs", String(largestGraph(s))]] as const)),
    ...(s.prefix_caching ? [] : ([["--disable-radix-cache", null]] as const)),
    ...(r.role === "server" ? [] : ([["--disaggregation-mode", r.role]] as const)),
    // Wide EP: DeepEP (normal kernels to prefill, low-latency to decode, as the simulator priced them) and two-batch overlap.
    ...(r.wide_ep
      ? ([
          ["--moe-a2a-backend", "deepep"],
          ["--deepep-mode", r.role === "prefill" ? "normal" : r.role === "decode" ? "low_latency" : "auto"],
          ...(r.two_batch_overlap ? ([["--enable-two-batch-overlap", null]] as const) : [])
        ] as const)
      : []),
    ["--port", String(port)]
  ]
  return { command: "sglang.launch_server", words: ["python", "-m", "sglang.launch_server"], flags }
}

const sglangBench = (input: LaunchInput, port: number): CommandLine => {
  return {
    command: "sglang.bench_serving",
    words: ["python", "-m", "sglang.bench_serving"],
    flags: [["--backend", "sglang"], ...randomClientFlags(input, port), ["--output-file", "result.jsonl"]]
  }
}

// ---------------------------------------------------------------------------------------------
// TensorRT-LLM (LLM API, PyTorch backend)

/** The extra options YAML of one role: what trtllm-serve's flags do not set. */
const trtllmOptions = (r: LaunchRole): string => {
  const s = r.settings
  const lines = [
    `# TensorRT-LLM LLM API options for the ${r.role} role (trtllm-serve --extra_llm_api_options).`,
    `enable_attention_dp: ${r.dp > 1 ? "true" : "false"}`,
    `enable_chunked_prefill: ${s.chunked_prefill ? "true" : "false"}`,
    "kv_cache_config:",
    `  free_gpu_memory_fraction: ${s.memory_fraction}`,
    `  enable_block_reuse: ${s.prefix_caching ? "true" : "false"}`,
    `  tokens_per_block: ${s.block_size}`,
    ...(largestGraph(s) === 0 ? [] : ["cuda_graph_config:", `  max_batch_size: ${largestGraph(s)}`, "  enable_padding: true"]),
    ...(r.role === "server" ? [] : ["cache_transceiver_config:", "  backend: DEFAULT"])
  ]
  return `${lines.join("\n")}\n`
}

const trtllmServe = (input: LaunchInput, r: LaunchRole, port: number, options: string): CommandLine => {
  const s = r.settings
  return {
    command: "trtllm-serve",
    words: ["trtllm-serve", input.model],
    flags: [
      ["--backend", "pytorch"],
      ["--tp_size", String(r.tp * r.dp)],
      ["--ep_size", String(r.ep)],
      // trtllm-serve's max_batch_size is per attention-DP rank under enable_attention_dp, as the simulator's.
      ["--max_batch_size", String(s.max_running)],
      ["--max_num_tokens", String(s.max_step_tokens)],
      ...(r.max_model_len === null ? [] : ([["--max_seq_len", String(r.max_model_len)]] as const)),
      ["--kv_cache_free_gpu_memory_fraction", String(s.memory_fraction)],
      ["--extra_llm_api_options", options],
      ["--port", String(port)]
    ]
  }
}

const trtllmBench = (input: LaunchInput, options: string): ReadonlyArray<CommandLine> => {
  const w = input.workload
  return [
    {
      // The script's own options (--tokenizer, --stdout) precede the subcommand; only the
      // subcommand's options could be vendored (data/engines/trtllm-main/SOURCE.md).
      command: "prepare_dataset.py token-norm-dist",
      words: ["python", "benchmarks/cpp/prepare_dataset.py", "--tokenizer", input.model, "--stdout", "token-norm-dist"],
      flags: [
        ["--num-requests", String(w.num_prompts)],
        ["--input-mean", String(w.input_len)],
        ["--output-mean", String(w.output_len)],
        ["--input-stdev", "0"],
        ["--output-stdev", "0"]
      ]
    },
    {
      command: "trtllm-bench throughput",
      words: ["trtllm-bench", "--model", input.model, "throughput"],
      flags: [
        ["--dataset", "dataset.txt"],
        ["--backend", "pytorch"],
        ["--extra_llm_api_options", options],
        ["--num_requests", String(w.num_prompts)]
      ]
    }
  ]
}

// ---------------------------------------------------------------------------------------------

/** Every command line the files hold, by engine command name (what the flag-check test reads). */
export const launchCommands = (input: LaunchInput): ReadonlyArray<CommandLine> => launchPlan(input).commands

interface Plan {
  readonly commands: ReadonlyArray<CommandLine>
  readonly files: ReadonlyArray<LaunchFile>
}

const script = (lines: ReadonlyArray<string>): string => `#!/usr/bin/env bash\nset -euo pipefail\n${lines.join("\n")}\n`

/** One server process: its role, which copy, its port and its GPUs (first index, count). */
interface Server {
  readonly role: LaunchRole
  readonly copy: number
  readonly port: number
  readonly firstGpu: number
  readonly gpus: number
}

/** Every server of the deployment: the router (disaggregated) on `port`, servers counting up from it. */
const serversOf = (input: LaunchInput): Array<Server> => {
  const out: Array<Server> = []
  let port = input.roles.length > 1 ? input.port + 1 : input.port
  let gpu = 0
  for (const role of input.roles)
    for (let copy = 0; copy < role.instances; copy++) {
      const gpus = role.tp * role.dp
      out.push({ role, copy, port: port++, firstGpu: gpu, gpus })
      gpu += gpus
    }
  return out
}

/** GPUs per node assumed for placing servers (an 8-GPU HGX node). */
const NODE_GPUS = 8

const launchPlan = (input: LaunchInput): Plan => {
  const files: Array<LaunchFile> = []
  const commands: Array<CommandLine> = []
  const disaggregated = input.roles.length > 1
  const servers = serversOf(input)
  const total = servers.reduce((n, x) => n + x.gpus, 0)
  const oneNode = total <= NODE_GPUS
  const serverLines: Array<string> = [
    oneNode
      ? `# ${total} GPU${total === 1 ? "" : "s"} on one node: each server on its own GPUs, in the background.`
      : `# ${total} GPUs over ${Math.ceil(total / NODE_GPUS)} nodes of ${NODE_GPUS}: run each server on the node its comment names (GPUs counted across the deployment), then the router.`,
    ""
  ]
  for (const [i, x] of servers.entries()) {
    const r = x.role
    let c: CommandLine
    if (input.engine === "vllm") c = vllmServe(input, r, x.port)
    else if (input.engine === "sglang") c = sglangServe(input, r, x.port)
    else {
      const name = `${r.role}.yml`
      if (x.copy === 0) files.push({ path: name, text: trtllmOptions(r), executable: false })
      c = trtllmServe(input, r, x.port, name)
    }
    if (x.copy === 0) commands.push(c)
    const gpus = Array.from({ length: x.gpus }, (_, k) => (x.firstGpu + k) % NODE_GPUS).join(",")
    serverLines.push(
      `# ${r.role}${r.instances > 1 ? ` ${x.copy + 1} of ${r.instances}` : ""}: tp ${r.tp} x dp ${r.dp}${r.ep > 1 ? `, ep ${r.ep}` : ""} on GPUs ${x.firstGpu}-${x.firstGpu + x.gpus - 1}${oneNode ? "" : ` (node ${Math.floor(x.firstGpu / NODE_GPUS) + 1})`}`,
      `${x.gpus <= NODE_GPUS ? `CUDA_VISIBLE_DEVICES=${gpus} ` : ""}${renderCommand(c)}${servers.length > 1 || i < servers.length - 1 ? " &" : ""}`,
      ""
    )
  }
  if (disaggregated) {
    const urls = (role: string) => servers.filter((x) => x.role.role === role).map((x) => `http://127.0.0.1:${x.port}`)
    if (input.engine === "sglang") {
      const router: CommandLine = {
        command: "sglang_router.launch_router",
        words: ["python", "-m", "sglang_router.launch_router"],
        flags: [
          ["--pd-disaggregation", null],
          ...urls("prefill").map((u) => ["--prefill", u] as const),
          ...urls("decode").map((u) => ["--decode", u] as const),
          ["--port", String(input.port)]
        ]
      }
      commands.push(router)
      serverLines.push("# the router clients talk to", renderCommand(router), "")
    } else if (input.engine === "trtllm") {
      const cfg = [
        "# trtllm-serve disaggregated -c disagg.yml: the router clients talk to.",
        "hostname: 127.0.0.1",
        `port: ${input.port}`,
        "backend: pytorch",
        "context_servers:",
        `  num_instances: ${urls("prefill").length}`,
        "  urls:",
        ...urls("prefill").map((u) => `    - "${u.replace("http://", "")}"`),
        "generation_servers:",
        `  num_instances: ${urls("decode").length}`,
        "  urls:",
        ...urls("decode").map((u) => `    - "${u.replace("http://", "")}"`)
      ]
      files.push({ path: "disagg.yml", text: `${cfg.join("\n")}\n`, executable: false })
      const router: CommandLine = { command: "trtllm-serve disaggregated", words: ["trtllm-serve", "disaggregated"], flags: [["-c", "disagg.yml"]] }
      commands.push(router)
      serverLines.push("# the router clients talk to", renderCommand(router), "")
    } else {
      serverLines.push(
        "# the router clients talk to: vLLM has no router command; run the proxy example of its repository",
        `# (examples/online_serving/disaggregated_serving) in front of the prefill servers (${urls("prefill").join(", ")})`,
        `# and the decode servers (${urls("decode").join(", ")}), listening on ${input.port}.`,
        ""
      )
    }
  }
  if (!disaggregated && servers.length > 1)
    serverLines.push(
      `# ${servers.length} replicas: a load balancer in front of ports ${servers[0]!.port}-${servers.at(-1)!.port} spreads the requests; bench.sh measures the first (the prediction is one replica's).`,
      ""
    )
  if (servers.length > 1) serverLines.push("wait")
  files.push({ path: "launch.sh", text: script(serverLines), executable: true })
  const bench =
    input.engine === "vllm"
      ? [vllmBench(input, input.port)]
      : input.engine === "sglang"
        ? [sglangBench(input, input.port)]
        : trtllmBench(input, input.roles.length > 1 ? "decode.yml" : "server.yml")
  commands.push(...bench)
  const benchLines =
    input.engine === "trtllm"
      ? [
          "# trtllm-bench measures the engine offline at max load (no server): the figure to compare is its output throughput per GPU.",
          `${renderCommand(bench[0]!)} > dataset.txt`,
          renderCommand(bench[1]!)
        ]
      : ["# the planned workload against the server launch.sh started; then: llmsim bench ... --compare result file", renderCommand(bench[0]!)]
  files.push({ path: "bench.sh", text: script(benchLines), executable: true })
  return { commands, files }
}

/** The launch files of a deployment (README and the predicted figures are the exporter's). */
export const launchFiles = (input: LaunchInput): ReadonlyArray<LaunchFile> => launchPlan(input).files
