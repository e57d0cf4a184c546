import type { Backup, Environment, RestorePreview } from '../../../web/src/api-types.js'

export const NOW = Date.parse('2026-03-08T17:07:01Z')

export function backup(over: Partial<Backup> = {}): Backup {
  return {
    id: '5d1e0b7a',
    project: 'shop',
    environment: 'develop',
    created_at: '2026-03-08T17:07:01.000Z',
    restorable: true,
    expires_at: '2026-03-15T17:07:01.000Z',
    automated: false,
    live: false,
    size: 5 * 1024 * 1024,
    commit: '0123456789abcdef0123456789abcdef01234567',
    created_by: 'alice',
    pause_ms: 840,
    status: 'available',
    ...over,
  }
}

export function environment(over: Partial<Environment> = {}): Environment {
  return {
    project: 'shop',
    name: 'develop',
    type: 'integration',
    status: 'active',
    services: [],
    mounts: [{ name: 'pub/media', path: '/srv/shop/pub/media' }],
    git_dir: null,
    label: null,
    created_at: '2026-03-01T00:00:00.000Z',
    role: 'admin',
    active_activity: null,
    automatic_backups: false,
    can_create_snapshot: { allowed: true },
    ...over,
  }
}

export function preview(over: Partial<RestorePreview> = {}): RestorePreview {
  return {
    backup: backup(),
    target: 'develop',
    age_ms: 3 * 3_600_000,
    databases: [{ service: 'mysql', database: 'shop', tables: 12, bytes: 4096, changed_tables: 2 }],
    mounts: [
      { mount: 'pub/media', files: 40, bytes: 81920, changed_files: 3, changed_bytes: 2048 },
    ],
    bytes_to_restore: 6144,
    estimated_ms: 95_000,
    ...over,
  }
}
