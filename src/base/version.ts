/** The llmsim version: package.json's, so there is one source (it is part of every cache key). */
import pkg from "../../package.json" with { type: "json" }

export const VERSION: string = pkg.version
