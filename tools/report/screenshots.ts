/**
 * Regenerates the README's chart screenshots (docs/img/*.png) from the CLI's HTML pages in
 * Debian's chromium: `node tools/report/screenshots.ts` (needs `apt-get install -y chromium`).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-shots-"))
const cli = (args: ReadonlyArray<string>) => execFileSync(process.execPath, [path.join(repo, "bin", "llmsim.js"), ...args], { cwd: repo })
const pages: ReadonlyArray<readonly [string, ReadonlyArray<string>, ReadonlyArray<string>]> = [
  ["run.html", ["report", "--no-cache"], ["roofline", "layers-prefill", "memory"]],
  [
    "sweep.html",
    ["sweep", "--phase", "decode", "--batch", "1..256:x2", "--ep", "16,32", "--price-per-gpu-hour", "2.5", "--no-cache", "--format", "html"],
    ["pareto"]
  ],
  [
    "diff.html",
    ["diff", "--a", "configs/scenarios/deepseek_v3_h800.yaml", "--b", "configs/scenarios/deepseek_v3_a100.yaml", "--no-cache", "--format", "html"],
    ["diff-1-decode"]
  ]
]
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] })
try {
  const page = await browser.newPage({ viewport: { width: 960, height: 800 } })
  for (const [file, args, charts] of pages) {
    fs.writeFileSync(path.join(tmp, file), cli(args))
    await page.goto(`file://${path.join(tmp, file)}`)
    for (const id of charts) {
      await page.locator(`figure[data-chart="${id}"]`).screenshot({ path: path.join(repo, "docs", "img", `${id}.png`) })
    }
  }
} finally {
  await browser.close()
  fs.rmSync(tmp, { recursive: true, force: true })
}
