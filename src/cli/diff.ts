// Placeholder until the revision-diff work lands (replaced wholesale by that change).
import { Command } from "effect/cli"
export const diffCommand = Command.make("diff").pipe(Command.withDescription("(in progress)"), Command.unlisted)
