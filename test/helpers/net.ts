/** Loopback ports for the tests' servers (nginx, PostgreSQL, cluster runners). */
import * as net from "node:net"

/** A port nothing listens on now (the OS picks it; a server started next binds it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

/** Whether something accepts a TCP connection on 127.0.0.1:`port`. */
export const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const c = net.connect({ host: "127.0.0.1", port })
    c.once("connect", () => {
      c.destroy()
      resolve(true)
    })
    c.once("error", () => resolve(false))
  })
