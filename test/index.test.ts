/**
 * The programmatic API as a user's project sees it (README "Programmatic use"): a project whose
 * node_modules/llmsim links to this package (what `npm install <folder>` makes), a module that
 * imports "llmsim" through package.json `exports`, run by Node; and a TypeScript file type-checked
 * against the published declarations (dist/types), so a wrong use of a result is a compile error.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { makeProject, NODE, REPO, runCli } from "./helpers/cli.ts"

const SCENARIO = "configs/scenarios/llama_3_1_70b_h100.yaml"

let dir: string
beforeAll(() => {
  dir = makeProject("llmsim-api-")
  fs.mkdirSync(path.join(dir, "node_modules"))
  fs.symlinkSync(REPO, path.join(dir, "node_modules", "llmsim"), "dir")
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "my-plan", type: "module", private: true }))
})

const node = (file: string) => spawnSync(NODE, [file], { cwd: dir, encoding: "utf8", timeout: 120_000 })

describe('import "llmsim" from a user\'s project', () => {
  it("simulates a scenario exactly as `llmsim run --format json` prints it", () => {
    fs.writeFileSync(
      path.join(dir, "run.mjs"),
      [
        'import { simulate } from "llmsim"',
        `const r = await simulate(${JSON.stringify(SCENARIO)}, { runtime: { batch_size: 4, phase: "decode" }, noCache: true })`,
        'process.stdout.write(JSON.stringify(r, null, 2) + "\\n")'
      ].join("\n")
    )
    const api = node("run.mjs")
    expect(api.stderr).toBe("")
    expect(api.status).toBe(0)
    const cli = runCli(["run", SCENARIO, "--batch", "4", "--phase", "decode", "--no-cache", "--format", "json"], dir)
    expect(cli.status).toBe(0)
    expect(api.stdout).toBe(cli.stdout)
  })

  it("loads a scenario, and rejects a bad one with a ConfigError naming the file, line and field", () => {
    fs.writeFileSync(path.join(dir, "bad.yaml"), fs.readFileSync(path.join(dir, SCENARIO), "utf8").replace(/batch_size: \d+/, "batch_size: -3"))
    fs.writeFileSync(
      path.join(dir, "load.mjs"),
      [
        'import { loadScenario, ConfigError } from "llmsim"',
        `const s = await loadScenario(${JSON.stringify(SCENARIO)})`,
        "const out = { hardware: s.hardware.name, entries: s.entries.length, batch: s.runtime.batch_size }",
        'try { await loadScenario("bad.yaml") } catch (e) { out.error = e instanceof ConfigError ? e.issues[0] : String(e) }',
        "process.stdout.write(JSON.stringify(out))"
      ].join("\n")
    )
    const r = node("load.mjs")
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.hardware).toBe("H100-SXM")
    expect(out.entries).toBeGreaterThan(0)
    expect(out.error.file).toBe("bad.yaml")
    expect(out.error.path).toBe("runtime.batch_size")
    expect(out.error.line).toBeGreaterThan(1)
  })

  it("type-checks README's example and a correct use of the declarations, and refuses a wrong one", () => {
    fs.mkdirSync(path.join(dir, "src"), { recursive: true })
    fs.writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2023",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [path.join(REPO, "node_modules", "@types")]
        },
        include: ["src"]
      })
    )
    const good = [
      'import { simulate, sweep, type RunResult, type SweepResult } from "llmsim"',
      'const r: RunResult = await simulate("s.yaml", { runtime: { batch_size: 8 } })',
      "const tpot: number | null = r.serving.tpot_ms",
      'const s: SweepResult = await sweep("s.yaml", { axes: { batch: "1..64:x2" } })',
      "console.log(tpot, s.header.total_points)"
    ].join("\n")
    fs.writeFileSync(path.join(dir, "src", "use.ts"), good)
    const tsc = () =>
      spawnSync(NODE, [path.join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { cwd: dir, encoding: "utf8", timeout: 120_000 })
    // README's example, as written there.
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8")
    const example = /## Programmatic use[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(example).toContain('from "llmsim"')
    fs.writeFileSync(path.join(dir, "src", "readme.ts"), example!)
    const ok = tsc()
    expect(ok.stdout + ok.stderr).toBe("")
    expect(ok.status).toBe(0)
    fs.writeFileSync(path.join(dir, "src", "use.ts"), good + "\nconst wrong: string = r.serving.tpot_ms\nconsole.log(wrong)\n")
    const bad = tsc()
    expect(bad.status).not.toBe(0)
    expect(bad.stdout).toMatch(/use\.ts\(6,7\): error TS2322: Type 'number \| null' is not assignable to type 'string'/)
  })
})
