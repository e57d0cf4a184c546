import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { get as httpGet } from 'node:http'
import { createServer } from 'node:net'
import { loadavg as osLoadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { printTable } from './lib/measure.js'

const BIN = fileURLToPath(new URL('../bin/coffer', import.meta.url))
const PASSWORD = 'bench-api-Pw72'
const WARM_UP_MS = 2000
const PROBE = 'probe: GET on a new connection'
const PROBE_EVERY_MS = 250

/**
 * `npm run bench -- api [--clients N] [--seconds S] [--mb M] [--think-ms T] [--worker-in-process]`:
 * `coffer serve`
 * (the built one, `npm run build` first) in its own process, two environments being
 * snapshotted (M MiB each, default 200), and N concurrent clients (default 50) on loopback
 * that, until both snapshots end (at least S seconds, default 10; at most 120), list the
 * snapshots, read the running activity and open its Server-Sent Events stream, then wait T
 * ms (default 1000, a console's polling; 0: a closed loop, the server's throughput). The
 * snapshots run in serve's child worker process, or on its own thread with --worker-in-process
 * (the comparison that shows what the child process buys). Prints
 * p50/p99/max latency per kind of request and the errors. Beside the load, one probe times a
 * plain GET /healthz on a new connection every 250 ms (what a new connection waits before the
 * server reads it, apart from what a stream costs to open), and the server's own event-loop
 * delay over the run (from /metrics) is printed at the end. Target (issue: control plane):
 * p99 < 100 ms and no errors. There is no peer tool to run beside it: the figure is absolute,
 * on a machine whose load is printed.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, dflt: number): number => {
    const at = args.indexOf(name)
    const v = at >= 0 ? Number(args[at + 1]) : dflt
    if (!(v > 0)) throw new Error(`${name} must be a positive number`)
    return v
  }
  const clients = opt('--clients', 50)
  const minSeconds = opt('--seconds', 10)
  const mb = opt('--mb', 200)
  // A console polls about once a second; `--think-ms 0` makes each client a closed loop.
  const thinkAt = args.indexOf('--think-ms')
  const thinkMs = thinkAt >= 0 ? Number(args[thinkAt + 1]) : 1000
  if (!(thinkMs >= 0)) throw new Error('--think-ms must be a number of milliseconds')
  const work = join(process.env.COFFER_BENCH_DIR ?? tmpdir(), `coffer-bench-api-${process.pid}`)
  await rm(work, { recursive: true, force: true })
  for (const env of ['one', 'two']) {
    const dir = join(work, 'mounts', env)
    await mkdir(dir, { recursive: true })
    // Incompressible files, so the snapshots do real work while the clients call.
    for (let i = 0; i < mb; i++) await writeFile(join(dir, `f${i}.bin`), randomBytes(1 << 20))
  }
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  // BIN itself, as a user starts the server (its first line sets the allocator's options).
  const serve = spawn(
    BIN,
    [
      'serve',
      '--data-dir',
      join(work, 'data'),
      '--listen',
      `127.0.0.1:${port}`,
      ...(args.includes('--worker-in-process') ? ['--worker-in-process'] : []),
    ],
    {
      env: { ...process.env, COFFER_ADMIN_PASSWORD: PASSWORD, COFFER_TEST_FAST_KDF: '1' },
      stdio: 'ignore',
    },
  )
  try {
    await waitHealthy(url, serve)
    const token = await login(url)
    const call = api(url, token)
    await call('POST', '/api/projects', { id: 'bench', plan: 'starter' })
    for (const env of ['one', 'two'])
      await call('POST', '/api/projects/bench/environments', {
        name: env,
        type: 'integration',
        mounts: [{ name: 'pub/media', path: join(work, 'mounts', env) }],
      })
    process.stdout.write(
      `coffer serve on ${url} (worker ${args.includes('--worker-in-process') ? 'on its own thread' : 'in a child process'}); ${clients} clients, ${thinkMs} ms between rounds; 2 snapshots of ${mb} MiB each; load ${loadavg()}\n`,
    )
    const activities = await Promise.all(
      ['one', 'two'].map(async (env) => {
        const a = (await call('POST', `/api/projects/bench/environments/${env}/backups`, {})) as {
          id: string
        }
        return { env, id: a.id }
      }),
    )
    const started = Date.now()
    const samples = new Map<string, number[]>([
      ['list snapshots', []],
      ['get activity', []],
      ['stream: first event', []],
      [PROBE, []],
    ])
    let errors = 0
    let running = true
    // The first seconds warm the server up (routes' first calls, JIT): not counted.
    const warmUntil = Date.now() + WARM_UP_MS
    const timed = async (kind: string, f: () => Promise<void>): Promise<void> => {
      const counted = Date.now() >= warmUntil
      const t0 = performance.now()
      try {
        await f()
        if (counted) samples.get(kind)!.push(performance.now() - t0)
      } catch {
        errors++
      }
    }
    const client = async (n: number): Promise<void> => {
      const { env, id } = activities[n % activities.length]!
      // Spread the clients' first calls over one think time, as real users would be.
      await new Promise((r) => setTimeout(r, (thinkMs * n) / clients))
      while (running) {
        await timed('list snapshots', async () => {
          await call('GET', `/api/projects/bench/environments/${env}/backups`)
        })
        await timed('get activity', async () => {
          await call('GET', `/api/projects/bench/activities/${id}`)
        })
        await timed('stream: first event', () => firstEvent(url, token, id))
        if (thinkMs > 0) await new Promise((r) => setTimeout(r, thinkMs))
      }
    }
    const done = (async () => {
      for (;;) {
        const states = await Promise.all(
          activities.map(
            async (a) =>
              ((await call('GET', `/api/projects/bench/activities/${a.id}`)) as { state: string })
                .state,
          ),
        )
        const elapsed = (Date.now() - started) / 1000
        if ((states.every((s) => s === 'complete') && elapsed >= minSeconds) || elapsed > 120)
          return states
        await new Promise((r) => setTimeout(r, 250))
      }
    })()
    // One more client, apart from the load: a plain GET on a connection of its own, to tell
    // a new connection's wait (the server accepting it) from the cost of opening a stream.
    const probe = async (): Promise<void> => {
      while (running) {
        await timed(PROBE, () => getOnNewConnection(`${url}/healthz`))
        await new Promise((r) => setTimeout(r, PROBE_EVERY_MS))
      }
    }
    const workers = [...Array.from({ length: clients }, (_, i) => client(i)), probe()]
    const states = await done
    running = false
    await Promise.all(workers)
    const loop = await eventLoopDelay(url)
    const seconds = (Date.now() - started) / 1000
    const rows = [...samples].map(([kind, xs]) => {
      const sorted = [...xs].sort((a, b) => a - b)
      const at = (q: number): string =>
        sorted.length
          ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1)
          : '-'
      return [
        kind,
        String(sorted.length),
        at(0.5),
        at(0.99),
        sorted.length ? sorted.at(-1)!.toFixed(1) : '-',
      ]
    })
    printTable(['request', 'count', 'p50 ms', 'p99 ms', 'max ms'], rows)
    process.stdout.write(
      `${seconds.toFixed(1)} s; errors: ${errors}; snapshots: ${states.join(', ')}; load ${loadavg()}\n` +
        `server event loop delay over the run: ${loop}\n`,
    )
  } finally {
    serve.kill('SIGTERM')
    await new Promise((r) => serve.once('exit', r))
    await rm(work, { recursive: true, force: true })
  }
}

function api(url: string, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return text ? (JSON.parse(text) as unknown) : undefined
  }
}

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'admin', password: PASSWORD }),
  })
  if (!res.ok) throw new Error(`login: ${res.status}`)
  return ((await res.json()) as { token: string }).token
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`coffer serve exited with ${child.exitCode}`)
    try {
      if ((await fetch(`${url}/healthz`)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('coffer serve did not start')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address()
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}

/** The 1-minute load average, printed beside the latencies (the machines are shared). */
function loadavg(): string {
  return osLoadavg()[0]!.toFixed(2)
}

/**
 * Opens an activity's event stream and waits for its first bytes, then hangs up. Through
 * node:http on a connection of its own: the abandoned connection must not hold up the
 * benchmark's other requests in fetch's pool.
 */
function firstEvent(url: string, token: string, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpGet(
      `${url}/api/projects/bench/activities/${id}/stream`,
      { agent: false, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          return reject(new Error(`stream ${res.statusCode}`))
        }
        res.once('data', () => {
          req.destroy()
          resolve()
        })
        res.once('error', reject)
      },
    )
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)))
  })
}

/** A GET on a connection of its own, until its first bytes (the body is not waited for). */
function getOnNewConnection(target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpGet(target, { agent: false }, (res) => {
      res.once('data', () => {
        req.destroy()
        if (res.statusCode === 200) resolve()
        else reject(new Error(`GET ${target}: ${res.statusCode}`))
      })
    })
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)))
  })
}

/**
 * The server's event-loop delay since its start (or last scrape), from its /metrics: how long
 * the server's one JavaScript thread was busy when a timer, a request or a connection was due.
 */
async function eventLoopDelay(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const value = (q: string): string | undefined => {
    const m = new RegExp(`^coffer_event_loop_delay_seconds\\{quantile="${q}"\\} (\\S+)$`, 'm').exec(
      text,
    )
    return m ? (Number(m[1]) * 1000).toFixed(1) : undefined
  }
  const [p50, p99, max] = [value('0.5'), value('0.99'), value('1')]
  return p50 === undefined
    ? 'not reported by this server'
    : `p50 ${p50} / p99 ${p99} / max ${max} ms`
}
