import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { PreviewPanel, RestoreDialog } from '../../../web/src/restore-dialog.js'
import { backup, environment, preview } from './fixtures.js'

describe('restore dialog', () => {
  it('offers the target environments and the scopes, and waits for the preview', () => {
    const html = renderToStaticMarkup(
      <RestoreDialog
        backup={backup()}
        environments={[environment(), environment({ name: 'staging', type: 'staging' })]}
        onClose={() => undefined}
        onStarted={() => undefined}
      />,
    )
    expect(html).toContain('Restore snapshot 5d1e0b7a')
    expect(html).toContain('aria-labelledby="modal-title"')
    expect(html).toMatch(/<label for="[^"]+">Restore into<\/label>/)
    expect(html).toContain('develop (integration) — where it was taken')
    expect(html).toContain('staging (staging)')
    expect(html).toContain('Only the databases')
    expect(html).toContain('Only the mounts')
    expect(html).toContain('Comparing the snapshot with the environment…')
    // No confirmation before the preview is there.
    expect(html).toMatch(
      /<button type="submit" class="primary danger" disabled="">Yes, restore<\/button>/,
    )
  })

  const cases = [
    {
      name: 'loading',
      value: { state: 'loading' } as const,
      has: ['role="status"', 'Comparing the snapshot'],
    },
    {
      name: 'error',
      value: {
        state: 'error',
        message: 'The snapshot 5d1e0b7a cannot be restored: it is older than 7 days.',
      } as const,
      has: ['role="alert"', 'it is older than 7 days.'],
    },
    {
      name: 'ready',
      value: { state: 'ready', data: preview() } as const,
      has: [
        'mysql/shop',
        'pub/media',
        '3 (2.0 KiB)',
        '3 hours ago',
        'about 1 min 35 s',
        'Estimated duration',
        'The data of develop will be replaced: 2 table(s) and 3 file(s) change.',
        '0123456',
      ],
    },
    {
      name: 'nothing changes',
      value: {
        state: 'ready',
        data: preview({
          databases: [],
          mounts: [{ mount: 'pub/media', files: 4, bytes: 10, changed_files: 0, changed_bytes: 0 }],
          estimated_ms: 200,
        }),
      } as const,
      has: ['develop already matches the snapshot: nothing will change.', 'less than a second'],
    },
  ]
  it.each(cases)('shows the preview when $name', ({ value, has }) => {
    const html = renderToStaticMarkup(<PreviewPanel preview={value} />)
    for (const h of has) expect(html).toContain(h)
  })
})
