// A line chart in a few lines of SVG: the last `windowMs` of samples, a zero-based y axis
// rounded up to a readable maximum, one polyline per series (coloured by CSS class). Until
// the samples span the window, the x axis spans them (at least a minute), so a page just
// opened does not draw its first seconds against the right edge.

const NS = 'http://www.w3.org/2000/svg'
const W = 600
const H = 150
const PAD = { left: 44, right: 8, top: 8, bottom: 18 }
const MIN_SPAN_MS = 60_000

function svgEl(tag, attrs = {}) {
  const el = document.createElementNS(NS, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  return el
}

function niceMax(value) {
  if (value <= 0) return 1
  const magnitude = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude
  return 10 * magnitude
}

function formatValue(v) {
  return v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : String(Number(v.toFixed(2)))
}

export class LineChart {
  /** `series`: [{ key, label, className }]; the legend shows each one's latest value. */
  constructor(svg, legend, series, windowMs) {
    this.svg = svg
    this.legend = legend
    this.series = series
    this.windowMs = windowMs
    this.samples = []
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`)
  }

  push(time, values) {
    this.samples.push({ time, values })
    const oldest = time - this.windowMs
    while (this.samples.length > 0 && this.samples[0].time < oldest) this.samples.shift()
    this.draw()
  }

  clear() {
    this.samples = []
    this.draw()
  }

  draw() {
    const svg = this.svg
    svg.replaceChildren()
    const last = this.samples.at(-1)
    const now = last?.time ?? Date.now()
    let max = 0
    for (const s of this.samples) for (const { key } of this.series) max = Math.max(max, s.values[key] ?? 0)
    max = niceMax(max)
    const span = Math.min(this.windowMs, Math.max(MIN_SPAN_MS, now - (this.samples[0]?.time ?? now)))
    const x = (t) => PAD.left + ((t - (now - span)) / span) * (W - PAD.left - PAD.right)
    const y = (v) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom)
    for (const v of [0, max / 2, max]) {
      svg.append(svgEl('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }))
      const label = svgEl('text', { x: PAD.left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' })
      label.textContent = formatValue(v)
      svg.append(label)
    }
    const caption = svgEl('text', { x: PAD.left, y: H - 3, class: 'axis' })
    caption.textContent = span < 120_000 ? `last ${Math.round(span / 1000)} s` : `last ${Math.round(span / 60000)} min`
    svg.append(caption)
    for (const { key, className } of this.series) {
      const points = this.samples.filter((s) => s.values[key] !== undefined).map((s) => `${x(s.time).toFixed(1)},${y(s.values[key]).toFixed(1)}`)
      if (points.length > 0) svg.append(svgEl('polyline', { points: points.join(' '), class: `line ${className}` }))
    }
    this.legend.replaceChildren(
      ...this.series.map(({ key, label, className }) => {
        const item = document.createElement('span')
        item.className = `legend ${className}`
        item.dataset.key = key
        const value = last?.values[key]
        item.textContent = `${label}: ${value === undefined ? '–' : formatValue(value)}`
        return item
      }),
    )
  }
}
