/**
 * A Vega-Lite spec rendered to static SVG in Node (no browser, no canvas): Vega-Lite compiles
 * it to Vega, Vega's headless view draws it. The SVG is made deterministic and self-describing:
 * Vega numbers clip paths and gradients from a process-wide counter, so ids are renumbered
 * per chart (`<prefix>-1`, ...); each mark's aria-label (its tooltip fields) also becomes a
 * `<title>`, the hover text a static SVG can show. Vega is loaded on first use only
 * (chartLibraries.ts).
 */
import type { ChartSpec } from "./charts.ts"

const libraries = async () => (await import("./chartLibraries.ts")).chartLibraries()

/** Renumber every `id` (and its `url(#id)` / `href="#id"` uses) in document order. */
export const renumberIds = (svg: string, prefix: string): string => {
  const ids = new Map<string, string>()
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) if (!ids.has(m[1]!)) ids.set(m[1]!, `${prefix}-${ids.size + 1}`)
  if (ids.size === 0) return svg
  return svg
    .replace(/\sid="([^"]+)"/g, (_, id: string) => ` id="${ids.get(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${ids.get(id)})` : all))
    .replace(/href="#([^"]+)"/g, (all, id: string) => (ids.has(id) ? `href="#${ids.get(id)}"` : all))
}

/** A `<title>` child for every mark item that has an aria-label (points, bars, lines). */
const hoverTitles = (svg: string): string =>
  svg.replace(
    /<(path|rect|line)( aria-label="([^"]*)"[^>]*?)\/>/g,
    (_, tag: string, attrs: string, label: string) => `<${tag}${attrs}><title>${label}</title></${tag}>`
  )

export const renderSvg = async (spec: ChartSpec, idPrefix: string): Promise<string> => {
  const { vega, vl } = await libraries()
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec
  const view = new vega.View(vega.parse(compiled), { renderer: "none" })
  try {
    return hoverTitles(renumberIds(await view.toSVG(), idPrefix))
  } finally {
    view.finalize()
  }
}
