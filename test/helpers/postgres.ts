/**
 * A real PostgreSQL server for the cluster tests: Debian's PostgreSQL (initdb, postgres) in a
 * temporary data folder, on 127.0.0.1 at a free port, trust authentication for the role
 * `llmsim`, durability off (fsync, synchronous commit: a test database is thrown away).
 * PostgreSQL refuses to run as root: as root (CI), it runs as the `postgres` user the package
 * creates, through setpriv (no intermediate process, so signals reach the server). `.ci/run`
 * installs PostgreSQL when it is missing; without it the tests report themselves skipped with
 * the install command.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { freePort } from "./net.ts"
import { tempDir } from "./temp.ts"

/** Where Debian puts the server programs (/usr/lib/postgresql/<major>/bin), else PATH. */
const pgBin = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  const majors = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  for (const m of majors) if (fs.existsSync(path.join(root, m, "bin", "postgres"))) return path.join(root, m, "bin")
  const found = spawnSync("sh", ["-c", "command -v postgres"], { encoding: "utf8" }).stdout.trim()
  return found === "" ? undefined : path.dirname(fs.realpathSync(found))
}

const BIN = process.env.PG_BIN ?? pgBin()
const ROOT = process.getuid?.() === 0
/** As root: the postgres user's ids (PostgreSQL will not run as root). */
const owner = ((): { uid: number; gid: number } | undefined => {
  if (!ROOT) return undefined
  const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim())
  const uid = id("-u")
  return Number.isInteger(uid) && uid > 0 ? { uid, gid: id("-g") } : undefined
})()

export const POSTGRES_INSTALL = "install Debian's PostgreSQL: apt-get install -y postgresql"
export const HAVE_POSTGRES = BIN !== undefined && (!ROOT || owner !== undefined)

export interface Postgres {
  /** postgres://llmsim@127.0.0.1:<port>/postgres */
  readonly url: string
  /** Stop the server (fast shutdown) and wait for it to exit. */
  readonly stop: () => Promise<void>
}

/** `program args` as the server's user. */
const asOwner = (program: string, args: ReadonlyArray<string>): [string, Array<string>] =>
  owner === undefined ? [program, [...args]] : ["setpriv", [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, "--init-groups", program, ...args]]

export const startPostgres = async (): Promise<Postgres> => {
  if (BIN === undefined) throw new Error(`no PostgreSQL: ${POSTGRES_INSTALL}`)
  const dir = tempDir("llmsim-pg-")
  if (owner !== undefined) fs.chownSync(dir, owner.uid, owner.gid)
  const data = path.join(dir, "data")
  const [initdb, initArgs] = asOwner(path.join(BIN, "initdb"), ["-D", data, "-A", "trust", "-U", "llmsim", "-E", "UTF8", "--no-sync"])
  const init = spawnSync(initdb, initArgs, { encoding: "utf8" })
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`)
  const port = await freePort()
  const [postgres, args] = asOwner(path.join(BIN, "postgres"), [
    "-D",
    data,
    "-k",
    dir,
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
    "-c",
    "max_connections=200"
  ])
  const child = spawn(postgres, args, { stdio: ["ignore", "ignore", "pipe"] })
  let log = ""
  // Ready when the server says so (it accepts connections earlier, answering "starting up").
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PostgreSQL not ready after 20 s:\n${log}`)), 20_000)
    child.stderr.on("data", (chunk: Buffer) => {
      log += chunk.toString()
      if (log.includes("database system is ready to accept connections")) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`PostgreSQL exited with ${code}:\n${log}`))
    })
  })
  return {
    url: `postgres://llmsim@127.0.0.1:${port}/postgres`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once("exit", () => resolve())
        // SIGINT: fast shutdown (sessions are ended, no waiting for clients).
        child.kill("SIGINT")
      })
  }
}

/** Another database on the server at `url` (a second cluster beside the first), through the server's own psql. */
export const createDatabase = (url: string, name: string): string => {
  if (BIN === undefined) throw new Error(`no PostgreSQL: ${POSTGRES_INSTALL}`)
  const made = spawnSync(path.join(BIN, "psql"), [url, "-c", `CREATE DATABASE ${name}`], { encoding: "utf8" })
  if (made.status !== 0) throw new Error(`CREATE DATABASE ${name}: ${made.stderr}`)
  return url.replace(/\/[^/]*$/, `/${name}`)
}
