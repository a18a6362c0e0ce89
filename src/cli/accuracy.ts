// Placeholder until the accuracy work lands (replaced wholesale by that change).
import { Command } from "effect/cli"
export const accuracyCommands = [] as const
