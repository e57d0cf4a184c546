import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ChunkAssembler, IdleAssemblers, parsePolynomial } from '../../../src/repo/chunker/index.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'

const pol = parsePolynomial('3da3358b4dc173')
const other = parsePolynomial('2a0e4b4f6bbc4f')
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

function cut(a: ChunkAssembler, data: Uint8Array): string[] {
  const ids: string[] = []
  for (let at = 0; at < data.length; at += 300_000)
    for (const c of a.push(data.subarray(at, at + 300_000))) ids.push(sha(c))
  const last = a.end()
  if (last) ids.push(sha(last))
  return ids
}

describe('IdleAssemblers', () => {
  it('reuses the assembler of an abandoned stream without carrying its bytes over', () => {
    const data = seededBytes('idle', 6 * 1024 * 1024)
    const fresh = cut(new ChunkAssembler(pol), data)
    expect(fresh.length).toBeGreaterThan(2)

    let made = 0
    const idle = new IdleAssemblers((p) => (made++, new ChunkAssembler(p)))
    const first = idle.take(pol)
    // Half a chunk fed, then the stream is dropped.
    first.push(seededBytes('dropped', 400_000))
    idle.give(pol, first)
    const second = idle.take(pol)
    expect(second).toBe(first)
    expect(cut(second, data)).toEqual(fresh)
    expect(made).toBe(1)
  })

  it('keeps assemblers per polynomial and at most `max` of each', () => {
    let made = 0
    const idle = new IdleAssemblers((p) => (made++, new ChunkAssembler(p)), 1)
    const a = idle.take(pol)
    const b = idle.take(pol)
    idle.give(pol, a)
    idle.give(pol, b)
    expect(idle.take(other)).not.toBe(a)
    expect(idle.take(pol)).toBe(a)
    expect(idle.take(pol)).not.toBe(b)
    expect(made).toBe(4)
  })
})
