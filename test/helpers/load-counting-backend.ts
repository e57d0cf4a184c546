import { afterAll } from 'vitest'
import {
  Repository,
  RepoReader,
  type Backend,
  type Handle,
  type LoadOptions,
} from '../../src/repo/index.js'

/**
 * A real backend, wrapped to record every load of a data file (where blobs live): name,
 * range and signal. Being a wrapper, it also stands for a remote backend where code tells
 * a bare LocalBackend apart (BlobLoader). Subclasses may hold loads (`beforeLoad`).
 */
export class LoadCountingBackend implements Backend {
  readonly loads: { name: string; offset: number; length: number }[] = []
  readonly signals: (AbortSignal | undefined)[] = []

  constructor(protected readonly inner: Backend) {}
  get location(): string {
    return this.inner.location
  }
  get connections(): number {
    return this.inner.connections
  }
  create: Backend['create'] = (o) => this.inner.create(o)
  save: Backend['save'] = (h, d, o) => this.inner.save(h, d, o)
  stat: Backend['stat'] = (h, o) => this.inner.stat(h, o)
  list: Backend['list'] = (t, o) => this.inner.list(t, o)
  remove: Backend['remove'] = (h, o) => this.inner.remove(h, o)
  close: Backend['close'] = () => this.inner.close()

  /** Called for each data load after it is recorded, before it reaches the inner backend. */
  protected async beforeLoad(_h: Handle, _opts?: LoadOptions): Promise<void> {}

  async load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
    if (h.type === 'data') {
      this.loads.push({ name: h.name, offset: opts?.offset ?? 0, length: opts?.length ?? -1 })
      this.signals.push(opts?.signal)
      await this.beforeLoad(h, opts)
    }
    return this.inner.load(h, opts)
  }
}

/**
 * Opens readers on repositories of one password for a test file, and closes them all after
 * it (the crypto workers would otherwise outlive the file's tests).
 */
export function readerOpener(password: string): (backend: Backend) => Promise<RepoReader> {
  const readers: RepoReader[] = []
  afterAll(async () => {
    await Promise.all(readers.splice(0).map((r) => r.repo.close()))
  })
  return async (backend) => {
    const repo = await Repository.open({ backend, password })
    const reader = await RepoReader.open(repo)
    readers.push(reader)
    return reader
  }
}
