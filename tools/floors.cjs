/**
 * The floors of src/, from the ground up: the one table .dependency-cruiser.cjs builds its
 * rules from and ARCHITECTURE.md describes (tools/architecture.ts writes its folder graph).
 * A folder imports from its own floor's folder and from lower floors; folders sharing a floor
 * import none of each other. CommonJS: dependency-cruiser's config requires it.
 */
const TIERS = [
  { folders: ["base"], why: "plain helpers on Node built-ins (one writer, one SHA-256, paths, formats), shared with the launcher" },
  { folders: ["schema"], why: "the config files' schemas: the shapes every layer reads" },
  { folders: ["ops"], why: "one exact FLOP/byte formula per fused op" },
  { folders: ["timing"], why: "op costs to milliseconds on a device (roofline, efficiency constants)" },
  { folders: ["layers"], why: "a layer template and a context to op specs and memory" },
  { folders: ["kernel"], why: "the one step kernel: layout, compose, roll up, serve" },
  { folders: ["reference"], why: "reading published reference data (CSV, stats, hardware lookup)" },
  { folders: ["ml", "hf"], why: "the ML estimator and the Hugging Face import, both pure" },
  { folders: ["deploy"], why: "the deployment models (large EP, AFD) and their registry" },
  { folders: ["serve"], why: "serving a request stream: workloads, engine models, mixed steps, the discrete-event core, metrics" },
  { folders: ["launch"], why: "the command node: replaying a recorded command before anything loads" },
  { folders: ["graph"], why: "the domain-free build graph and its store" },
  { folders: ["config"], why: "reading files with positions, paths, the project and the runtime" },
  { folders: ["sim"], why: "the scenario as graph nodes" },
  { folders: ["app"], why: "the composition root: the services a command runs with" },
  { folders: ["playbooks", "sweep", "diff", "watch", "accuracy"], why: "use cases, each on its own, no screens" },
  { folders: ["report"], why: "every screen: tables, HTML, charts" },
  { folders: ["cli", "index.ts"], why: "the commands and the programmatic API: the two ways in" }
]

/** Folders whose code is plain functions on numbers: no Effect, no file system. */
const PURE = ["ops", "timing", "layers", "kernel", "reference", "ml", "hf", "deploy", "serve"]

module.exports = { TIERS, PURE }
