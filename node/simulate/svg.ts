/**
 * A small, dependency-free SVG line chart of one simulation run: the fair price and each strategy's aggregate pool
 * price per round, with a legend carrying each strategy's bad debt, slippage and cascades.
 */
import type { SimulationReport } from './run.js'

const COLORS = { fair: '#555555', naive: '#d62728', independent: '#ff7f0e', liqnet: '#2ca02c' } as const

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function fmt(x: number): string {
  const a = Math.abs(x)
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`
  if (a >= 1e3) return `${(x / 1e3).toFixed(1)}k`
  if (a >= 1) return x.toFixed(2)
  return x.toPrecision(3)
}

/** The chart as an SVG document (string). */
export function renderChart(r: SimulationReport): string {
  const W = 1000
  const H = 520
  const m = { left: 80, right: 20, top: 50, bottom: 150 }
  const series: { name: keyof typeof COLORS; values: number[] }[] = [
    { name: 'fair', values: r.fairPriceSeriesUsd },
    { name: 'naive', values: r.naive.priceSeriesUsd },
    { name: 'independent', values: r.independent.priceSeriesUsd },
    { name: 'liqnet', values: r.liqnet.priceSeriesUsd },
  ]
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v))
  let lo = Math.min(...all)
  let hi = Math.max(...all)
  if (hi === lo) hi = lo + 1
  const pad = (hi - lo) * 0.05
  lo -= pad
  hi += pad
  const n = Math.max(2, r.steps)
  const x = (i: number) => m.left + (i / (n - 1)) * (W - m.left - m.right)
  const y = (v: number) => m.top + (1 - (v - lo) / (hi - lo)) * (H - m.top - m.bottom)
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  out.push(`<text x="${m.left}" y="24" font-size="16" font-weight="bold">${esc(r.scenario)}: ${esc(r.collateralAsset)} price per round (USD)</text>`)
  // Axes and grid.
  for (let k = 0; k <= 5; k++) {
    const v = lo + ((hi - lo) * k) / 5
    out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`)
    out.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`)
  }
  for (let i = 0; i < n; i += Math.max(1, Math.round(n / 10))) {
    out.push(`<text x="${x(i).toFixed(1)}" y="${H - m.bottom + 16}" text-anchor="middle">${i}</text>`)
  }
  out.push(`<text x="${(W + m.left) / 2}" y="${H - m.bottom + 34}" text-anchor="middle">round</text>`)
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${H - m.bottom}" stroke="#333"/>`)
  out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${H - m.bottom}" y2="${H - m.bottom}" stroke="#333"/>`)
  for (const s of series) {
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
    const dash = s.name === 'fair' ? ' stroke-dasharray="5,4"' : ''
    out.push(`<polyline fill="none" stroke="${COLORS[s.name]}" stroke-width="2"${dash} points="${pts}"/>`)
  }
  // Legend with the figures.
  const ly = H - m.bottom + 56
  out.push(`<text x="${m.left}" y="${ly}" font-weight="bold">strategy</text>`)
  const cols = ['bad debt', 'slippage', 'incentive', 'cascades', 'bad debt + slippage']
  cols.forEach((c, k) => out.push(`<text x="${m.left + 170 + k * 120}" y="${ly}" font-weight="bold">${c} (${k < 3 || k === 4 ? esc(r.debtAsset) : 'count'})</text>`))
  const rows: [keyof typeof COLORS, string][] = [
    ['fair', 'fair price (external)'],
    ['naive', 'naive'],
    ['independent', 'independent'],
    ['liqnet', 'liqnet'],
  ]
  rows.forEach(([name, label], k) => {
    const yy = ly + 18 * (k + 1)
    out.push(`<line x1="${m.left}" x2="${m.left + 24}" y1="${yy - 4}" y2="${yy - 4}" stroke="${COLORS[name]}" stroke-width="3"${name === 'fair' ? ' stroke-dasharray="5,4"' : ''}/>`)
    out.push(`<text x="${m.left + 30}" y="${yy}">${label}</text>`)
    if (name === 'fair') return
    const s = r[name]
    ;[s.badDebt, s.slippage, s.incentivePaid, s.cascades, s.totalLoss].forEach((v, c) =>
      out.push(`<text x="${m.left + 170 + c * 120}" y="${yy}">${c === 3 ? String(v) : fmt(v)}</text>`),
    )
  })
  out.push('</svg>')
  return out.join('\n')
}
