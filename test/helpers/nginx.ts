/**
 * A real WebDAV server for the remote-cache tests: Debian's nginx (its dav module: PUT creates the
 * file and its folders, GET serves it) on 127.0.0.1 at a free port, its config, data and logs in
 * a temporary folder. `.ci/run` installs nginx when it is missing; without it the tests report
 * themselves skipped with the install command.
 */
import { spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { accepts, freePort } from "./net.ts"
import { tempDir } from "./temp.ts"

export const NGINX = process.env.NGINX_PATH ?? "/usr/sbin/nginx"
export const NGINX_INSTALL = "install Debian's nginx: apt-get install -y nginx"
export const HAVE_NGINX = fs.existsSync(NGINX)

export interface WebDav {
  readonly url: string
  /** Where the served files live: `<data>/ac/<key>`, `<data>/cas/<sha256>`. */
  readonly data: string
  /** Stop the server and wait until its port refuses connections. */
  readonly stop: () => Promise<void>
}

/** Poll until `want(port)` holds (a state, not a sleep), up to `ms`. */
const until = async (port: number, want: boolean, ms: number, child?: ChildProcess): Promise<void> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if ((await accepts(port)) === want) return
    if (want && child?.exitCode !== null && child?.exitCode !== undefined) throw new Error(`nginx exited with ${child.exitCode}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`nginx on port ${port}: still ${want ? "refusing" : "accepting"} connections after ${ms} ms`)
}

export const startWebDav = async (): Promise<WebDav> => {
  const dir = tempDir("llmsim-nginx-")
  // mkdtemp makes it 0700: the workers (nobody, under a root master) must pass through it.
  fs.chmodSync(dir, 0o755)
  const data = path.join(dir, "data")
  for (const d of [data, path.join(dir, "body"), path.join(dir, "logs")]) {
    fs.mkdirSync(d, { recursive: true })
    // Workers run as nobody when the master is root: they write the uploads.
    fs.chmodSync(d, 0o777)
  }
  const port = await freePort()
  const conf = path.join(dir, "nginx.conf")
  fs.writeFileSync(
    conf,
    [
      "worker_processes 1;",
      "daemon off;",
      "master_process on;",
      `pid ${path.join(dir, "nginx.pid")};`,
      `error_log ${path.join(dir, "logs", "error.log")} warn;`,
      "events { worker_connections 128; }",
      "http {",
      "  access_log off;",
      `  client_body_temp_path ${path.join(dir, "body")};`,
      `  proxy_temp_path ${path.join(dir, "body")};`,
      `  fastcgi_temp_path ${path.join(dir, "body")};`,
      `  uwsgi_temp_path ${path.join(dir, "body")};`,
      `  scgi_temp_path ${path.join(dir, "body")};`,
      "  server {",
      `    listen 127.0.0.1:${port};`,
      `    root ${data};`,
      "    client_max_body_size 512m;",
      "    location / {",
      "      dav_methods PUT;",
      "      create_full_put_path on;",
      "      dav_access user:rw group:rw all:r;",
      "    }",
      "  }",
      "}",
      ""
    ].join("\n")
  )
  const child = spawn(NGINX, ["-p", dir, "-c", conf, "-e", path.join(dir, "logs", "error.log")], { stdio: "ignore" })
  await until(port, true, 10_000, child)
  return {
    url: `http://127.0.0.1:${port}`,
    data,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM")
      await until(port, false, 10_000)
    }
  }
}
