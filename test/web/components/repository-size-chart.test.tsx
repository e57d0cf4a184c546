import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import type { RepositorySizeSample } from '../../../web/src/api-types.js'
import { BarChart } from '../../../web/src/bar-chart.js'
import { formatBytes } from '../../../web/src/format.js'
import { repositorySizeBars } from '../../../web/src/operator/repository-size-chart.js'

function sample(at: string, stored: number, snapshots = 1): RepositorySizeSample {
  return {
    taken_at: at,
    stored_bytes: stored,
    packs: 2,
    snapshots,
    snapshot_bytes: 3 * stored,
  }
}

describe('repository size chart', () => {
  it('draws one bar per sample while they are few, with the figures in words', () => {
    const bars = repositorySizeBars([
      sample('2026-03-08T17:07:00.000Z', 1 << 20),
      sample('2026-03-08T18:00:00.000Z', 2 << 20, 2),
    ])
    expect(bars).toEqual([
      {
        label: '2026-03-08 17:07',
        value: 1 << 20,
        detail: '2 packs; 1 snapshot, 3.0 MiB before deduplication',
      },
      {
        label: '2026-03-08 18:00',
        value: 2 << 20,
        detail: '2 packs; 2 snapshots, 6.0 MiB before deduplication',
      },
    ])
  })

  it('draws the last sample of each day when there are many', () => {
    const samples: RepositorySizeSample[] = []
    for (let day = 1; day <= 3; day++)
      for (let hour = 0; hour < 24; hour++)
        samples.push(
          sample(`2026-03-0${day}T${String(hour).padStart(2, '0')}:00:00.000Z`, day * 1000 + hour),
        )
    expect(repositorySizeBars(samples).map((b) => [b.label, b.value])).toEqual([
      ['2026-03-01', 1023],
      ['2026-03-02', 2023],
      ['2026-03-03', 3023],
    ])
  })

  it('gives the figures as a table with a header when bars carry details', () => {
    const html = renderToStaticMarkup(
      <BarChart
        title="Repository size, shop"
        bars={repositorySizeBars([sample('2026-03-08T17:07:00.000Z', 5 << 20)])}
        format={formatBytes}
      />,
    )
    expect(html).toContain('<figcaption>Repository size, shop</figcaption>')
    expect(html).toContain('aria-label="Repository size, shop: 1 values, largest 5.0 MiB"')
    expect(html).toContain(
      '<thead><tr><th scope="col">When</th><th scope="col">Repository size, shop</th><th scope="col">Details</th></tr></thead>',
    )
    expect(html).toContain(
      '<tr><th scope="row">2026-03-08 17:07</th><td>5.0 MiB</td><td>2 packs; 1 snapshot, 15 MiB before deduplication</td></tr>',
    )
    // Charts whose bars have no details keep their two columns.
    const plain = renderToStaticMarkup(
      <BarChart title="Snapshot sizes" bars={[{ label: 'a', value: 1 }]} format={String} />,
    )
    expect(plain).not.toContain('<thead>')
    expect(plain).toContain('<tr><th scope="row">a</th><td>1</td></tr>')
  })
})
