/**
 * The floors of src/ (ARCHITECTURE.md "Floors"), checked by dependency-cruiser: `npm run lint`,
 * and test/architecture.test.ts under `npm test`, fail on any violation.
 *
 * TIERS (tools/floors.cjs) lists the folders from the ground up; a module may import from its own
 * folder and from folders on lower tiers only. Folders sharing a tier are independent of each
 * other. Type-only imports count (tsPreCompilationDeps): a type is a dependency too.
 */
const { TIERS, PURE } = require("./tools/floors.cjs")

const pathOf = (f) => (f.endsWith(".ts") ? `^src/${f.replace(".", "\\.")}$` : `^src/${f}/`)
const anyOf = (folders) => folders.map(pathOf).join("|")

const tierRules = TIERS.flatMap((tier, i) => {
  const above = TIERS.slice(i + 1).flatMap((t) => t.folders)
  const rules = []
  if (above.length > 0) {
    rules.push({
      name: `floor-${tier.folders.join("-").replace(".ts", "")}`,
      comment:
        i === 0
          ? `${tier.folders.join(", ")} imports from no other folder of src/: everything builds on it`
          : `${tier.folders.join(", ")} import${tier.folders.length === 1 ? "s" : ""} only from ${i === 1 ? "floor 0" : `floors 0-${i - 1}`}: a floor builds on what is below it, never on what is built on it`,
      severity: "error",
      from: { path: anyOf(tier.folders) },
      to: { path: anyOf(above) }
    })
  }
  for (const f of tier.folders.length > 1 ? tier.folders : []) {
    rules.push({
      name: `apart-${f.replace(".ts", "")}`,
      comment: `${f} imports none of ${tier.folders.filter((g) => g !== f).join(", ")}: folders on one floor stay independent, so no cycle can form between them`,
      severity: "error",
      from: { path: pathOf(f) },
      to: { path: anyOf(tier.folders.filter((g) => g !== f)) }
    })
  }
  return rules
})

module.exports = {
  forbidden: [
    ...tierRules,
    {
      name: "pure",
      comment: `${PURE.join(", ")} are pure (plain functions on numbers): no effect, no file system`,
      severity: "error",
      from: { path: anyOf(PURE) },
      to: { path: "^(node_modules/effect/|node_modules/@effect/)|^(node:)?fs$|^(node:)?fs/promises$", dependencyTypes: ["npm", "core"] }
    },
    {
      name: "base-plain",
      comment: "base runs in the launcher before any dependency loads: Node built-ins only",
      severity: "error",
      from: { path: "^src/base/" },
      to: { dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown"] }
    },
    {
      name: "launcher-plain",
      comment: "src/launch/command.js runs on any Node before anything loads: base and Node built-ins only",
      severity: "error",
      from: { path: "^src/launch/command\\.js$" },
      to: { pathNot: "^src/base/|^src/launch/", dependencyTypes: ["local", "npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown"] }
    },
    {
      name: "no-folder-cycle",
      comment: "no cycle through another folder (cycles inside one folder are that folder's business)",
      severity: "error",
      from: { path: "^src/([^/]+)/" },
      to: { circular: true, viaOnly: { pathNot: "^src/$1/" } }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
