/**
 * Benchmark dispatcher: `npm run bench` runs every benchmark; `npm run bench -- <name> [args...]`
 * runs `test/bench/<name>.ts`. Each benchmark prints one JSON object per line on stdout.
 * Benchmarks are not tests: they are never part of `npm test`.
 */
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

type Bench = { run(args: string[]): Promise<void> }

const here = dirname(fileURLToPath(import.meta.url))
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort()

async function runOne(name: string, args: string[]): Promise<void> {
  if (!available.includes(name)) {
    process.stderr.write(`unknown benchmark "${name}"; available: ${available.join(', ')}\n`)
    process.exit(2)
  }
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as Bench
  await mod.run(args)
}

const [name, ...args] = process.argv.slice(2)
if (name === '--help' || name === '-h') {
  process.stdout.write(`usage: npm run bench [-- <name> [args...]]\nbenchmarks: ${available.join(', ')}\n`)
} else if (name) {
  await runOne(name, args)
} else {
  for (const n of available) await runOne(n, [])
}
process.exit(0)
