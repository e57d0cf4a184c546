import { connect, type Socket } from 'node:net'

/**
 * A connection's socket whose reads land in one buffer of its own, reused for every read,
 * instead of a new buffer each (Node's `onread`).
 *
 * Why: a plain socket hands each read over as a new 64 KiB Buffer. A capture or a delta
 * restore's comparison reads a table's rows through the thread that reads the socket, so a GB
 * of rows was a GB of fresh external memory on that thread, and V8 collects a heap every
 * 64 MB of it: 62 collections in a capture of the scale-1 shop database, with pauses of 0.6 s
 * on the thread the encoders and the repository wait on (`--trace-gc`, "external memory
 * pressure"). The rows of a read are copied into feeds as it is walked
 * (row-socket-reader.ts): only that walk may see the shared buffer.
 *
 * Whoever listens to 'data' gets a view of the shared buffer only while `lender.lending` is
 * set, and promises to copy whatever it keeps past the call; otherwise it gets a copy, as a
 * plain socket would give it (mysql2's own parser keeps windows of reads between calls).
 */
export interface ReadLender {
  lending: boolean
}

/** Read size: a read of loopback rows fills up to this in one call instead of 64 KiB. */
export const LENT_READ_BYTES = 256 * 1024

export type SocketTarget =
  { readonly path: string } | { readonly host: string; readonly port: number }

export function lentReadSocket(
  target: SocketTarget,
  lender: ReadLender,
  size = LENT_READ_BYTES,
): Socket {
  const buffer = Buffer.allocUnsafe(size)
  const socket: Socket = connect({
    ...target,
    onread: {
      buffer,
      callback: (nread: number): boolean => {
        const chunk = buffer.subarray(0, nread)
        socket.emit('data', lender.lending ? chunk : Buffer.from(chunk))
        return true
      },
    },
  })
  // What mysql2 sets on the sockets it opens itself: packets go out at once, and a dead
  // peer is noticed.
  socket.setNoDelay(true)
  socket.setKeepAlive(true, 0)
  return socket
}
