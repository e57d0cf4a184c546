import { z } from 'zod'
import {
  fixGoTime,
  formatGoTime,
  goJsonString,
  parseGoTime,
  quoteGoName,
  unquoteGoName,
} from '../go/index.js'
import type { BlobId } from '../id.js'
import { NODE_TYPES, type Node } from './node.js'

/**
 * Trees as restic stores them: `{"nodes":[…]}` plus a newline, nodes sorted by name bytes,
 * each node's fields in the order and with the `omitempty` rules of Go's `data.Node`
 * (internal/data/node.go), names Go-quoted (FORMAT-NOTES.md), times RFC 3339 with
 * nanoseconds. Written this way, a tree Coffer saves for the same directory state as restic
 * has the same bytes and therefore the same ID.
 */
export function encodeTree(nodes: readonly Node[]): Buffer {
  const parts: string[] = ['{"nodes":[']
  for (let i = 0; i < nodes.length; i++) {
    if (i > 0) parts.push(',')
    parts.push(encodeNode(nodes[i]!))
  }
  parts.push(']}\n')
  return Buffer.from(parts.join(''), 'utf8')
}

/** Compares node names as Go compares strings: bytewise. */
export function compareNames(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function isUtf8(b: Uint8Array): boolean {
  try {
    utf8.decode(b)
    return true
  } catch {
    return false
  }
}

export function encodeNode(n: Node): string {
  const f: string[] = []
  f.push(`{"name":${goJsonString(quoteGoName(n.name))},"type":"${n.type}"`)
  if (n.mode) f.push(`,"mode":${n.mode}`)
  f.push(`,"mtime":"${formatGoTime(fixGoTime(n.mtime))}"`)
  f.push(`,"atime":"${formatGoTime(fixGoTime(n.atime))}"`)
  f.push(`,"ctime":"${formatGoTime(fixGoTime(n.ctime))}"`)
  f.push(`,"uid":${n.uid},"gid":${n.gid}`)
  if (n.user) f.push(`,"user":${goJsonString(n.user)}`)
  if (n.group) f.push(`,"group":${goJsonString(n.group)}`)
  if (n.inode) f.push(`,"inode":${n.inode}`)
  if (n.deviceId) f.push(`,"device_id":${n.deviceId}`)
  if (n.size) f.push(`,"size":${n.size}`)
  if (n.links) f.push(`,"links":${n.links}`)
  if (n.linkTarget && n.linkTarget.length > 0) {
    const target = Buffer.from(n.linkTarget)
    if (isUtf8(target)) {
      f.push(`,"linktarget":${goJsonString(target.toString('utf8'))}`)
    } else {
      // Go's encoder writes invalid UTF-8 as U+FFFD; the raw bytes go to linktarget_raw.
      f.push(`,"linktarget":${goJsonString(target.toString('utf8'))}`)
      f.push(`,"linktarget_raw":"${target.toString('base64')}"`)
    }
  }
  if (n.extendedAttributes && n.extendedAttributes.length > 0) {
    const xs = n.extendedAttributes.map(
      (x) =>
        `{"name":${goJsonString(x.name)},"value":"${Buffer.from(x.value).toString('base64')}"}`,
    )
    f.push(`,"extended_attributes":[${xs.join(',')}]`)
  }
  if (n.genericAttributes && Object.keys(n.genericAttributes).length > 0) {
    const keys = Object.keys(n.genericAttributes).sort()
    const kv = keys.map((k) => `${goJsonString(k)}:${JSON.stringify(n.genericAttributes![k])}`)
    f.push(`,"generic_attributes":{${kv.join(',')}}`)
  }
  if (n.device) f.push(`,"device":${n.device}`)
  f.push(
    n.content === null
      ? ',"content":null'
      : `,"content":[${n.content.map((c) => `"${c}"`).join(',')}]`,
  )
  if (n.subtree) f.push(`,"subtree":"${n.subtree}"`)
  if (n.error) f.push(`,"error":${goJsonString(n.error)}`)
  f.push('}')
  return f.join('')
}

const HEX64 = z.string().regex(/^[0-9a-f]{64}$/)
const uint = z.number().int().nonnegative()
const NODE_JSON = z.object({
  name: z.string(),
  type: z.enum(NODE_TYPES),
  mode: uint.optional(),
  mtime: z.string().optional(),
  atime: z.string().optional(),
  ctime: z.string().optional(),
  uid: uint.optional(),
  gid: uint.optional(),
  user: z.string().optional(),
  group: z.string().optional(),
  inode: uint.optional(),
  device_id: uint.optional(),
  size: uint.optional(),
  links: uint.optional(),
  linktarget: z.string().optional(),
  linktarget_raw: z.string().optional(),
  extended_attributes: z
    .array(z.object({ name: z.string(), value: z.string().nullable() }))
    .nullish(),
  generic_attributes: z.record(z.string(), z.unknown()).nullish(),
  device: uint.optional(),
  content: z.array(HEX64).nullish(),
  subtree: HEX64.nullish(),
  error: z.string().optional(),
})
const TREE_JSON = z.object({ nodes: z.array(NODE_JSON).nullable() })

const ZERO_TIME = '0001-01-01T00:00:00Z'

/**
 * Parses a tree blob. Throws a plain Error when the JSON does not match restic's tree format
 * (callers wrap it in an IntegrityError naming the blob).
 */
export function decodeTree(json: Uint8Array): Node[] {
  const parsed = TREE_JSON.parse(JSON.parse(Buffer.from(json).toString('utf8')))
  return (parsed.nodes ?? []).map((j) => {
    const node: Node = {
      name: unquoteGoName(j.name),
      type: j.type,
      ...(j.mode ? { mode: j.mode } : {}),
      mtime: parseGoTime(j.mtime ?? ZERO_TIME),
      atime: parseGoTime(j.atime ?? ZERO_TIME),
      ctime: parseGoTime(j.ctime ?? ZERO_TIME),
      uid: j.uid ?? 0,
      gid: j.gid ?? 0,
      ...(j.user ? { user: j.user } : {}),
      ...(j.group ? { group: j.group } : {}),
      ...(j.inode ? { inode: BigInt(j.inode) } : {}),
      ...(j.device_id ? { deviceId: BigInt(j.device_id) } : {}),
      ...(j.size ? { size: j.size } : {}),
      ...(j.links ? { links: j.links } : {}),
      ...(j.linktarget_raw
        ? { linkTarget: Buffer.from(j.linktarget_raw, 'base64') }
        : j.linktarget
          ? { linkTarget: Buffer.from(j.linktarget, 'utf8') }
          : {}),
      ...(j.extended_attributes && j.extended_attributes.length > 0
        ? {
            extendedAttributes: j.extended_attributes.map((x) => ({
              name: x.name,
              value: Buffer.from(x.value ?? '', 'base64'),
            })),
          }
        : {}),
      ...(j.generic_attributes ? { genericAttributes: j.generic_attributes } : {}),
      ...(j.device ? { device: BigInt(j.device) } : {}),
      content: j.content ? (j.content as BlobId[]) : null,
      ...(j.subtree ? { subtree: j.subtree as BlobId } : {}),
      ...(j.error ? { error: j.error } : {}),
    }
    return node
  })
}
