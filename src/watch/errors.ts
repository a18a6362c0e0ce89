/**
 * The one failure that stops watch mode: the file watcher itself cannot work (the inotify watch
 * limit, too many open files). Bad config input is never this; it is an error event.
 */
import { Schema } from "effect"

export class WatcherError extends Schema.TaggedError<WatcherError>()("WatcherError", {
  /** errno code, e.g. ENOSPC. */
  code: Schema.String,
  message: Schema.String,
  /** What the user can do about it. */
  hint: Schema.String
}) {}

const HINTS: Record<string, string> = {
  ENOSPC:
    "the inotify watch limit is reached: raise it with " +
    "`echo fs.inotify.max_user_watches=524288 | sudo tee -a /etc/sysctl.conf && sudo sysctl -p`, or stop other watchers",
  EMFILE: "too many open files: raise the limit (`ulimit -n 65536`) or set CHOKIDAR_USEPOLLING=1",
  ENFILE: "the system file table is full: close other programs or raise fs.file-max"
}

/** Error codes after which a watcher cannot be trusted to see every save. */
export const isFatalWatchError = (code: string | undefined): boolean => code !== undefined && code in HINTS

export const watcherError = (code: string, message: string): WatcherError => new WatcherError({ code, message, hint: HINTS[code] ?? "restart llmsim watch" })
