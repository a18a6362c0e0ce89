/**
 * src/cli: the commands (effect/cli), each a small function of the app services and a screen. Nothing
 * outside imports the CLI: this surface is empty.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */

