/** Writes data to stdout (one place, so commands stay free of process plumbing). */
export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
}

/** Writes a message to stderr. */
export function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`)
}

/** Whether progress may be drawn: only on a terminal. */
export function isInteractive(): boolean {
  return Boolean(process.stderr.isTTY)
}

/** Bytes in restic's units (KiB, MiB, GiB). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${v} ${units[i]}` : `${v.toFixed(3)} ${units[i]}`
}

/** A one-line progress display on stderr, redrawn at most every 100 ms; silent off a terminal. */
export function progressLine(): { update: (text: string) => void; done: () => void } {
  if (!isInteractive()) return { update: () => {}, done: () => {} }
  let last = 0
  let shown = false
  return {
    update: (text: string) => {
      const now = Date.now()
      if (now - last < 100) return
      last = now
      shown = true
      process.stderr.write(`\r\x1b[K${text}`)
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K')
    },
  }
}

/** Formats a duration in seconds as restic does (m:ss or h:mm:ss). */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
}
