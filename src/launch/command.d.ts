/** Types of src/launch/command.js (plain JavaScript: bin/llmsim.js runs it on any Node). */
export declare const COMMAND_FORMAT: number
export declare const CONFIG_FILE: string
export declare const COMMANDS_FOLDER: string
export declare const PACKAGE_DIR: string
/** Environment variables in the key besides LLMSIM_* (docs/caching.md lists them). */
export declare const KEY_ENV: ReadonlyArray<string>
/** Subcommands a record may replay. */
export declare const REPLAYABLE: ReadonlySet<string>
/** sha256 hex of a file's bytes, "dir", "unreadable", or null when absent. */
export type PathState = string | null
export interface CommandRecord {
  readonly v: number
  readonly key: string
  /** [absolute path, state] for every file read or probed. */
  readonly inputs: ReadonlyArray<readonly [string, PathState]>
  readonly stdout: string
  readonly stderr: string
  /** [absolute path, text] for every output file written. */
  readonly files: ReadonlyArray<readonly [string, string]>
}
export interface KeyInputs {
  readonly code: string
  readonly node: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stdoutTTY: boolean | undefined
  readonly stderrTTY: boolean | undefined
}
export declare const replayable: (args: ReadonlyArray<string>) => boolean
export declare const findProjectRoot: (cwd: string, probe?: (file: string, present: boolean) => void) => { root: string; configFile: string | undefined }
export declare const sourceStamp: (dir?: string) => string
export declare const bundleId: (dir?: string, env?: Readonly<Record<string, string | undefined>>) => string | undefined
export declare const codeIdentity: (dir?: string, env?: Readonly<Record<string, string | undefined>>) => string
export declare const commandKey: (inputs: KeyInputs) => string
export declare const recordDirFor: (args: ReadonlyArray<string>, cwd: string, root: string) => string | undefined
export declare const recordPath: (cacheDir: string, key: string) => string
export declare const recordText: (record: CommandRecord) => string
export declare const parseRecord: (text: string, key?: string) => CommandRecord | undefined
export declare const pathState: (file: string) => PathState
export declare const tryReplay: (o: {
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly node: string
  readonly stdout: NodeJS.WriteStream
  readonly stderr: NodeJS.WriteStream
}) => boolean
