/**
 * The one guarded read (src/base/guardedRead.js): regular files only, a size limit, never an
 * open that blocks. A FIFO with no writer would block a plain open or read forever and
 * /dev/zero never ends: each is refused (or probed as "special") at once, without being opened.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { openGuarded, probeState, readGuarded, readHeadGuarded, readTextGuarded } from "../../src/base/guardedRead.js"
import { sha256 } from "../../src/base/sha256.js"
import { tempDir } from "../helpers/temp.ts"

const fixture = () => {
  const dir = tempDir("llmsim-guarded-")
  const file = path.join(dir, "a.yaml")
  fs.writeFileSync(file, "name: x\n")
  const fifo = path.join(dir, "pipe")
  execFileSync("mkfifo", [fifo])
  return { dir, file, fifo }
}

describe("the guarded read", () => {
  it("reads a regular file and refuses a FIFO, /dev/zero and a directory without opening them", () => {
    const { dir, file, fifo } = fixture()
    expect(readTextGuarded(file, 1024)).toBe("name: x\n")
    expect(readGuarded(fifo, 1024)).toEqual({ refused: { kind: "a FIFO" } })
    expect(readGuarded("/dev/zero", 1024)).toEqual({ refused: { kind: "a character device" } })
    expect(readGuarded(dir, 1024)).toEqual({ refused: { kind: "a directory" } })
    expect(readGuarded(file, 4)).toEqual({ refused: { size: 8, limit: 4 } })
    expect(readGuarded(path.join(dir, "nope"), 4)).toHaveProperty("error.code", "ENOENT")
    expect(readTextGuarded(fifo, 1024)).toBeUndefined()
    expect(readHeadGuarded(fifo, 64)).toBeUndefined()
    expect(readHeadGuarded(file, 4)).toBe("name")
    expect(openGuarded("/dev/zero", 1024)).toEqual({ refused: { kind: "a character device" } })
  })

  it("probes a path as a command record keeps it: digest, dir, special, absent, never blocking", () => {
    const { dir, file, fifo } = fixture()
    expect(probeState(file)).toBe(sha256(fs.readFileSync(file)))
    expect(probeState(dir)).toBe("dir")
    expect(probeState(fifo)).toBe("special")
    expect(probeState("/dev/zero")).toBe("special")
    expect(probeState(path.join(dir, "nope"))).toBe(null)
    expect(probeState(path.join(file, "under-a-file"))).toBe(null)
    // A symlink is followed: its target's state.
    fs.symlinkSync("a.yaml", path.join(dir, "link.yaml"))
    expect(probeState(path.join(dir, "link.yaml"))).toBe(probeState(file))
  })
})
