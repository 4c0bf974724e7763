import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { registerSimulate } from '../../../node/cli/simulate.js'
import { loadScenario, parseScenario, runSimulation, ScenarioError } from '../../../node/simulate/index.js'

const DIR = 'scenarios/sim'
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort()

describe('simulator: shipped shock scenarios', function () {
  this.timeout(120_000)
  it('ships several scenarios', () => assert.ok(files.length >= 3, files.join(',')))
  for (const f of files) {
    it(`${f}: liqnet is never worse on bad debt, slippage or cascades, and strictly better on bad debt + slippage`, () => {
      const r = runSimulation(loadScenario(join(DIR, f)))
      const c = r.liqnet
      for (const other of [r.naive, r.independent]) {
        assert.ok(c.badDebt <= other.badDebt, `bad debt ${c.badDebt} > ${other.badDebt}`)
        assert.ok(c.slippage <= other.slippage, `slippage ${c.slippage} > ${other.slippage}`)
        assert.ok(c.cascades <= other.cascades, `cascades ${c.cascades} > ${other.cascades}`)
        assert.ok(BigInt(c.units.totalLoss) < BigInt(other.units.totalLoss), `total loss ${c.totalLoss} ≥ ${other.totalLoss}`)
      }
      assert.ok(r.naive.liquidations > 0 && r.liqnet.liquidations > 0, 'the shock liquidates nobody')
    })
  }
})

describe('simulator: scenario files and CLI', function () {
  this.timeout(120_000)
  it('rejects a malformed scenario, naming the fields', () => {
    const s = { name: 'x', seed: 1, steps: 1, collateral: { symbol: 'A', decimals: 18, priceUsd: 1 }, debt: { symbol: 'A', decimals: 6, priceUsd: 1 }, pricePath: [[0, 1]], pools: [], arbitrageSpeed: 2, markets: [] }
    assert.throws(
      () => parseScenario(s, 'bad.yaml'),
      (err: unknown) => {
        assert.ok(err instanceof ScenarioError)
        for (const field of ['steps', 'pools', 'arbitrageSpeed', 'markets']) assert.match(err.message, new RegExp(field))
        return true
      },
    )
  })

  it('`simulate --scenario FILE --json --out DIR` prints one JSON entry per strategy and writes the JSON and the SVG chart', async () => {
    const out = mkdtempSync(join(tmpdir(), 'liqnet-sim-'))
    // A small copy of a shipped scenario keeps the CLI test quick.
    const small = readFileSync(join(DIR, 'flash-crash-pool-oracle.yaml'), 'utf8').replace(/count: \d+/g, 'count: 40').replace('steps: 40', 'steps: 12')
    const file = join(out, 'small.yaml')
    writeFileSync(file, small)
    try {
      const lines: string[] = []
      const write = process.stdout.write.bind(process.stdout)
      process.stdout.write = ((chunk: string) => {
        lines.push(String(chunk))
        return true
      }) as typeof process.stdout.write
      try {
        const program = new Command().exitOverride()
        registerSimulate(program)
        await program.parseAsync(['node', 'liqnet', 'simulate', '--scenario', file, '--json', '--out', out])
      } finally {
        process.stdout.write = write
      }
      const json = JSON.parse(lines.join(''))
      for (const k of ['naive', 'independent', 'liqnet']) {
        for (const f of ['badDebt', 'slippage', 'incentivePaid', 'cascades']) assert.equal(typeof json[k][f], 'number', `${k}.${f}`)
        for (const f of ['badDebt', 'slippage', 'incentivePaid']) assert.equal(typeof json[k].usd[f], 'number', `${k}.usd.${f}`)
      }
      const name = json.scenario
      const svg = readFileSync(join(out, `${name}.svg`), 'utf8')
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
      assert.equal((svg.match(/<polyline/g) ?? []).length, 4)
      assert.ok(JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')).liqnet)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })
})
