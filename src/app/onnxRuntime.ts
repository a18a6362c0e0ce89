/**
 * ONNX models (scikit-learn, XGBoost, ... exported with skl2onnx or onnxmltools) through
 * onnxruntime-node, an optional package: llmsim does not depend on it, because its postinstall
 * script downloads CUDA libraries from NuGet on linux/x64, which an install from the npm registry
 * alone cannot reach (docs/ml-estimator.md). Installed with
 * `npm install onnxruntime-node --onnxruntime-node-install=skip`, its bundled CPU runtime is enough.
 *
 * An estimator times one op synchronously inside the build graph, while onnxruntime's inference
 * is asynchronous. The session therefore lives in a worker thread; a prediction posts the rows to
 * it, blocks on a shared flag (Atomics.wait) until the worker has run the session and raised the
 * flag, then takes the reply with receiveMessageOnPort: synchronous to the caller, well under a
 * millisecond per op for a tree ensemble.
 */
import { createRequire } from "node:module"
import { pathToFileURL } from "node:url"

export const ONNX_PACKAGE = "onnxruntime-node"

/** How long one prediction may take before it is reported as a failure. */
const PREDICT_TIMEOUT_MS = 30_000

const require = createRequire(import.meta.url)

/** The installed onnxruntime-node's entry file, or undefined when it is not installed. */
export const onnxRuntimeEntry = (): string | undefined => {
  try {
    return require.resolve(ONNX_PACKAGE)
  } catch {
    return undefined
  }
}

// The worker's program (an ES module from a data: URL, as src/config/configWorker.ts does). It
// opens the session, says so, then answers each request on its port and raises the flag.
const WORKER_SOURCE = `
import { workerData } from "node:worker_threads"
const { port, flag: shared, runtime, model } = workerData
const flag = new Int32Array(shared)
const raise = () => { Atomics.store(flag, 0, 1); Atomics.notify(flag, 0) }
let ort, session
try {
  ort = await import(runtime)
  session = await ort.InferenceSession.create(model)
  port.postMessage({ ready: true, inputs: session.inputNames, outputs: session.outputNames })
} catch (e) {
  port.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) })
}
port.on("message", async ({ rows, cols, data }) => {
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", Float32Array.from(data), [rows, cols]) })
    port.postMessage({ values: Array.from(out[session.outputNames[0]].data, Number) })
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) })
  }
  raise()
})
`
const WORKER_URL = new URL("data:text/javascript," + encodeURIComponent(WORKER_SOURCE))

export interface OnnxSession {
  /** One output per input row (the first output of the model, flattened), or what went wrong. */
  readonly predict: (inputs: ReadonlyArray<ReadonlyArray<number>>) => ReadonlyArray<number> | string
  readonly close: () => void
}

/** Open `modelPath` in a worker with the installed runtime at `entry`; resolves once the session is ready. */
export const openOnnxSession = (entry: string, modelPath: string): Promise<OnnxSession | string> =>
  new Promise((resolve) => {
    // Loaded here: only an ONNX model needs node:worker_threads, not every start of the CLI.
    const { MessageChannel, receiveMessageOnPort, Worker } = process.getBuiltinModule("node:worker_threads")
    const { port1, port2 } = new MessageChannel()
    const shared = new SharedArrayBuffer(4)
    const flag = new Int32Array(shared)
    const worker = new Worker(WORKER_URL, {
      workerData: { port: port2, flag: shared, runtime: pathToFileURL(entry).href, model: modelPath },
      transferList: [port2]
    })
    // Neither keeps the process alive: the CLI exits when its work is done.
    worker.unref()
    const close = () => {
      port1.close()
      void worker.terminate()
    }
    worker.once("error", (e) => resolve(`the ONNX worker failed: ${e.message}`))
    port1.once("message", (m: { ready: boolean; error?: string }) => {
      port1.unref()
      if (!m.ready) {
        close()
        return resolve(m.error ?? "the ONNX session did not open")
      }
      resolve({
        close,
        predict: (inputs) => {
          if (inputs.length === 0) return []
          const cols = inputs[0].length
          Atomics.store(flag, 0, 0)
          port1.postMessage({ rows: inputs.length, cols, data: inputs.flat() })
          if (Atomics.wait(flag, 0, 0, PREDICT_TIMEOUT_MS) === "timed-out") return `no answer within ${PREDICT_TIMEOUT_MS / 1000} s`
          const reply = receiveMessageOnPort(port1)?.message as { values?: Array<number>; error?: string } | undefined
          if (reply?.values === undefined) return reply?.error ?? "no answer"
          return reply.values.length === inputs.length ? reply.values : `${reply.values.length} outputs for ${inputs.length} rows (expected one value per row)`
        }
      })
    })
  })
