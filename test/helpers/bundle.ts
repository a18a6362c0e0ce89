/**
 * Global setup: the CLI tests spawn bin/llmsim.js, which runs the bundle in dist/ (tools/build.js);
 * rebuild it when the sources changed since it was built, so the tests always run the code under
 * test. A fresh bundle (CI right after npm ci) costs one stat walk.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { PACKAGE_DIR } from "../../src/base/project.js"
import { sourceStamp } from "../../src/launch/command.js"
import { build } from "../../tools/build.js"

export default async function setup() {
  let built: string | undefined
  try {
    built = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, "dist", "build.json"), "utf8")).sources
  } catch {
    built = undefined
  }
  if (built !== sourceStamp(PACKAGE_DIR)) await build()
}
