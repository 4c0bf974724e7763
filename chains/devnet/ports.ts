import { createServer } from 'node:net'

/**
 * Asks the OS for a free TCP port on 127.0.0.1 (binds port 0, reads it, closes).
 * Use it for every anvil, libp2p or HTTP server a test or the devnet starts;
 * never hard-code ports, since several suites may run at once.
 *
 * @throws if the loopback interface cannot be bound.
 */
export async function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      if (addr === null || typeof addr === 'string') {
        srv.close()
        reject(new Error('could not read the bound port'))
        return
      }
      srv.close(() => resolve(addr.port))
    })
  })
}
