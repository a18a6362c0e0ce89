/**
 * effect/cli (4.1.5 on) builds its Intl.Segmenter on first use: constructing one lists ICU's
 * available locales, about 8 ms of every start-up that `run` never uses. Up to 4.1.4 the bundle
 * patched that in; this guards it against an effect release that makes it eager again.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, NODE } from "../helpers/cli.ts"
import { tempDir } from "../helpers/temp.ts"

/** Run the CLI with a hook that counts Intl.Segmenter constructions; stderr's last line is the count. */
const segmentersMade = (args: ReadonlyArray<string>) => {
  const dir = tempDir("llmsim-segmenter-")
  const hook = path.join(dir, "count.mjs")
  fs.writeFileSync(
    hook,
    [
      "const Real = Intl.Segmenter",
      "let made = 0",
      "Intl.Segmenter = class extends Real { constructor(...a) { made++; super(...a) } }",
      'process.on("exit", () => process.stderr.write(`segmenters: ${made}\\n`))',
      ""
    ].join("\n")
  )
  const r = spawnSync(NODE, ["--import", hook, BIN, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } })
  expect(r.status).toBe(0)
  return { made: Number(/segmenters: (\d+)\n$/.exec(r.stderr)?.[1]), stdout: r.stdout }
}

describe("the bundle's start-up", () => {
  it("builds no Intl.Segmenter until text is measured", () => {
    expect(segmentersMade(["--version"]).made).toBe(0)
    // Help measures its columns: the segmenter is built then, and help still aligns.
    const help = segmentersMade(["run", "--help"])
    expect(help.made).toBe(1)
    expect(help.stdout).toMatch(/--batch/)
  })
})
