// Placeholder until the watch-mode work lands (replaced wholesale by that change).
import { Command } from "effect/cli"
export const watchCommand = Command.make("watch").pipe(Command.withDescription("(in progress)"), Command.unlisted)
