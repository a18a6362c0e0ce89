/**
 * Drives a real `llmsim watch` process: reads its stdout as it arrives and hands out JSON events
 * (or waits for text) in order, each wait bounded by a generous timeout so a slow CI machine
 * only makes the suite slower, never flaky. Every process started is tracked so `stopAll` can
 * clean up in afterEach.
 */
import * as fs from "node:fs"
import { afterEach } from "vitest"
import { makeProject, startCli } from "../helpers/cli.ts"
import { runOptions, watchInProcess } from "../helpers/inProcess.ts"

export const WAIT_MS = 30_000

export interface WatchEvent {
  readonly type: "result" | "error" | "fatal"
  readonly [k: string]: any
}

const running = new Set<WatchProcess>()

export class WatchProcess {
  readonly child: ReturnType<typeof startCli>
  stdout = ""
  stderr = ""
  private read = 0
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private wake: () => void = () => {}

  /** `llmsim watch ARGS` in `cwd`, or an already spawned process that runs it. */
  constructor(args: ReadonlyArray<string>, cwd: string, child: ReturnType<typeof startCli> = startCli(["watch", ...args], cwd)) {
    this.child = child
    running.add(this)
    this.child.stdout.setEncoding("utf8").on("data", (d: string) => {
      this.stdout += d
      this.wake()
    })
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => {
      this.stderr += d
    })
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => {
        running.delete(this)
        this.wake()
        resolve({ code, signal })
      })
    )
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resolve once `ready()` returns a value; fail after `ms` or if the process exits first. */
  private until<A>(ready: () => A | undefined, what: string, ms = WAIT_MS): Promise<A> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = ready()
        if (value !== undefined) {
          clearTimeout(timer)
          this.wake = () => {}
          resolve(value)
        } else if (!this.alive) {
          clearTimeout(timer)
          reject(new Error(`watch exited (${this.child.exitCode ?? this.child.signalCode}) while waiting for ${what}\nstderr: ${this.stderr}`))
        }
      }
      const timer = setTimeout(() => {
        this.wake = () => {}
        reject(new Error(`no ${what} within ${ms} ms\nstdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr}`))
      }, ms)
      this.wake = check
      check()
    })
  }

  /** The next JSON event not returned before. */
  next(ms = WAIT_MS): Promise<WatchEvent> {
    return this.until(
      () => {
        const end = this.stdout.indexOf("\n", this.read)
        if (end < 0) return undefined
        const line = this.stdout.slice(this.read, end)
        this.read = end + 1
        return JSON.parse(line) as WatchEvent
      },
      "event",
      ms
    )
  }

  /** The next event, which must be of this type. */
  async expectNext(type: WatchEvent["type"]): Promise<WatchEvent> {
    const e = await this.next()
    if (e.type !== type) throw new Error(`expected a ${type} event, got ${JSON.stringify(e).slice(0, 2000)}`)
    return e
  }

  /** Wait until stdout (from the start) contains `text` at least `count` times. */
  waitForText(text: string, count = 1, ms = WAIT_MS): Promise<string> {
    return this.until(() => (this.stdout.split(text).length - 1 >= count ? this.stdout : undefined), `${count} x "${text}"`, ms)
  }

  /** Exit code and signal, once the process has exited. */
  exit() {
    return this.exited
  }

  async stop(signal: NodeJS.Signals = "SIGINT") {
    if (this.alive) this.child.kill(signal)
    return this.exited
  }
}

export const stopAll = async () => {
  await Promise.all([...running].map((p) => p.stop("SIGKILL")))
}

export const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"

/**
 * `llmsim watch SCENARIO --reporter json [--phase P] [--no-cache]` in `dir` as a session in this
 * process (test/helpers/inProcess.ts), read through the same WatchProcess interface.
 */
export const watchSessionInProcess = (dir: string, runtime: { phase?: "decode" } = { phase: "decode" }, noCache = false) =>
  new WatchProcess([], dir, watchInProcess(runOptions(dir, SCENARIO, { runtime, noCache })) as unknown as ReturnType<typeof startCli>)
export const MOE = "configs/models/deepseek-v3/moe_layer_config.yaml"
export const HARDWARE = "configs/hardware/H800-SXM.yaml"

/**
 * Temp projects for one test file: `project()` makes one; after each test every watch process
 * is stopped and every project removed.
 */
export const useProjects = (): (() => string) => {
  const dirs: Array<string> = []
  afterEach(async () => {
    await stopAll()
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
  })
  return () => {
    const dir = makeProject()
    dirs.push(dir)
    return dir
  }
}
