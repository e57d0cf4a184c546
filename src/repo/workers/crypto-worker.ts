import { parentPort, workerData } from 'node:worker_threads'
import { openBlob, sealBlob } from '../blob-codec.js'
import { MasterKey } from '../crypto/index.js'
import type { CryptoRequest, CryptoResponse, CryptoWorkerData } from './crypto-messages.js'

// A worker thread of the crypto pool: seals and opens blobs (zstd, AES-256-CTR,
// Poly1305-AES, SHA-256), the CPU-heavy steps of every backup and restore.
const port = parentPort!
const key = MasterKey.fromBytes((workerData as CryptoWorkerData).key)

/** A standalone ArrayBuffer view, so the result can be transferred, not copied. */
function own(b: Buffer): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b
  return new Uint8Array(b)
}

port.on('message', (req: CryptoRequest) => {
  let res: CryptoResponse
  try {
    if (req.kind === 'seal') {
      const s = sealBlob(key, req.type, req.data, req.compress)
      const sealed = own(s.sealed)
      res = { kind: 'sealed', task: req.task, sealed, uncompressedLength: s.uncompressedLength }
      port.postMessage(res, [sealed.buffer as ArrayBuffer])
      return
    }
    const r = openBlob(key, req.sealed, req.id, req.uncompressedLength)
    if (typeof r === 'string') {
      res = { kind: 'damaged', task: req.task, damage: r }
      port.postMessage(res)
      return
    }
    const data = own(r)
    res = { kind: 'opened', task: req.task, data }
    port.postMessage(res, [data.buffer as ArrayBuffer])
  } catch (e) {
    res = { kind: 'failed', task: req.task, message: e instanceof Error ? e.message : String(e) }
    port.postMessage(res)
  }
})
