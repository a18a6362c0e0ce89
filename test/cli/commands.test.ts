/** The command tree (src/cli/commands.ts) registers exactly the subcommands of src/base/commands.js, the table the launcher reads. */
import { describe, expect, it } from "vitest"
import { COMMANDS } from "../../src/base/commands.js"
import { SUBCOMMANDS } from "../../src/cli/commands.ts"

describe("the command table", () => {
  it("names every registered subcommand once, and nothing else", () => {
    expect(SUBCOMMANDS.map((c) => c.name).sort()).toEqual(Object.keys(COMMANDS).sort())
  })
})
