/**
 * Scenario validation (chains/devnet/scenario.ts): the shipped scenarios parse, and each broken rule,
 * from a wrong type to a cross-field rule, gives an InvalidScenarioError naming the field path and the rule.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  InvalidScenarioError,
  ScenarioFileError,
  loadScenario,
  morphoOraclePrice,
  parseScenario,
  parseScenarioText,
  type ScenarioInput,
} from '../../chains/devnet/scenario.js'
import { BaseError } from '../../protocol/errors.js'

/** A valid two-chain scenario; each case breaks one thing in a copy. */
function valid(): any {
  const chain = (name: string, chainId: number, eid: number) => ({
    name,
    chainId,
    eid,
    blockTimeMs: 0,
    tokens: [
      { symbol: 'WETH', decimals: 18, priceUsd: '3000' },
      { symbol: 'USDC', decimals: 6, priceUsd: 1 },
    ],
    morpho: { markets: [{ collateral: 'WETH', loan: 'USDC', lltv: '0.86', supply: '100000' }] },
    aave: {
      reserves: [
        { symbol: 'WETH', ltvBps: 8000, liquidationThresholdBps: 8250, liquidationBonusBps: 10500, supply: '10' },
        { symbol: 'USDC', ltvBps: 7500, liquidationThresholdBps: 8000, liquidationBonusBps: 10450, supply: '100000' },
      ],
    },
    uniswapV2: { pairs: [{ tokens: ['WETH', 'USDC'], reserves: ['10', '30000'] }] },
    borrowers: [
      { name: 'alice', positions: [{ protocol: 'morpho', market: 'WETH/USDC', collateral: '1', borrow: '2000' }] },
      { name: 'bob', positions: [{ protocol: 'aave', collateral: { WETH: '1' }, borrow: { USDC: '2000' } }] },
    ],
  })
  return {
    name: 'unit',
    chains: [chain('alpha', 1001, 40001), chain('beta', 1002, 40002)],
    pricePath: [{ atSeconds: 5, symbol: 'WETH', priceUsd: '2400' }],
  }
}

/** Asserts that `mutate(valid())` is refused with an issue at `path` whose message matches `rule`. */
function refuses(mutate: (s: any) => void, path: string, rule: RegExp): InvalidScenarioError {
  const s = valid()
  mutate(s)
  let caught: unknown
  try {
    parseScenario(s, 'case')
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof InvalidScenarioError, `expected InvalidScenarioError, got ${String(caught)}`)
  assert.ok(caught instanceof BaseError)
  assert.equal(caught.name, 'InvalidScenarioError')
  const issue = caught.issues.find((i) => i.path === path)
  assert.ok(issue, `no issue at ${path}; issues: ${JSON.stringify(caught.issues)}`)
  assert.match(issue.message, rule)
  assert.match(caught.message, new RegExp(path.replace(/[[\].]/g, (c) => `\\${c}`)))
  return caught
}

describe('devnet scenario validation', function () {
  it('accepts a valid scenario, fills defaults and normalises numbers to decimal strings', function () {
    const s = parseScenario(valid())
    assert.equal(s.chains.length, 2)
    assert.equal(s.chains[0].tokens[1].priceUsd, '1')
    assert.equal(s.chains[0].automine, false)
    assert.equal(s.chains[0].borrowers[0].positions[0].protocol, 'morpho')
    assert.equal(s.chains[0].aave!.reserves[0].borrowingEnabled, true)
    // Idempotent: a validated scenario is a valid input.
    assert.deepEqual(parseScenario(s as ScenarioInput), s)
  })

  it('parses the shipped scenarios (YAML with anchors and merge keys)', function () {
    const test = loadScenario('scenarios/devnet/test.yaml')
    assert.equal(test.chains.length, 2)
    assert.deepEqual(test.chains.map((c) => c.eid), [40101, 40102])
    for (const c of test.chains) {
      assert.ok(c.morpho!.markets.length >= 1 && c.aave!.reserves.length >= 1 && c.uniswapV2!.pairs.length >= 2)
    }
    const def = loadScenario('scenarios/devnet/default.yaml')
    assert.equal(def.chains.length, 2)
    assert.ok(def.chains.reduce((n, c) => n + c.borrowers.length, 0) >= 50)
    assert.ok(def.pricePath.length > 0)
  })

  it('reads JSON text as well as YAML, and reports a syntax error as ScenarioFileError', function () {
    const json = JSON.stringify(valid())
    assert.equal(parseScenarioText(json).name, 'unit')
    assert.throws(() => parseScenarioText('{"chains": [', 'json'), (e: unknown) => e instanceof ScenarioFileError)
    assert.throws(() => parseScenarioText('chains: [a, b\n  - c'), (e: unknown) => e instanceof ScenarioFileError)
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'))
    try {
      writeFileSync(join(dir, 's.json'), json)
      assert.equal(loadScenario(join(dir, 's.json')).chains.length, 2)
      assert.throws(() => loadScenario(join(dir, 'missing.yaml')), (e: unknown) => e instanceof ScenarioFileError && /read/.test(e.message))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  describe('field rules', function () {
    const cases: [string, (s: any) => void, string, RegExp][] = [
      ['missing chains', (s) => delete s.chains, 'chains', /is required/],
      ['empty chains', (s) => (s.chains = []), 'chains', /at least one chain/],
      ['unknown field (typo)', (s) => (s.chains[0].tokes = []), 'chains[0].tokes', /unknown field/],
      ['chainId not an integer', (s) => (s.chains[0].chainId = 1.5), 'chains[0].chainId', /positive integer/],
      ['chainId a string', (s) => (s.chains[0].chainId = '1'), 'chains[0].chainId', /positive integer/],
      ['eid too large', (s) => (s.chains[1].eid = 2 ** 32), 'chains[1].eid', /at most/],
      ['negative block time', (s) => (s.chains[0].blockTimeMs = -1), 'chains[0].blockTimeMs', /at least 0/],
      ['bad symbol', (s) => (s.chains[0].tokens[0].symbol = 'W ETH'), 'chains[0].tokens[0].symbol', /token symbol/],
      ['decimals > 36', (s) => (s.chains[0].tokens[0].decimals = 40), 'chains[0].tokens[0].decimals', /at most 36/],
      ['price not a number', (s) => (s.chains[0].tokens[0].priceUsd = 'abc'), 'chains[0].tokens[0].priceUsd', /decimal number/],
      ['negative price', (s) => (s.chains[0].tokens[0].priceUsd = -3), 'chains[0].tokens[0].priceUsd', /decimal number/],
      ['zero price', (s) => (s.chains[0].tokens[0].priceUsd = '0'), 'chains[0].tokens[0].priceUsd', /greater than 0/],
      ['price with 9 decimals', (s) => (s.chains[0].tokens[0].priceUsd = '1.000000001'), 'chains[0].tokens[0].priceUsd', /at most 8 decimals/],
      ['unknown protocol', (s) => (s.chains[0].borrowers[0].positions[0].protocol = 'compound'), 'chains[0].borrowers[0].positions[0].protocol', /"morpho" or "aave"/],
      ['pair with one token', (s) => (s.chains[0].uniswapV2.pairs[0].tokens = ['WETH']), 'chains[0].uniswapV2.pairs[0].tokens', /two token symbols/],
      ['bps above range', (s) => (s.chains[0].aave.reserves[0].ltvBps = 10_000), 'chains[0].aave.reserves[0].ltvBps', /at most 9999/],
    ]
    for (const [title, mutate, path, rule] of cases) it(`${title} → ${path}`, () => void refuses(mutate, path, rule))
  })

  describe('cross-field rules', function () {
    const cases: [string, (s: any) => void, string, RegExp][] = [
      ['duplicate chain name', (s) => (s.chains[1].name = 'alpha'), 'chains[1].name', /must be unique/],
      ['duplicate chainId', (s) => (s.chains[1].chainId = 1001), 'chains[1].chainId', /must be unique/],
      ['duplicate EID', (s) => (s.chains[1].eid = 40001), 'chains[1].eid', /must be unique/],
      ['duplicate token symbol', (s) => (s.chains[0].tokens[1].symbol = 'WETH'), 'chains[0].tokens[1].symbol', /must be unique/],
      ['unknown token in a Morpho market', (s) => (s.chains[0].morpho.markets[0].loan = 'DAI'), 'chains[0].morpho.markets[0].loan', /unknown token symbol "DAI"/],
      ['loan = collateral', (s) => (s.chains[0].morpho.markets[0].loan = 'WETH'), 'chains[0].morpho.markets[0].collateral', /differ/],
      ['lltv = 1', (s) => (s.chains[0].morpho.markets[0].lltv = '1'), 'chains[0].morpho.markets[0].lltv', /below 1/],
      ['lltv > 1', (s) => (s.chains[0].morpho.markets[0].lltv = 1.2), 'chains[0].morpho.markets[0].lltv', /below 1/],
      ['lltv = 0', (s) => (s.chains[0].morpho.markets[0].lltv = '0'), 'chains[0].morpho.markets[0].lltv', /above 0/],
      ['duplicate market name', (s) => s.chains[0].morpho.markets.push({ ...s.chains[0].morpho.markets[0] }), 'chains[0].morpho.markets[1].name', /must be unique/],
      ['amount finer than the token', (s) => (s.chains[0].morpho.markets[0].supply = '1.0000001'), 'chains[0].morpho.markets[0].supply', /at most 6 decimals/],
      ['Aave ltv above threshold', (s) => (s.chains[0].aave.reserves[0].ltvBps = 8500), 'chains[0].aave.reserves[0].ltvBps', /liquidationThresholdBps/],
      ['Aave bonus not above 100%', (s) => (s.chains[0].aave.reserves[0].liquidationBonusBps = 10000), 'chains[0].aave.reserves[0].liquidationBonusBps', /above 10000/],
      ['Aave threshold × bonus > 100%', (s) => (s.chains[0].aave.reserves[0].liquidationThresholdBps = 9600), 'chains[0].aave.reserves[0].liquidationBonusBps', /100%/],
      ['Aave reserve of an unknown token', (s) => (s.chains[0].aave.reserves[0].symbol = 'WBTC'), 'chains[0].aave.reserves[0].symbol', /unknown token symbol/],
      ['duplicate Aave reserve', (s) => (s.chains[0].aave.reserves[1].symbol = 'WETH'), 'chains[0].aave.reserves[1].symbol', /must be unique/],
      ['pair of a token with itself', (s) => (s.chains[0].uniswapV2.pairs[0].tokens = ['WETH', 'WETH']), 'chains[0].uniswapV2.pairs[0].tokens[1]', /differ/],
      ['second pair of the same tokens', (s) => s.chains[0].uniswapV2.pairs.push({ name: 'again', tokens: ['USDC', 'WETH'], reserves: ['1', '1'] }), 'chains[0].uniswapV2.pairs[1].tokens', /one pair per token couple/],
      ['zero reserve', (s) => (s.chains[0].uniswapV2.pairs[0].reserves = ['0', '1']), 'chains[0].uniswapV2.pairs[0].reserves[0]', /greater than 0/],
      ['position in an unknown market', (s) => (s.chains[0].borrowers[0].positions[0].market = 'WBTC/USDC'), 'chains[0].borrowers[0].positions[0].market', /unknown Morpho market/],
      ['Morpho borrow above the LLTV at deploy time', (s) => (s.chains[0].borrowers[0].positions[0].borrow = '2600'), 'chains[0].borrowers[0].positions[0].borrow', /above the LLTV.*at most 2579\.999999 USDC/],
      ['Aave borrow above the LTV at deploy time', (s) => (s.chains[1].borrowers[1].positions[0].borrow = { USDC: '2401' }), 'chains[1].borrowers[1].positions[0].borrow', /above the LTV/],
      ['Aave borrow of an unknown reserve', (s) => (s.chains[0].borrowers[1].positions[0].borrow = { WBTC: '1' }), 'chains[0].borrowers[1].positions[0].borrow.WBTC', /unknown Aave reserve/],
      ['Aave borrow of a non-borrowable reserve', (s) => (s.chains[0].aave.reserves[1].borrowingEnabled = false), 'chains[0].borrowers[1].positions[0].borrow.USDC', /borrowingEnabled: false/],
      ['borrows above the supplied liquidity', (s) => (s.chains[0].morpho.markets[0].supply = '1000'), 'chains[0].morpho.markets[0].supply', /must cover the borrowers' total borrow of 2000 USDC/],
      ['duplicate borrower', (s) => (s.chains[0].borrowers[1].name = 'alice'), 'chains[0].borrowers[1].name', /must be unique/],
      ['price step on an unknown chain', (s) => (s.pricePath[0].chain = 'gamma'), 'pricePath[0].chain', /unknown chain "gamma"/],
      ['price step of an unknown symbol', (s) => (s.pricePath[0].symbol = 'DOGE'), 'pricePath[0].symbol', /unknown token symbol/],
      ['price steps out of order', (s) => s.pricePath.push({ atSeconds: 1, symbol: 'WETH', priceUsd: '1' }), 'pricePath[1].atSeconds', /not be earlier/],
    ]
    for (const [title, mutate, path, rule] of cases) it(`${title} → ${path}`, () => void refuses(mutate, path, rule))

    it('accepts a borrow right at the LLTV limit less one unit, and the Morpho price mirrors MorphoFeedOracle', function () {
      // 1 WETH at $3000, LLTV 0.86 → max borrow 2580 USDC; keep 1 wei (1e-6 USDC) for Morpho's share rounding.
      const s = valid()
      s.chains[0].borrowers[0].positions[0].borrow = '2579.999999'
      assert.doesNotThrow(() => parseScenario(s))
      // price = collateralUsd / loanUsd · 10^(36 + 6 − 18)
      assert.equal(morphoOraclePrice(3000n * 10n ** 8n, 18, 10n ** 8n, 6), 3000n * 10n ** 24n)
    })

    it('lists every broken rule, not only the first', function () {
      const err = refuses((s) => {
        s.chains[1].eid = 40001
        s.chains[0].morpho.markets[0].lltv = '1'
      }, 'chains[1].eid', /must be unique/)
      assert.ok(err.issues.some((i) => i.path === 'chains[0].morpho.markets[0].lltv'))
      assert.ok(err.metaMessages!.some((m) => m.startsWith('chains[0].morpho.markets[0].lltv')))
    })
  })
})
