import {
  fixGoTime,
  formatGoTime,
  goJsonString,
  parseGoTime,
  quoteGoName,
  unquoteGoName,
} from '../go/index.js'
import type { BlobId } from '../id.js'
import { NODE_TYPES, type Node, type NodeType } from './node.js'

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

/** A tree node as restic's JSON has it, checked field by field (see `readNodeJson`). */
interface NodeJson {
  name: string
  type: NodeType
  mode?: number
  mtime?: string
  atime?: string
  ctime?: string
  uid?: number
  gid?: number
  user?: string
  group?: string
  inode?: number
  device_id?: number
  size?: number
  links?: number
  linktarget?: string
  linktarget_raw?: string
  extended_attributes?: { name: string; value: string | null }[] | null
  generic_attributes?: Record<string, unknown> | null
  device?: number
  content?: string[] | null
  subtree?: string | null
  error?: string
}

const HEX64 = /^[0-9a-f]{64}$/
const TYPES: ReadonlySet<string> = new Set(NODE_TYPES)

const STRING_FIELDS = [
  'mtime',
  'atime',
  'ctime',
  'user',
  'group',
  'linktarget',
  'linktarget_raw',
  'error',
]
const UINT_FIELDS = ['mode', 'uid', 'gid', 'inode', 'device_id', 'size', 'links', 'device']

const badField = (at: number, field: string, want: string): Error =>
  new Error(`node ${at}: ${field} is not ${want}`)

/** Module-level checks (not closures per node: a walk checks every node of every tree). */
function checkString(o: Record<string, unknown>, k: string, at: number, required = false): void {
  const v = o[k]
  if (v === undefined && !required) return
  if (typeof v !== 'string') throw badField(at, k, 'a string')
}

function checkUint(o: Record<string, unknown>, k: string, at: number): void {
  const v = o[k]
  if (v === undefined) return
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw badField(at, k, 'a non-negative integer')
}

/**
 * Checks one node of a tree's JSON: every field restic writes, of its type (unknown fields
 * are ignored, as restic does). Written out rather than declared with a schema library: a
 * walk of 15,000 files decodes every tree, and the schema's generic checks cost more than
 * the JSON parse itself.
 */
function readNodeJson(x: unknown, at: number): NodeJson {
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    throw badField(at, 'the node', 'an object')
  const o = x as Record<string, unknown>
  checkString(o, 'name', at, true)
  if (typeof o.type !== 'string' || !TYPES.has(o.type)) throw badField(at, 'type', 'a node type')
  for (const k of STRING_FIELDS) checkString(o, k, at)
  for (const k of UINT_FIELDS) checkUint(o, k, at)
  const xattrs = o.extended_attributes
  if (xattrs !== undefined && xattrs !== null) {
    if (!Array.isArray(xattrs)) throw badField(at, 'extended_attributes', 'an array')
    for (const a of xattrs as unknown[]) {
      const e = a as { name?: unknown; value?: unknown } | null
      if (typeof e !== 'object' || e === null || typeof e.name !== 'string')
        throw badField(at, 'extended_attributes', 'a list of named attributes')
      if (e.value !== null && typeof e.value !== 'string')
        throw badField(at, 'extended_attributes', 'a list of base64 values')
    }
  }
  const generic = o.generic_attributes
  if (
    generic !== undefined &&
    generic !== null &&
    (typeof generic !== 'object' || Array.isArray(generic))
  )
    throw badField(at, 'generic_attributes', 'an object')
  const content = o.content
  if (content !== undefined && content !== null) {
    if (!Array.isArray(content)) throw badField(at, 'content', 'an array')
    for (const c of content as unknown[])
      if (typeof c !== 'string' || !HEX64.test(c))
        throw badField(at, 'content', 'a list of blob IDs')
  }
  const subtree = o.subtree
  if (
    subtree !== undefined &&
    subtree !== null &&
    (typeof subtree !== 'string' || !HEX64.test(subtree))
  )
    throw badField(at, 'subtree', 'a tree ID')
  return o as unknown as NodeJson
}

/** The nodes of a tree's JSON (`{"nodes": [...]}`, `null` for none). */
function readTreeJson(x: unknown): NodeJson[] {
  if (typeof x !== 'object' || x === null || !('nodes' in x))
    throw new Error('a tree is an object with "nodes"')
  const nodes = x.nodes
  if (nodes === null) return []
  if (!Array.isArray(nodes)) throw new Error('"nodes" is not an array')
  return nodes.map((n: unknown, i) => readNodeJson(n, i))
}

const ZERO_TIME = '0001-01-01T00:00:00Z'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * Parses a tree blob. Throws a plain Error when the JSON does not match restic's tree format
 * (callers wrap it in an IntegrityError naming the blob).
 */
export function decodeTree(json: Uint8Array): Node[] {
  const nodes = readTreeJson(JSON.parse(Buffer.from(json).toString('utf8')))
  return nodes.map((j) => {
    // Assigned field by field: a spread per optional field cost an object and a copy each.
    const node: Mutable<Node> = {
      name: unquoteGoName(j.name),
      type: j.type,
      mtime: parseGoTime(j.mtime ?? ZERO_TIME),
      atime: parseGoTime(j.atime ?? ZERO_TIME),
      ctime: parseGoTime(j.ctime ?? ZERO_TIME),
      uid: j.uid ?? 0,
      gid: j.gid ?? 0,
      content: j.content ? (j.content as BlobId[]) : null,
    }
    if (j.mode) node.mode = j.mode
    if (j.user) node.user = j.user
    if (j.group) node.group = j.group
    if (j.inode) node.inode = BigInt(j.inode)
    if (j.device_id) node.deviceId = BigInt(j.device_id)
    if (j.size) node.size = j.size
    if (j.links) node.links = j.links
    if (j.linktarget_raw) node.linkTarget = Buffer.from(j.linktarget_raw, 'base64')
    else if (j.linktarget) node.linkTarget = Buffer.from(j.linktarget, 'utf8')
    if (j.extended_attributes && j.extended_attributes.length > 0)
      node.extendedAttributes = j.extended_attributes.map((x) => ({
        name: x.name,
        value: Buffer.from(x.value ?? '', 'base64'),
      }))
    if (j.generic_attributes) node.genericAttributes = j.generic_attributes
    if (j.device) node.device = BigInt(j.device)
    if (j.subtree) node.subtree = j.subtree as BlobId
    if (j.error) node.error = j.error
    return node
  })
}
