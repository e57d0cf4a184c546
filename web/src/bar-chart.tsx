/** One bar: its label on the time axis, its value, and what else its figures row says. */
export interface Bar {
  readonly label: string
  readonly value: number
  readonly tone?: 'ok' | 'bad' | 'alt'
  readonly detail?: string
}

/**
 * A bar chart in SVG that scales with its box, with the figures as a table beside it for
 * screen readers and for anyone who would rather read.
 */
export function BarChart({
  title,
  bars,
  format,
}: {
  title: string
  bars: readonly Bar[]
  format: (v: number) => string
}) {
  const max = Math.max(1, ...bars.map((b) => b.value))
  const w = 600
  const h = 180
  const gap = 4
  const bw = bars.length > 0 ? Math.max(2, (w - gap * bars.length) / bars.length) : 0
  const details = bars.some((b) => b.detail !== undefined)
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {bars.length === 0 ? (
        <p className="empty">Nothing to show yet.</p>
      ) : (
        <>
          <svg
            viewBox={`0 0 ${w} ${h + 20}`}
            role="img"
            aria-label={`${title}: ${bars.length} values, largest ${format(max)}`}
            preserveAspectRatio="none"
          >
            <line x1="0" y1={h} x2={w} y2={h} className="axis" />
            <text x="2" y="12" className="tick">
              {format(max)}
            </text>
            {bars.map((b, i) => {
              const bh = Math.max(1, (b.value / max) * (h - 20))
              return (
                <rect
                  key={i}
                  x={i * (bw + gap)}
                  y={h - bh}
                  width={bw}
                  height={bh}
                  className={`bar ${b.tone ?? ''}`}
                >
                  <title>{`${b.label}: ${format(b.value)}${b.detail ? ` (${b.detail})` : ''}`}</title>
                </rect>
              )
            })}
            <text x="0" y={h + 16} className="tick">
              {bars[0]!.label}
            </text>
            <text x={w} y={h + 16} className="tick" textAnchor="end">
              {bars[bars.length - 1]!.label}
            </text>
          </svg>
          <details>
            <summary>Figures</summary>
            <table className="compact">
              {details && (
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">{title}</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
              )}
              <tbody>
                {bars.map((b, i) => (
                  <tr key={i}>
                    <th scope="row">{b.label}</th>
                    <td>{format(b.value)}</td>
                    {details && <td>{b.detail ?? ''}</td>}
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </figure>
  )
}
