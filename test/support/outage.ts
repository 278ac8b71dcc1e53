import { startNode, stopNode, type TestbedNodeName } from './testbed.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** What a stream of reads saw while a node was stopped and started again. */
export interface OutageResult {
  /** The port that served each successful read, in order. */
  served: number[]
  /** Reads that threw. */
  failures: number
  /** Index in `served` of the first read after the node was started again. */
  restartedAt: number
}

/**
 * Reads in a loop (`read` returns the port that served it) while `node` is stopped, then
 * started again; returns once a read after the restart was served by `port` (or after 15 s).
 */
export async function readsThroughOutage(node: TestbedNodeName, port: number, read: () => Promise<number>): Promise<OutageResult> {
  const served: number[] = []
  let failures = 0
  let stop = false
  const reader = (async () => {
    while (!stop) {
      try {
        served.push(await read())
      } catch {
        failures++
      }
      await sleep(5)
    }
  })()
  await sleep(300)
  await stopNode(node)
  await sleep(800)
  const restartedAt = served.length
  await startNode(node)
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline && !served.slice(restartedAt).includes(port)) await sleep(50)
  stop = true
  await reader
  return { served, failures, restartedAt }
}
