/**
 * Least squares and a hand-written SVG line plot for the soak report: no plotting
 * dependency, a few series over time in two panels (memory, event-loop delay).
 */

/** The slope of y over x by least squares (y units per x unit); NaN with fewer than two points. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length
  if (n < 2) return NaN
  let sx = 0, sy = 0, sxx = 0, sxy = 0
  for (const [x, y] of points) {
    sx += x
    sy += y
    sxx += x * x
    sxy += x * y
  }
  const d = n * sxx - sx * sx
  return d === 0 ? NaN : (n * sxy - sx * sy) / d
}

export interface Series {
  name: string
  color: string
  points: Array<[number, number]>
}

const W = 900
const PANEL_H = 260
const PAD = { left: 60, right: 180, top: 30, bottom: 40 }

function panel(title: string, unit: string, series: Series[], top: number): string {
  const all = series.flatMap((s) => s.points)
  const maxX = Math.max(1, ...all.map((p) => p[0]))
  const maxY = Math.max(1e-9, ...all.map((p) => p[1])) * 1.1
  const x = (v: number) => PAD.left + (v / maxX) * (W - PAD.left - PAD.right)
  const y = (v: number) => top + PANEL_H - PAD.bottom - (v / maxY) * (PANEL_H - PAD.top - PAD.bottom)
  const out = [`<text x="${PAD.left}" y="${top + 20}" font-size="14" font-weight="bold">${title}</text>`]
  out.push(`<line x1="${PAD.left}" y1="${y(0)}" x2="${W - PAD.right}" y2="${y(0)}" stroke="#888"/><line x1="${PAD.left}" y1="${y(0)}" x2="${PAD.left}" y2="${y(maxY)}" stroke="#888"/>`)
  for (let i = 0; i <= 4; i++) {
    const v = (maxY / 4) * i
    out.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}</text>`)
    const t = (maxX / 4) * i
    out.push(`<text x="${x(t)}" y="${y(0) + 16}" font-size="11" text-anchor="middle">${(t / 60).toFixed(1)} min</text>`)
  }
  out.push(`<text x="12" y="${top + PANEL_H / 2}" font-size="11" transform="rotate(-90 12 ${top + PANEL_H / 2})">${unit}</text>`)
  series.forEach((s, i) => {
    const d = s.points.map(([px, py], j) => `${j === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ')
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`)
    out.push(`<rect x="${W - PAD.right + 15}" y="${top + 30 + i * 18}" width="12" height="3" fill="${s.color}"/><text x="${W - PAD.right + 32}" y="${top + 35 + i * 18}" font-size="11">${s.name}</text>`)
  })
  return out.join('\n')
}

/** An SVG with a memory panel and an event-loop panel; x is seconds since the start. */
export function soakSvg(title: string, memory: Series[], loop: Series[]): string {
  const h = PANEL_H * 2 + 30
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="18" font-size="15" text-anchor="middle">${title}</text>`,
    panel('Memory', 'MB', memory, 20),
    panel('Event-loop delay p99', 'ms', loop, 20 + PANEL_H),
    '</svg>',
    '',
  ].join('\n')
}
