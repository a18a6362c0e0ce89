/** The one digest (src/base/sha256.js) against the FIPS 180-4 example vectors. */
import { describe, expect, it } from "vitest"
import { sha256, sha256Hasher } from "../../src/base/sha256.js"

describe("sha256", () => {
  it('gives the published digests of "abc" and of the empty string', () => {
    expect(sha256("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    expect(sha256("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  })

  it("hashes a string as its UTF-8 bytes, and in parts as in one piece", () => {
    expect(sha256("é")).toBe(sha256(new Uint8Array([0xc3, 0xa9])))
    expect(sha256Hasher().update("a").update("bc").digest("hex")).toBe(sha256("abc"))
  })
})
