/**
 * SHA-256, the one digest llmsim uses: node keys and entry checksums (src/graph), command
 * records (src/launch), sweep packs, model files, the bundle id (tools/build.js). Plain
 * JavaScript on Node built-ins, so the launcher can use it before anything else loads.
 */
// Built-ins without an ES-module facade (bin/llmsim.js says why).
const { createHash } = process.getBuiltinModule("node:crypto")

/**
 * The SHA-256 of `data` (a string is hashed as UTF-8), as 64 lowercase hex digits.
 * @param {string | Uint8Array} data
 * @returns {string}
 */
export const sha256 = (data) => createHash("sha256").update(data).digest("hex")

/**
 * An incremental SHA-256, for what is hashed in parts (a stream of sweep rows, a folder walk):
 * `update` as often as needed, then `digest("hex")` once.
 * @returns {import("node:crypto").Hash}
 */
export const sha256Hasher = () => createHash("sha256")
