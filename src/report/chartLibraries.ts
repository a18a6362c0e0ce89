/**
 * Vega and Vega-Lite, imported on first use only, so commands that print tables do not pay for
 * them. Its own module (and, bundled, its own file: dist/chart-libraries.js, tools/build.js):
 * the CLI's script is CommonJS (src/launch/codeCache.js), which requires an ES module only when
 * it has no top-level await, and Vega's optional `canvas` import is one. This module has none;
 * its dynamic imports load Vega's files on demand.
 */
export const chartLibraries = async () => {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")])
  return { vega, vl }
}
