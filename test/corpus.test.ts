/**
 * The bad-input corpus (issue 24's acceptance): the real CLI, one case per problem issue 24
 * lists and per bad-input case of docs/reliability.md, each held to the same five rules:
 *
 *   no silent wrong number  the run is refused (the exit status and one `error:` line the case
 *                           names), or prints the right figure (worked by hand, published, or
 *                           the `--no-cache` run's when the store is what is under test)
 *   no stack trace          no `    at ...` frame, no `node:internal`, no JS error class on stderr;
 *                           never the internal-error exit (70)
 *   no clobbered file       every file, link, FIFO and folder of the project outside the store
 *                           is as it was (type, mode, link target, bytes) but for the paths the
 *                           case may write, and no temp file is left anywhere, the store included
 *   no hang                 each run is bounded (CASE_TIMEOUT_MS, then SIGKILL): a hang fails
 *   at most 512 MB RSS      the peak resident set of the run and every process it waited for
 *                           (getrusage RUSAGE_CHILDREN of a small python3 wrapper: python3 is on
 *                           every machine this project runs on; /usr/bin/time is not)
 *
 * Issue 24's item 11 (timing-dependent tests) is about the suite, not an input: it has no case.
 * The cases run concurrently (vitest's maxConcurrency), each in its own project folder.
 */
import { spawn, spawnSync } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { listPackFiles } from "../src/graph/maintenance.ts"
import { BIN, makeProject, NODE, REPO, runCli } from "./helpers/cli.ts"
import { forgePack, forgeRecord, poisonEntry } from "./helpers/forge.ts"
import { tempDir } from "./helpers/temp.ts"

const CASE_TIMEOUT_MS = 30_000
const RSS_LIMIT_KB = 512 * 1024

const LLAMA = "configs/scenarios/llama_3_1_70b_h100.yaml"
const LLAMA_LAYER = "configs/models/llama-3.1-70b/ffn_layer_config.yaml"
const MIXTRAL_LAYER = "configs/models/mixtral-8x7b/moe_layer_config.yaml"
const MIXTRAL = "configs/scenarios/mixtral_8x7b_h100.yaml"
const A100 = "configs/scenarios/deepseek_v3_a100.yaml"
const H100 = "configs/hardware/H100-SXM.yaml"
const HF = path.join(REPO, "test", "fixtures", "hf")
const HF_CONFIGS = path.join(REPO, "data", "reference", "hf-configs")

/** Runs the command and reports the peak RSS (KB) of everything it waited for; forwards signals. */
const RSS_WRAPPER = `import resource, signal, subprocess, sys
p = subprocess.Popen(sys.argv[2:])
def forward(n, _):
    p.send_signal(n)
for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
    signal.signal(s, forward)
rc = p.wait()
with open(sys.argv[1], "w") as f:
    f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc if rc >= 0 else 128 - rc)
`

interface Run {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
  readonly rssKb: number
  readonly timedOut: boolean
}

interface Case {
  /** Where the case comes from: `issue 24 #N` or `reliability §N`. */
  readonly from: string
  readonly name: string
  /** Prepare the project (outside the measured run; the CLI may be used). */
  readonly prepare?: (dir: string) => void
  /** `llmsim ARGS`, in the project. */
  readonly args?: ReadonlyArray<string>
  /** A bash pipeline instead, `$LLMSIM` standing for the CLI; its status is the CLI's (PIPESTATUS). */
  readonly pipeline?: string
  readonly env?: Readonly<Record<string, string>>
  /** Send this signal once `ready(dir)` holds (polled, bounded by CASE_TIMEOUT_MS). */
  readonly signal?: { readonly sig: NodeJS.Signals; readonly ready: (dir: string) => boolean }
  readonly exit: number
  /** A refusal: stderr is exactly this one `error:` line (a regular expression over it). */
  readonly error?: RegExp
  /** Whether stdout may hold a report beside the refusal (`cache verify`). */
  readonly report?: boolean
  /** Project paths (relative, prefixes of what changes) the run may create or change. */
  readonly writes?: ReadonlyArray<string>
  /** The case's own check of what it printed or wrote (the right figure, the file left as it was). */
  readonly check?: (r: Run, dir: string) => void
}

let wrapper: string | undefined
const wrapperFile = () => {
  if (wrapper === undefined) {
    wrapper = path.join(tempDir("llmsim-corpus-"), "rss.py")
    fs.writeFileSync(wrapper, RSS_WRAPPER)
  }
  return wrapper
}

/** Run one case's command in `dir` under the RSS wrapper, bounded by CASE_TIMEOUT_MS. */
const execute = (c: Case, dir: string): Promise<Run> =>
  new Promise((resolve, reject) => {
    const rssFile = path.join(dir, "..", `${path.basename(dir)}.rss`)
    const command =
      c.pipeline === undefined
        ? [NODE, BIN, ...(c.args ?? [])]
        : ["bash", "-c", `set -o pipefail; LLMSIM="${NODE} ${BIN}"; ${c.pipeline}; exit \${PIPESTATUS[0]}`]
    const child = spawn("python3", [wrapperFile(), rssFile, ...command], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1", COLUMNS: "200", ...c.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    let timedOut = false
    const killAll = () => {
      try {
        process.kill(-child.pid!, "SIGKILL")
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => {
      timedOut = true
      killAll()
    }, CASE_TIMEOUT_MS)
    let poll: NodeJS.Timeout | undefined
    if (c.signal !== undefined) {
      const { sig, ready } = c.signal
      poll = setInterval(() => {
        if (!ready(dir)) return
        clearInterval(poll)
        child.kill(sig)
      }, 20)
    }
    child.on("error", reject)
    child.on("close", (status) => {
      clearTimeout(timer)
      if (poll !== undefined) clearInterval(poll)
      const rss = fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, "utf8")) : Number.NaN
      fs.rmSync(rssFile, { force: true })
      resolve({ status, stdout, stderr, rssKb: rss, timedOut })
    })
  })

type Entry = string
/** Every path of the project outside its store, with its type, mode, link target or bytes' digest. */
const snapshot = (dir: string): Map<string, Entry> => {
  const out = new Map<string, Entry>()
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const r = rel === "" ? name : `${rel}/${name}`
      if (r === "cache") continue
      const abs = path.join(dir, r)
      const st = fs.lstatSync(abs)
      const mode = (st.mode & 0o7777).toString(8)
      if (st.isSymbolicLink()) out.set(r, `link -> ${fs.readlinkSync(abs)}`)
      else if (st.isDirectory()) {
        out.set(r, `dir ${mode}`)
        walk(r)
      } else if (st.isFile()) out.set(r, `file ${mode} ${crypto.createHash("sha256").update(fs.readFileSync(abs)).digest("hex")}`)
      else out.set(r, `${st.isFIFO() ? "fifo" : "special"} ${mode}`)
    }
  }
  walk("")
  return out
}

/** Temp files anywhere in the project, the store included: a writer's `.NAME.<pid>.<hex>.tmp`, the store's tmp/. */
const tempFiles = (dir: string): Array<string> => {
  const found: Array<string> = []
  const walk = (abs: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const p = path.join(abs, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith(".tmp") || path.basename(abs) === "tmp") found.push(path.relative(dir, p))
    }
  }
  walk(dir)
  return found
}

const STACK = [/^\s+at .+:\d+:\d+\)?$/m, /node:internal/, /\b(TypeError|ReferenceError|RangeError|SyntaxError|AssertionError): /, /internal error/]

/** The first `LINE` of a table (`TPOT ms  12.395`) as a string. */
const figure = (stdout: string, label: string): string => new RegExp(`^${label} +([0-9.]+)`, "m").exec(stdout)?.[1] ?? `no "${label}" line`

const write = (dir: string, rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
  fs.writeFileSync(path.join(dir, rel), text)
}
const editFile = (dir: string, rel: string, from: string | RegExp, to: string) => {
  const file = path.join(dir, rel)
  const text = fs.readFileSync(file, "utf8")
  const next = text.replace(from, to)
  if (next === text) throw new Error(`${String(from)} not in ${rel}`)
  fs.writeFileSync(file, next)
}
/** The CLI in the project, as a preparation step: it must succeed. */
const cli = (dir: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const r = runCli(args, dir, env)
  if (r.status !== 0) throw new Error(`preparing: llmsim ${args.join(" ")} exited ${r.status}: ${r.stderr}`)
  return r
}
const mkfifo = (dir: string, rel: string) => {
  if (spawnSync("mkfifo", [path.join(dir, rel)]).status !== 0) throw new Error(`mkfifo ${rel} failed`)
}

const SWEEP_SMALL = ["sweep", LLAMA, "--tp", "2,4,8", "--batch", "1..64:x2", "--phase", "decode"]
/** The JSON Lines of a 2-shard sweep, each shard's file and the unsharded answer's best line. */
const shards = (dir: string) => {
  cli(dir, [...SWEEP_SMALL, "--shard", "1/2", "--points", "s1.jsonl", "--no-cache"])
  cli(dir, [...SWEEP_SMALL, "--shard", "2/2", "--points", "s2.jsonl", "--no-cache"])
}
/** The `Best under the constraints` block of a sweep's table: the answer. */
const best = (stdout: string) => stdout.slice(stdout.indexOf("Best under the constraints"))

const CASES: ReadonlyArray<Case> = [
  // ---- issue 24 #1: sweep --points writes into its target; interrupted sweeps leave nothing
  ...(["fifo", "dir", "/dev/null"] as const).map(
    (kind): Case => ({
      from: "issue 24 #1, #9",
      name: `sweep --points onto a ${kind === "/dev/null" ? "device" : kind === "dir" ? "directory" : "FIFO"} is refused and left as it was`,
      prepare: (dir) => {
        if (kind === "fifo") mkfifo(dir, "target")
        if (kind === "dir") fs.mkdirSync(path.join(dir, "target"))
      },
      args: [...SWEEP_SMALL, "--points", kind === "/dev/null" ? "/dev/null" : "target"],
      exit: 1,
      error: /^error: --points: cannot write \S+: (a FIFO|a directory|a character device), not a regular file$/
    })
  ),
  {
    from: "issue 24 #1",
    name: "sweep --points through a symlink writes the file it names; the link and the file's mode 0600 stay",
    prepare: (dir) => {
      fs.writeFileSync(path.join(dir, "real.csv"), "old\n", { mode: 0o600 })
      fs.symlinkSync("real.csv", path.join(dir, "link.csv"))
    },
    args: [...SWEEP_SMALL, "--points", "link.csv"],
    exit: 0,
    writes: ["real.csv"],
    check: (_r, dir) => {
      expect(fs.lstatSync(path.join(dir, "link.csv")).isSymbolicLink()).toBe(true)
      expect((fs.statSync(path.join(dir, "real.csv")).mode & 0o777).toString(8)).toBe("600")
      // A header and one row per point (3 tp x 7 batch).
      expect(fs.readFileSync(path.join(dir, "real.csv"), "utf8").trimEnd().split("\n")).toHaveLength(1 + 21)
    }
  },
  {
    from: "issue 24 #1",
    name: "sweep --points through a dangling symlink is refused; nothing is created where it points",
    prepare: (dir) => fs.symlinkSync("nowhere.csv", path.join(dir, "dangling.csv")),
    args: [...SWEEP_SMALL, "--points", "dangling.csv"],
    exit: 1,
    error: /^error: --points: cannot write dangling\.csv: a symbolic link whose target does not exist$/,
    check: (_r, dir) => expect(fs.existsSync(path.join(dir, "nowhere.csv"))).toBe(false)
  },
  {
    from: "issue 24 #1",
    name: "SIGHUP mid-sweep exits 129 and leaves neither the points file, its temp file, nor a cache pack",
    args: ["sweep", "configs/scenarios/deepseek_v3_h800.yaml", "--strategy", "two-batch-overlap", "--phase", "decode"].concat([
      "--ep",
      "8..256:+8",
      "--batch",
      "1..1024",
      "--seq",
      "1024..32768:+1024",
      "--points",
      "points.csv"
    ]),
    signal: {
      sig: "SIGHUP",
      // Rows stream to the temp file beside points.csv and the pack's temp file is in the store.
      ready: (dir) => {
        const tmp = path.join(dir, "cache", "v1", "tmp")
        return fs.readdirSync(dir).some((f) => f.startsWith(".points.csv.")) && fs.existsSync(tmp) && fs.readdirSync(tmp).length > 0
      }
    },
    exit: 129,
    check: (r, dir) => {
      expect(r.stdout).toBe("")
      expect(fs.existsSync(path.join(dir, "points.csv"))).toBe(false)
      expect(listPackFiles(path.join(dir, "cache"))).toEqual([])
    }
  },

  // ---- issue 24 #2: a wrong result cannot survive cache verify; replay cannot outlive its inputs
  {
    from: "issue 24 #2",
    name: "a poisoned op entry (TPOT 5.607 ms) and the record built from it: cache verify exits 1 naming both",
    prepare: (dir) => {
      // The store holds the ops (from a --format json run, its own record); the table run has none yet.
      cli(dir, ["run", LLAMA, "--phase", "decode", "--format", "json"])
      poisonEntry(path.join(dir, "cache"), "op:decode/0.ffn_layer/ffn", (o) => void (o.dominant_latency_ms = 0.0001))
      // The poisoned entry is served: the wrong TPOT the issue reports, then its record.
      expect(figure(cli(dir, ["run", LLAMA, "--phase", "decode"]).stdout, "TPOT ms")).toBe("5.607")
    },
    args: ["cache", "verify"],
    exit: 1,
    report: true,
    error: /^error: cache verify found \d+ mismatching entr/,
    check: (r) => {
      expect(r.stdout).toContain("MISMATCH op op:decode/0.ffn_layer/ffn ")
      expect(r.stdout).toMatch(/MISMATCH command llmsim run .*: built from the mismatching entry op:decode\/0\.ffn_layer\/ffn/)
    }
  },
  {
    from: "issue 24 #2",
    name: "after cache verify --repair, run prints the right TPOT, 12.395 ms (the --no-cache run's)",
    prepare: (dir) => {
      cli(dir, ["run", LLAMA, "--phase", "decode", "--format", "json"])
      poisonEntry(path.join(dir, "cache"), "op:decode/0.ffn_layer/ffn", (o) => void (o.dominant_latency_ms = 0.0001))
      expect(figure(cli(dir, ["run", LLAMA, "--phase", "decode"]).stdout, "TPOT ms")).toBe("5.607")
      cli(dir, ["cache", "verify", "--repair"])
    },
    args: ["run", LLAMA, "--phase", "decode"],
    exit: 0,
    check: (r) => expect(figure(r.stdout, "TPOT ms")).toBe("12.395")
  },
  {
    from: "issue 24 #2",
    name: "a forged command record (stdout edited, checksum recomputed) fails cache verify",
    prepare: (dir) => {
      const clean = cli(dir, ["run", LLAMA, "--phase", "decode"]).stdout
      // The TPOT line as printed, its figure replaced by 5.607 in the same width.
      const line = /^TPOT ms +[0-9.]+$/m.exec(clean)![0]
      forgeRecord(
        path.join(dir, "cache"),
        line,
        line.replace(/[0-9.]+$/, (n) => "5.607".padStart(n.length))
      )
    },
    args: ["cache", "verify"],
    exit: 1,
    report: true,
    error: /^error: cache verify found/,
    check: (r) => expect(r.stdout).toMatch(/MISMATCH command llmsim run .*: run again, it prints another stdout/)
  },
  {
    from: "issue 24 #2",
    name: "a forged sweep pack renamed to its new SHA-256 (tokens/s per GPU 99999) fails cache verify",
    prepare: (dir) => {
      cli(dir, ["sweep", LLAMA, "--batch", "1..64:x2", "--phase", "decode"])
      const pack = listPackFiles(path.join(dir, "cache"))[0]!.file
      const value = /"tokens_per_s_per_gpu":([0-9.e+-]+)/.exec(fs.readFileSync(pack, "utf8"))![1]!
      forgePack(path.join(dir, "cache"), `"tokens_per_s_per_gpu":${value}`, `"tokens_per_s_per_gpu":99999`)
    },
    args: ["cache", "verify"],
    exit: 1,
    report: true,
    error: /^error: cache verify found/,
    check: (r) => expect(r.stdout).toMatch(/^MISMATCH sweep-point-pack .*: recomputed result differs$/m)
  },

  // ---- issue 24 #3: EPIPE on the replay path
  {
    from: "issue 24 #3",
    name: "the second identical run --format json | head -1 (replayed by the launcher) ends quietly, exit 0",
    prepare: (dir) => void cli(dir, ["run", LLAMA, "--format", "json"]),
    pipeline: `$LLMSIM run ${LLAMA} --format json | head -1 > /dev/null`,
    exit: 0,
    check: (r) => expect(r.stderr).toBe("")
  },
  {
    from: "reliability §3",
    name: "run | head -1 on the computed path (--no-cache) ends quietly, exit 0",
    pipeline: `$LLMSIM run ${LLAMA} --no-cache | head -1 > /dev/null`,
    exit: 0,
    check: (r) => expect(r.stderr).toBe("")
  },

  // ---- issue 24 #4: FIFOs and /dev/zero through the recording path (the store on)
  {
    from: "issue 24 #4",
    name: "a scenario whose hardware: is a FIFO, the store on: refused at once, positioned",
    prepare: (dir) => {
      mkfifo(dir, "hw.fifo")
      editFile(dir, LLAMA, `hardware: ${H100}`, "hardware: hw.fifo")
    },
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: configs\/scenarios\/llama_3_1_70b_h100\.yaml:10:11 hardware: hw\.fifo: cannot read: not a regular file \(a FIFO\)$/
  },
  {
    from: "issue 24 #4",
    name: "the same FIFO hardware: with --no-cache: the same refusal",
    prepare: (dir) => {
      mkfifo(dir, "hw.fifo")
      editFile(dir, LLAMA, `hardware: ${H100}`, "hardware: hw.fifo")
    },
    args: ["run", LLAMA, "--no-cache"],
    exit: 1,
    error: /^error: configs\/scenarios\/llama_3_1_70b_h100\.yaml:10:11 hardware: hw\.fifo: cannot read: not a regular file \(a FIFO\)$/
  },
  {
    from: "issue 24 #4",
    name: "run /dev/zero, the store on: refused at once (it grew to 4 GB)",
    args: ["run", "/dev/zero"],
    exit: 1,
    error: /^error: \/dev\/zero:1:1: cannot read: not a regular file \(a character device\)$/
  },
  {
    from: "issue 24 #4",
    name: "an llmsim.config.ts that is a FIFO: refused, not blocked",
    prepare: (dir) => mkfifo(dir, "llmsim.config.ts"),
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: .*llmsim\.config\.ts.*not a regular file \(a FIFO\)/
  },
  {
    from: "issue 24 #4",
    name: "sweep merge /dev/zero: refused at once",
    args: ["sweep", "merge", "/dev/zero"],
    exit: 1,
    error: /^error: sweep merge: \/dev\/zero: cannot read: not a regular file \(a character device\)$/
  },

  {
    from: "issue 24 #4",
    name: "sweep merge of a FIFO: refused, not blocked",
    prepare: (dir) => mkfifo(dir, "shard.jsonl"),
    args: ["sweep", "merge", "shard.jsonl"],
    exit: 1,
    error: /^error: sweep merge: shard\.jsonl: cannot read: not a regular file \(a FIFO\)$/
  },
  {
    from: "issue 24 #4",
    name: "sweep merge of a directory: refused",
    args: ["sweep", "merge", "configs"],
    exit: 1,
    error: /^error: sweep merge: configs: cannot read: not a regular file \(a directory\)$/
  },

  // ---- issue 24 #5: sweep merge trusts no shard
  {
    from: "issue 24 #5",
    name: "sweep merge of a shard with an edited tokens/s per GPU (99999) is refused at the field",
    prepare: (dir) => {
      shards(dir)
      const lines = fs.readFileSync(path.join(dir, "s1.jsonl"), "utf8").split("\n")
      lines[3] = lines[3]!.replace(/"tokens_per_s_per_gpu":[0-9.e+-]+/, '"tokens_per_s_per_gpu":99999')
      fs.writeFileSync(path.join(dir, "s1.jsonl"), lines.join("\n"))
    },
    args: ["sweep", "merge", "s1.jsonl", "s2.jsonl"],
    exit: 1,
    error: /^error: sweep merge: s1\.jsonl:4:\d+ tokens_per_s_per_gpu: stored 99999, recomputed [0-9.]+/
  },
  {
    from: "issue 24 #5",
    name: "sweep merge of shards re-serialized with spaces (Python's json.dumps) gives the unsharded answer",
    prepare: (dir) => {
      shards(dir)
      for (const f of ["s1.jsonl", "s2.jsonl"]) {
        const text = fs.readFileSync(path.join(dir, f), "utf8")
        const spaced = text
          .split("\n")
          .map((l) => (l === "" ? l : JSON.stringify(JSON.parse(l)).replace(/":/g, '": ').replace(/,"/g, ', "')))
          .join("\n")
        fs.writeFileSync(path.join(dir, f), spaced)
      }
      write(dir, "unsharded.txt", cli(dir, [...SWEEP_SMALL, "--no-cache"]).stdout)
    },
    args: ["sweep", "merge", "s1.jsonl", "s2.jsonl"],
    exit: 0,
    check: (r, dir) => expect(best(r.stdout)).toBe(best(fs.readFileSync(path.join(dir, "unsharded.txt"), "utf8")))
  },
  {
    from: "issue 24 #5",
    name: "sweep merge of an empty file: one positioned line",
    prepare: (dir) => write(dir, "empty.jsonl", ""),
    args: ["sweep", "merge", "empty.jsonl"],
    exit: 1,
    error: /^error: sweep merge: empty\.jsonl:1:1: empty file/
  },

  // ---- issue 24 #6: import hf
  {
    from: "issue 24 #6",
    name: "the ModelOpt FP8 Llama-3.1-70B folder imports with FP8 weights and FP8 KV cache, 70.55B parameters (70.6B within 0.5%)",
    prepare: (dir) => fs.cpSync(path.join(HF, "nvidia-Llama-3.1-70B-Instruct-FP8"), path.join(dir, "L70"), { recursive: true }),
    args: ["import", "hf", "L70", "--tp", "8"],
    exit: 0,
    writes: ["configs/models/l70", "configs/scenarios/l70.yaml"],
    check: (r) => {
      expect(r.stdout).toContain("precision: weights fp8, kv_cache fp8")
      const total = Number(/total ([0-9.]+)B/.exec(r.stdout)![1])
      expect(Math.abs(total - 70.6) / 70.6).toBeLessThan(0.005)
    }
  },
  {
    from: "issue 24 #6",
    name: "Llama-4 with the transformers default no_rope_layers: [] imports (its text_config)",
    prepare: (dir) => {
      const c = JSON.parse(fs.readFileSync(path.join(HF_CONFIGS, "llama-4-maverick.json"), "utf8"))
      c.text_config.no_rope_layers = []
      write(dir, "l4/config.json", JSON.stringify(c))
    },
    args: ["import", "hf", "l4"],
    exit: 0,
    writes: ["configs/models/l4", "configs/scenarios/l4.yaml"],
    check: (r) => expect(r.stdout).toMatch(/^imported l4\/config\.json \(llama4/m)
  },
  {
    from: "issue 24 #6",
    name: "a multimodal wrapper (Kimi-K2.5) imports its text_config",
    prepare: (dir) => fs.cpSync(path.join(HF, "kimi-k2.5-config.json"), path.join(dir, "kimi/config.json")),
    args: ["import", "hf", "kimi"],
    exit: 0,
    writes: ["configs/models/kimi", "configs/scenarios/kimi.yaml"],
    check: (r) => expect(r.stdout).toMatch(/61 layers/)
  },
  {
    from: "issue 24 #6",
    name: "import hf under a shipped model's name is refused; the shipped templates are left as they were",
    prepare: (dir) => fs.cpSync(path.join(HF_CONFIGS, "deepseek-v3.2.json"), path.join(dir, "ds/config.json")),
    args: ["import", "hf", "ds", "--name", "deepseek-v3.2"],
    exit: 1,
    error: /^error: .*exists.*--force/
  },
  {
    from: "issue 24 #6",
    name: "import hf --scenario onto an existing file is refused",
    prepare: (dir) => fs.cpSync(path.join(HF_CONFIGS, "llama-3.1-70b.json"), path.join(dir, "l3/config.json")),
    args: ["import", "hf", "l3", "--scenario", LLAMA],
    exit: 1,
    error: /^error: .*llama_3_1_70b_h100\.yaml.*exists.*--force/
  },
  {
    from: "issue 24 #6",
    name: "a config.json over 4 MiB is an error naming its size and the limit",
    prepare: (dir) => {
      const c = JSON.parse(fs.readFileSync(path.join(HF_CONFIGS, "llama-3.1-70b.json"), "utf8"))
      c.padding = "x".repeat(5 * 1024 * 1024)
      write(dir, "big/config.json", JSON.stringify(c))
    },
    args: ["import", "hf", "big"],
    exit: 1,
    error: /^error: big\/config\.json:1:1: cannot read: 5\.0 MiB, over the 4\.0 MiB limit for input files$/
  },

  // ---- issue 24 #7: uneven calibration is named
  {
    from: "issue 24 #7",
    name: "sweep over H100, H200 and B200 says each hardware's calibration and where they differ; JSON lists B200 as uncalibrated",
    args: ["sweep", LLAMA, "--hardware", "configs/hardware/H100-SXM.yaml,configs/hardware/H200-SXM.yaml,configs/hardware/B200.yaml"].concat([
      "--tp",
      "8",
      "--batch",
      "1",
      "--phase",
      "decode",
      "--format",
      "json"
    ]),
    exit: 0,
    check: (r) => {
      const j = JSON.parse(r.stdout)
      expect(j.sweep.uncalibrated_hardware).toEqual(["configs/hardware/B200.yaml"])
      expect(j.sweep.calibration["configs/hardware/B200.yaml"].status).toBe("partial")
      expect(j.sweep.calibration_differences.length).toBeGreaterThan(0)
    }
  },
  {
    from: "issue 24 #7",
    name: "sweep --require-calibrated refuses B200 in one line naming its datasheet-only constants",
    args: ["sweep", LLAMA, "--hardware", "configs/hardware/H200-SXM.yaml,configs/hardware/B200.yaml", "--tp", "8", "--batch", "1"].concat([
      "--phase",
      "decode",
      "--require-calibrated"
    ]),
    exit: 1,
    error: /^error: --require-calibrated: configs\/hardware\/B200\.yaml is partial: memory, .* datasheet only/
  },

  // ---- issue 24 #8: the sweep page with no price
  {
    from: "issue 24 #8",
    name: "the sweep page of hardware without a price draws its points (grey, its own legend), no NaN",
    prepare: (dir) => editFile(dir, H100, /^price_per_gpu_hour_usd:.*$/m, ""),
    args: ["sweep", LLAMA, "--tp", "2,4,8", "--batch", "1..64:x2", "--phase", "decode", "--format", "html", "--out", "sweep.html"],
    exit: 0,
    writes: ["sweep.html", H100],
    check: (_r, dir) => {
      const html = fs.readFileSync(path.join(dir, "sweep.html"), "utf8")
      expect(html).not.toMatch(/NaN/)
      expect(html).toContain("no price")
      expect((html.match(/<circle|<path[^>]*aria-roledescription="point"/g) ?? []).length).toBeGreaterThan(0)
    }
  },

  // ---- issue 24 #9: absurd values are input errors
  {
    from: "issue 24 #9",
    name: "ml train with measured_us 1e308 is refused at its line and column; no model written",
    prepare: (dir) => {
      write(dir, "measured.csv", "kind,hardware,tokens,in_features,out_features,measured_us\nlinear,H100-SXM,8,8192,1280,40\nlinear,H100-SXM,16,8192,1280,41\n")
      cli(dir, ["features", LLAMA, "--batch", "8,16", "--phase", "decode", "--align", "measured.csv", "--out", "aligned.csv"])
      const lines = fs.readFileSync(path.join(dir, "aligned.csv"), "utf8").split("\n")
      const header = lines.findIndex((l) => l.startsWith("schema_version,"))
      const col = lines[header]!.split(",").indexOf("measured_us")
      const row = lines[header + 1]!.split(",")
      row[col] = "1e308"
      lines[header + 1] = row.join(",")
      fs.writeFileSync(path.join(dir, "aligned.csv"), lines.join("\n"))
    },
    args: ["ml", "train", "--data", "aligned.csv", "--out", "model.json"],
    exit: 1,
    error: /^error: aligned\.csv:\d+:\d+ measured_us: Expected a kernel time between 1e-3 and 1e9 us/,
    check: (_r, dir) => expect(fs.existsSync(path.join(dir, "model.json"))).toBe(false)
  },
  {
    from: "issue 24 #9",
    name: "import hf of hidden_size 1e300 is one positioned line (it printed total InfinityB)",
    prepare: (dir) => {
      const c = JSON.parse(fs.readFileSync(path.join(HF_CONFIGS, "llama-3.1-70b.json"), "utf8"))
      c.hidden_size = 1e300
      write(dir, "huge/config.json", JSON.stringify(c, null, 2))
    },
    args: ["import", "hf", "huge"],
    exit: 1,
    error: /^error: huge\/config\.json:\d+:\d+ hidden_size: /
  },
  {
    from: "issue 24 #9",
    name: "memory_bandwidth_gbps: 2.3e-308 is an input error at its position (it was exit 70)",
    prepare: (dir) => editFile(dir, H100, /^memory_bandwidth_gbps: *[0-9.]+/m, "memory_bandwidth_gbps: 2.3e-308"),
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: configs\/hardware\/H100-SXM\.yaml:\d+:\d+ memory_bandwidth_gbps: Expected a bandwidth between 1e-3 and 1e8 GB\/s/
  },

  // ---- issue 24 #10: a project made by init does not depend on where llmsim is installed
  {
    from: "issue 24 #10",
    name: "a project made by init, moved to another folder and depth, still loads and runs",
    prepare: (dir) => {
      const made = path.join(tempDir("llmsim-corpus-init-"), "a", "b", "p")
      cli(os.tmpdir(), ["init", made])
      fs.rmSync(dir, { recursive: true, force: true })
      fs.cpSync(made, dir, { recursive: true })
    },
    args: ["run", "--phase", "decode", "--no-cache"],
    exit: 0,
    check: (r) => expect(r.stdout).toMatch(/^TPOT ms +[0-9.]+$/m)
  },

  // ---- issue 24 #12: defaults that flatter are named
  {
    from: "issue 24 #12",
    name: "afd simulate on the spec's A100 file (no nic_gbps) names the scale-up rate it times NIC traffic at",
    args: ["afd", "simulate", A100, "--batch", "8", "--seq", "4096"],
    exit: 0,
    check: (r) => expect(r.stdout).toMatch(/^note: A100-80GB has no nic_gbps/m)
  },
  {
    from: "issue 24 #12",
    name: "large-ep evaluate at EP1 says there is no all-to-all",
    args: ["large-ep", "evaluate", A100, "--batch", "8", "--seq", "4096"],
    exit: 0,
    check: (r) => expect(r.stdout).toMatch(/^note: expert parallelism 1: every expert on every GPU, no all-to-all/m)
  },
  {
    from: "issue 24 #12",
    name: "group-limited routing across more nodes than topk_group is named as not modelled",
    args: ["large-ep", "evaluate", "configs/scenarios/deepseek_v3_h800_decode_ep144.yaml"],
    exit: 0,
    check: (r) => expect(r.stdout).toMatch(/^note: topk_group 4 of n_group 8 /m)
  },

  // ---- docs/reliability.md §2-§4, §6: bad config and flag values
  {
    from: "reliability §2",
    name: "a non-finite number (.inf) is refused at its position",
    prepare: (dir) => editFile(dir, H100, /^memory_bandwidth_gbps: *[0-9.]+/m, "memory_bandwidth_gbps: .inf"),
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: configs\/hardware\/H100-SXM\.yaml:\d+:\d+ memory_bandwidth_gbps: /
  },
  {
    from: "reliability §2",
    name: "efficiency.compute: 0 is refused at its position",
    prepare: (dir) => editFile(dir, H100, /^ {2}compute: *[0-9.]+/m, "  compute: 0"),
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: configs\/hardware\/H100-SXM\.yaml:\d+:\d+ efficiency\.compute: /
  },
  {
    from: "reliability §2",
    name: "top-k above the number of experts is refused at its position",
    prepare: (dir) => editFile(dir, MIXTRAL_LAYER, /num_experts_per_tok: *2/, "num_experts_per_tok: 9"),
    args: ["run", MIXTRAL],
    exit: 1,
    error: /^error: configs\/models\/mixtral-8x7b\/moe_layer_config\.yaml:\d+:\d+ .*num_experts_per_tok/
  },
  {
    from: "reliability §2",
    name: "--micro-batch above the batch is refused",
    args: ["run", LLAMA, "--batch", "4", "--micro-batch", "8"],
    exit: 1,
    error: /micro-batch/
  },
  {
    from: "reliability §3",
    name: "broken YAML syntax is a positioned error",
    prepare: (dir) => editFile(dir, LLAMA, "  tp: 8", "  tp: [8"),
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: configs\/scenarios\/llama_3_1_70b_h100\.yaml:\d+:\d+/
  },
  {
    from: "reliability §3",
    name: "an unknown attention type is a positioned error",
    prepare: (dir) => editFile(dir, LLAMA_LAYER, /type: *GQA/, "type: GQQA"),
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: configs\/models\/llama-3\.1-70b\/ffn_layer_config\.yaml:\d+:\d+ .*type/
  },
  {
    from: "reliability §3",
    name: "a referenced file that does not exist is a positioned error",
    prepare: (dir) => editFile(dir, LLAMA, LLAMA_LAYER, "configs/models/llama-3.1-70b/missing.yaml"),
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: configs\/scenarios\/llama_3_1_70b_h100\.yaml:\d+:\d+ layers\.0\.config: .*missing\.yaml/
  },
  {
    from: "reliability §3",
    name: "a bad flag value names the flag",
    args: ["run", LLAMA, "--batch", "abc"],
    exit: 1,
    check: (r) => {
      expect(r.stdout).toBe("")
      expect(r.stderr).toMatch(/^error: .*--batch/)
      expect(r.stderr).toMatch(/\nusage: llmsim run /)
    }
  },
  {
    from: "reliability §3",
    name: "an error about a file never echoes its contents",
    prepare: (dir) => {
      write(dir, "shadow", "root:$y$j9T$SECRETHASH:19000:0:99999:7:::\n")
      editFile(dir, LLAMA, `hardware: ${H100}`, "hardware: shadow")
    },
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: shadow:1:1: not a llmsim config file/,
    check: (r) => expect(r.stderr).not.toContain("SECRETHASH")
  },
  {
    from: "reliability §4",
    name: "a YAML alias bomb is refused quickly",
    prepare: (dir) => {
      const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
      for (let i = 1; i < 10; i++)
        lines.push(
          `a${i}: &a${i} [${Array(9)
            .fill(`*a${i - 1}`)
            .join(",")}]`
        )
      write(dir, "bomb.yaml", `${lines.join("\n")}\nname: *a9\n`)
    },
    args: ["run", "bomb.yaml"],
    exit: 1,
    error: /^error: bomb\.yaml:1:1: YAML aliases expand too far/
  },
  {
    from: "reliability §4",
    name: "a scenario that is a FIFO, --no-cache: refused",
    prepare: (dir) => mkfifo(dir, "scenario.yaml"),
    args: ["run", "scenario.yaml", "--no-cache"],
    exit: 1,
    error: /not a regular file \(a FIFO\)/
  },
  {
    from: "reliability §4",
    name: "a config file over 4 MiB is refused before it is parsed",
    prepare: (dir) => write(dir, "big.yaml", fs.readFileSync(path.join(REPO, LLAMA), "utf8") + `# ${"x".repeat(98)}\n`.repeat(50_000)),
    args: ["run", "big.yaml"],
    exit: 1,
    error: /^error: big\.yaml:1:1: cannot read: 4\.8 MiB, over the 4\.0 MiB limit for input files$/
  },
  {
    from: "reliability §4",
    name: "YAML nested deeper than 64 is refused",
    prepare: (dir) => write(dir, "deep.yaml", `k: ${"[".repeat(100)}1${"]".repeat(100)}\n`),
    args: ["run", "deep.yaml"],
    exit: 1,
    error: /^error: deep\.yaml:\d+:\d+.*nest/
  },
  {
    from: "reliability §4",
    name: "repeat: 130000 is a positioned limit error",
    prepare: (dir) => editFile(dir, LLAMA, /repeat: 80/, "repeat: 130000"),
    args: ["run", LLAMA],
    exit: 1,
    error: /layers\.0\.repeat: Expected at most 10000/
  },
  {
    from: "reliability §4",
    name: "payload_mb: 1e308 is a config error, not a crash",
    prepare: (dir) => {
      write(dir, "configs/comm.yaml", "comm_config:\n  pattern: all_reduce\n  payload_mb: 1e308\n")
      editFile(dir, LLAMA, /^lm_head:/m, "  - type: comm_layer\n    config: configs/comm.yaml\nlm_head:")
    },
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: configs\/comm\.yaml:3:15 comm_config\.payload_mb: Expected a number of magnitude at most 1e15/
  },
  {
    from: "reliability §4",
    name: "a path in a config outside the project is refused",
    prepare: (dir) => editFile(dir, LLAMA, `hardware: ${H100}`, `hardware: ${path.join(REPO, H100)}`),
    args: ["run", LLAMA],
    exit: 1,
    error: /^error: configs\/scenarios\/llama_3_1_70b_h100\.yaml:10:\d+ hardware: .*outside the project/
  },
  {
    from: "reliability §4",
    name: "llmsim.config.ts that never returns (while(true){}) is an error after the load limit",
    prepare: (dir) => write(dir, "llmsim.config.ts", "while (true) {}\nexport default {}\n"),
    args: ["run", LLAMA, "--no-cache"],
    env: { LLMSIM_CONFIG_TIMEOUT_MS: "500" },
    exit: 1,
    error: /llmsim\.config\.ts/
  },
  ...(["fifo", "dir", "/dev/null"] as const).map(
    (kind): Case => ({
      from: "reliability §6",
      name: `run --out onto a ${kind === "/dev/null" ? "device" : kind === "dir" ? "directory" : "FIFO"} is refused and left as it was`,
      prepare: (dir) => {
        if (kind === "fifo") mkfifo(dir, "target")
        if (kind === "dir") fs.mkdirSync(path.join(dir, "target"))
      },
      args: ["run", LLAMA, "--out", kind === "/dev/null" ? "/dev/null" : "target"],
      exit: 1,
      error: /^error: --out: cannot write \S+: (a FIFO|a directory|a character device), not a regular file$/
    })
  ),
  {
    from: "reliability §6",
    name: "run --out through a dangling symlink is refused",
    prepare: (dir) => fs.symlinkSync("nowhere.json", path.join(dir, "dangling.json")),
    args: ["run", LLAMA, "--out", "dangling.json"],
    exit: 1,
    error: /^error: --out: cannot write dangling\.json: a symbolic link whose target does not exist$/,
    check: (_r, dir) => expect(fs.existsSync(path.join(dir, "nowhere.json"))).toBe(false)
  },
  {
    from: "reliability §6",
    name: "run --trace onto a directory is refused",
    prepare: (dir) => fs.mkdirSync(path.join(dir, "target")),
    args: ["run", LLAMA, "--trace", "target"],
    exit: 1,
    error: /^error: --trace: cannot write target: a directory, not a regular file$/
  },
  {
    from: "reliability §6",
    name: "run --out through a symlink writes its target; the link stays and the file keeps its mode",
    prepare: (dir) => {
      fs.writeFileSync(path.join(dir, "real.json"), "old\n", { mode: 0o640 })
      fs.symlinkSync("real.json", path.join(dir, "link.json"))
    },
    args: ["run", LLAMA, "--format", "json", "--out", "link.json"],
    exit: 0,
    writes: ["real.json"],
    check: (r, dir) => {
      expect(r.stdout).toBe("")
      expect(fs.lstatSync(path.join(dir, "link.json")).isSymbolicLink()).toBe(true)
      expect((fs.statSync(path.join(dir, "real.json")).mode & 0o777).toString(8)).toBe("640")
      expect(JSON.parse(fs.readFileSync(path.join(dir, "real.json"), "utf8")).scenario).toBe(LLAMA)
    }
  },
  {
    from: "reliability §5",
    name: "a truncated store entry is a miss: the run prints the --no-cache figures",
    prepare: (dir) => {
      cli(dir, ["run", LLAMA, "--phase", "decode", "--format", "json"])
      const entries = path.join(dir, "cache", "v1")
      const files: Array<string> = []
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name)
          if (e.isDirectory()) walk(p)
          else if (p.includes(`${path.sep}nodes${path.sep}`) || p.includes(`${path.sep}op${path.sep}`)) files.push(p)
        }
      }
      walk(entries)
      for (const f of files) fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2))
    },
    args: ["run", LLAMA, "--phase", "decode"],
    exit: 0,
    check: (r) => expect(figure(r.stdout, "TPOT ms")).toBe("12.395")
  },
  {
    from: "reliability §5",
    name: "cache verify on a folder that does not exist is an error, not a vacuous pass",
    args: ["cache", "verify", "--cache-dir", "no-such-store"],
    exit: 1,
    error: /^error: .*no-such-store/
  },
  {
    from: "reliability §3",
    name: "diff of an unknown revision is one line",
    prepare: (dir) => {
      for (const args of [
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]
      ]) {
        expect(spawnSync("git", args, { cwd: dir }).status).toBe(0)
      }
    },
    args: ["diff", "no-such-rev", "HEAD", LLAMA],
    exit: 1,
    error: /^error: unknown revision: no-such-rev/
  },

  // ---- issue 25: llmsim bench's bad workloads, each a positioned line before anything runs
  {
    from: "issue 25",
    name: "a trace with a negative length is refused at its line and column",
    prepare: (dir) =>
      write(dir, "t.jsonl", '{"timestamp": 0, "input_length": 100, "output_length": 10}\n{"timestamp": 5, "input_length": -3, "output_length": 10}\n'),
    args: ["bench", LLAMA, "--dataset-name", "trace", "--dataset-path", "t.jsonl"],
    exit: 1,
    error: /^error: t\.jsonl:2:34 input_length: input_length must be at least 1 token, got -3$/
  },
  {
    from: "issue 25",
    name: "a CSV trace with a non-numeric length is refused at its line and column",
    prepare: (dir) => write(dir, "t.csv", "timestamp,input_length,output_length\n0,100,10\n1,abc,10\n"),
    args: ["bench", LLAMA, "--dataset-name", "trace", "--dataset-path", "t.csv"],
    exit: 1,
    error: /^error: t\.csv:3:3 input_length: /
  },
  {
    from: "issue 25",
    name: "a trace whose timestamps go backwards is refused at the line that does",
    prepare: (dir) =>
      write(
        dir,
        "t.jsonl",
        [
          '{"timestamp": 10, "input_length": 100, "output_length": 10}',
          '{"timestamp": 20, "input_length": 100, "output_length": 10}',
          '{"timestamp": 15, "input_length": 100, "output_length": 10}',
          ""
        ].join("\n")
      ),
    args: ["bench", LLAMA, "--dataset-name", "trace", "--dataset-path", "t.jsonl"],
    exit: 1,
    error: /^error: t\.jsonl:3:15 timestamp: timestamp goes backwards/
  },
  {
    from: "issue 25",
    name: "a request rate of 0 is refused",
    args: ["bench", LLAMA, "--request-rate", "0"],
    exit: 1,
    check: (r) => {
      expect(r.stdout).toBe("")
      expect(r.stderr).toMatch(/^error: --request-rate: expected a rate > 0 in requests\/s or inf, got "0"\nusage: llmsim bench /)
    }
  },
  {
    from: "issue 25",
    name: "trace lengths beyond the model's context are refused at their line",
    prepare: (dir) => write(dir, "t.jsonl", '{"timestamp": 0, "input_length": 100, "output_length": 10}\n'),
    args: ["bench", LLAMA, "--dataset-name", "trace", "--dataset-path", "t.jsonl", "--max-model-len", "50"],
    exit: 1,
    error: /^error: t\.jsonl:1:\d+ input_length: input_length 100 exceeds the context of 50 tokens/
  },
  {
    from: "issue 25",
    name: "generated lengths beyond max_model_len are refused",
    args: ["bench", LLAMA, "--max-model-len", "1000"],
    exit: 1,
    error: /^error: --random-input-len \+ --random-output-len: a request of up to 1152 tokens is longer than max_model_len 1000$/
  },
  {
    from: "issue 25",
    name: "a request that cannot fit the KV cache whole is refused, not left to hang",
    args: ["bench", LLAMA, "--random-input-len", "50000000"],
    exit: 1,
    error: /^error: --random-input-len \+ --random-output-len: a request of up to 50000128 tokens does not fit the KV cache of one rank \(\d+ tokens/
  },
  {
    from: "issue 25",
    name: "a trace workload without its file is refused",
    args: ["bench", LLAMA, "--dataset-name", "trace"],
    exit: 1,
    error: /^error: --dataset-name trace needs --dataset-path FILE/
  }
]

describe.concurrent("the bad-input corpus through the real CLI", () => {
  it.each(CASES.map((c) => [`${c.from}: ${c.name}`, c] as const))(
    "%s",
    async (_title, c) => {
      const dir = makeProject("llmsim-corpus-")
      c.prepare?.(dir)
      const before = snapshot(dir)
      const r = await execute(c, dir)
      const after = snapshot(dir)

      // No hang, no more than 512 MB.
      expect(r.timedOut, `still running after ${CASE_TIMEOUT_MS} ms`).toBe(false)
      expect(r.rssKb, "peak RSS (KB)").toBeLessThanOrEqual(RSS_LIMIT_KB)
      // No stack trace, never the internal-error exit.
      for (const re of STACK) expect(r.stderr, `stderr matches ${re}`).not.toMatch(re)
      expect(r.status, r.stderr).toBe(c.exit)
      // A refusal is one `error:` line and, but for a report, nothing on stdout.
      if (c.error !== undefined) {
        const lines = r.stderr.trimEnd().split("\n")
        expect(lines, r.stderr).toHaveLength(1)
        expect(lines[0]).toMatch(c.error)
        if (c.report !== true) expect(r.stdout).toBe("")
      }
      // No clobbered file: only the paths the case may write changed; no temp file anywhere.
      const allowed = (p: string) => (c.writes ?? []).some((w) => p === w || p.startsWith(`${w}/`))
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p) && !allowed(p))
      expect(changed, "changed paths").toEqual([])
      expect(tempFiles(dir), "temp files left").toEqual([])
      c.check?.(r, dir)
    },
    120_000
  )
})
