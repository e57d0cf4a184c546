import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { BackupButton } from '../../../web/src/backup-button.js'
import { SnapshotList, type Filter } from '../../../web/src/snapshot-list.js'
import type { Loaded } from '../../../web/src/use-load.js'
import type { Backup } from '../../../web/src/api-types.js'
import { backup, environment } from './fixtures.js'

function list(backups: Loaded<readonly Backup[]>, filter: Filter = 'all'): string {
  return renderToStaticMarkup(
    <SnapshotList
      backups={backups}
      filter={filter}
      onFilter={() => undefined}
      onRestore={() => undefined}
      onDelete={() => undefined}
      canChange={undefined}
    />,
  )
}

describe('Saved list', () => {
  const cases = [
    { name: 'loading', html: () => list({ state: 'loading' }), has: 'Loading the snapshots…' },
    {
      name: 'error',
      html: () => list({ state: 'error', message: 'The environment is not active.' }),
      has: '<p class="error" role="alert">The environment is not active.</p>',
    },
    { name: 'empty', html: () => list({ state: 'ready', data: [] }), has: 'No snapshots yet.' },
    {
      name: 'empty, automatic only',
      html: () => list({ state: 'ready', data: [] }, 'automatic'),
      has: 'No automatic backups.',
    },
  ]
  it.each(cases)('shows the state: $name', ({ html, has }) => {
    expect(html()).toContain(has)
  })

  it('lists snapshots with their columns, restorable or expired', () => {
    const html = list({
      state: 'ready',
      data: [
        backup(),
        backup({
          id: 'aaaabbbb',
          restorable: false,
          status: 'expired',
          live: true,
          automated: true,
          created_by: null,
          commit: null,
        }),
      ],
    })
    expect(html).toContain('<code>5d1e0b7a</code>')
    expect(html).toContain('5.0 MiB')
    expect(html).toContain('consistent')
    expect(html).toContain('pause 840 ms')
    expect(html).toContain('Restorable')
    expect(html).toContain('Expired — not restorable')
    expect(html).toContain('automatic')
    expect(html).toContain('schedule')
    expect(html).toContain('aria-label="More actions for snapshot aaaabbbb"')
    expect(html).toContain('aria-pressed="true">All</button>')
  })
})

describe('Backup button', () => {
  it('is disabled with the reason where manual snapshots are not allowed', () => {
    const reason =
      'Manual snapshots are not available on Pro staging and production environments: they are backed up automatically.'
    const html = renderToStaticMarkup(
      <BackupButton
        environment={environment({
          type: 'production',
          can_create_snapshot: { allowed: false, reason },
        })}
        onStarted={() => undefined}
      />,
    )
    const describedBy = /aria-describedby="([^"]+)"/.exec(html)?.[1]
    expect(html).toMatch(/<button type="button" class="primary" disabled=""[^>]*>Backup<\/button>/)
    expect(html).toContain(`<p id="${describedBy}" class="reason" role="note">${reason}</p>`)
  })

  it('is enabled with the live option where allowed', () => {
    const html = renderToStaticMarkup(
      <BackupButton environment={environment()} onStarted={() => undefined} />,
    )
    expect(html).not.toContain('disabled')
    expect(html).toContain('Live')
    expect(html).toContain('Consistent: writes are held for about a second')
  })
})
