/**
 * The one layer table of every screen (`run` and watch, `large-ep evaluate`, `afd simulate`,
 * `diff`): a row per layer, or, listed `grouped` (the default of every command's `--layers`),
 * one row per run of identical consecutive layers with its count (`L3-L60 moe_layer x58`), then
 * the TOTAL row. Two layers are identical when every figure the table shows of them is equal
 * (each screen says which: `figures`), so a grouped table shows exactly what the full one does,
 * once. Pure.
 */
import { renderTable, type Column } from "./table.ts"

/** `grouped`: runs of identical consecutive layers as one row with a count; `all`: one row per layer. */
export type LayerListing = "grouped" | "all"

/** A run of consecutive layers with identical figures. */
export interface LayerGroup<L> {
  /** `L3-L60` (grouped), `L61` (a run of one, grouped), or the layer's name (`all`). */
  readonly label: string
  readonly count: number
  /** Index of the run's first layer in the table's layers. */
  readonly first: number
  /** The first layer of the run; every layer of it shows the same figures. */
  readonly layer: L
}

/** The `L<index>` prefix of a layer name (`L17.moe_layer` -> `L17`); the whole name otherwise. */
const indexOf = (name: string): string => /^L\d+/.exec(name)?.[0] ?? name

const equalFigures = (a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>): boolean => a.length === b.length && a.every((x, i) => Object.is(x, b[i]))

/** The rows of a listing: runs of layers with equal `figures` (and type) when grouped, else one per layer. */
export const groupLayers = <L extends { readonly layer_name: string; readonly layer_type: string }>(
  layers: ReadonlyArray<L>,
  figures: (l: L) => ReadonlyArray<unknown>,
  listing: LayerListing = "grouped"
): Array<LayerGroup<L>> => {
  if (listing === "all") return layers.map((layer, first) => ({ label: layer.layer_name, count: 1, first, layer }))
  const runs: Array<{ first: number; last: L; count: number; key: ReadonlyArray<unknown> }> = []
  layers.forEach((l, i) => {
    const key = [l.layer_type, ...figures(l)]
    const run = runs.at(-1)
    if (run !== undefined && equalFigures(run.key, key)) {
      run.last = l
      run.count++
    } else runs.push({ first: i, last: l, count: 1, key })
  })
  return runs.map((r) => {
    const first = layers[r.first]!
    return {
      label: r.count === 1 ? indexOf(first.layer_name) : `${indexOf(first.layer_name)}-${indexOf(r.last.layer_name)}`,
      count: r.count,
      first: r.first,
      layer: first
    }
  })
}

/** A table row: a run of layers, or the TOTAL (`total: true`, its figures in `layer`). */
export interface LayerTableRow<L> {
  readonly label: string
  readonly count: number
  readonly first: number
  readonly layer: L
  readonly total: boolean
}

export interface LayerTableSpec<L> {
  /** The figures of a layer the table shows: layers whose figures are equal share a grouped row. */
  readonly figures: (l: L) => ReadonlyArray<unknown>
  /** Columns after the layer's name, type and count. */
  readonly columns: ReadonlyArray<Column<LayerTableRow<L>>>
  /** Columns before the name (watch's change mark). */
  readonly leading?: ReadonlyArray<Column<LayerTableRow<L>>>
  /** The TOTAL row's figures (shown by the same columns), or none. */
  readonly total?: L
  /** Whether the table has a type column (diff's has not: its status column says more). */
  readonly typeColumn?: boolean
}

/** Render the layers as one table (terminal by default; diff passes its markdown renderer). */
export const renderLayerTable = <L extends { readonly layer_name: string; readonly layer_type: string }>(
  layers: ReadonlyArray<L>,
  spec: LayerTableSpec<L>,
  listing: LayerListing,
  render: <R>(columns: ReadonlyArray<Column<R>>, rows: ReadonlyArray<R>) => string = renderTable
): string => {
  const rows: Array<LayerTableRow<L>> = groupLayers(layers, spec.figures, listing).map((g) => ({ ...g, total: false }))
  if (spec.total !== undefined) rows.push({ label: "TOTAL", count: layers.length, first: layers.length, layer: spec.total, total: true })
  const name: Column<LayerTableRow<L>> = { header: "layer", align: "left", format: (r) => r.label }
  const type: Array<Column<LayerTableRow<L>>> =
    spec.typeColumn === false ? [] : [{ header: "type", align: "left", format: (r) => (r.total ? "" : r.layer.layer_type) }]
  const count: Array<Column<LayerTableRow<L>>> = listing === "grouped" ? [{ header: "count", format: (r) => (r.total ? "" : `x${r.count}`) }] : []
  return render([...(spec.leading ?? []), name, ...type, ...count, ...spec.columns], rows)
}
