/**
 * Devnet start-up benchmark: the two-chain default scenario deployed from nothing
 * (cold) and reloaded from its dumped state (warm), in a scratch state directory.
 *
 * `npm run bench -- devnet [runs]` prints one JSON line:
 * `{"bench":"devnet","scenario":"default","chains":2,"runs":N,"devnetColdStartSeconds":median,"devnetWarmStartSeconds":median,...}`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDevnet } from '../../chains/devnet/devnet.js'
import { repoRoot } from '../../contracts/artifacts.js'

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export async function run(args: string[]): Promise<void> {
  const runs = Math.max(1, Number(args[0] ?? 3))
  const scenario = join(repoRoot, 'scenarios', 'devnet', 'default.yaml')
  const cold: number[] = []
  const warm: number[] = []
  let chains = 0
  for (let i = 0; i < runs; i++) {
    const stateDir = mkdtempSync(join(tmpdir(), 'liqnet-bench-devnet-'))
    try {
      const c = await startDevnet({ scenario, stateDir, fresh: true, log: () => {} })
      chains = c.chains.length
      cold.push(c.startSeconds)
      await c.stop()
      const w = await startDevnet({ scenario, stateDir, log: () => {} })
      if (w.coldStart) throw new Error('expected a warm start from the dumped state')
      warm.push(w.startSeconds)
      await w.stop()
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  }
  const coldMedian = median(cold)
  const warmMedian = median(warm)
  process.stdout.write(
    JSON.stringify({
      bench: 'devnet',
      scenario: 'default',
      chains,
      runs,
      devnetColdStartSeconds: coldMedian,
      devnetWarmStartSeconds: warmMedian,
      coldMinMax: [Math.min(...cold), Math.max(...cold)],
      warmMinMax: [Math.min(...warm), Math.max(...warm)],
      warmOverCold: Number((warmMedian / coldMedian).toFixed(3)),
    }) + '\n',
  )
}
