import { InvalidInputError } from '../../errors.js'
import {
  parseFormat,
  pickColumns,
  renderProperties,
  renderRows,
  type ClientContext,
  type Column,
} from '../client/index.js'

/** Flags of every list command. */
export interface ListingFlags {
  readonly columns?: string[]
  readonly format?: string
  readonly header?: boolean
}

/** Prints a list in the chosen format (JSON: the API's objects as they came). */
export function printList<T>(
  items: readonly T[],
  all: readonly Column<T>[],
  defaults: readonly string[],
  flags: ListingFlags,
  empty: string,
  ctx: ClientContext,
): void {
  const format = parseFormat(flags.format)
  const columns = pickColumns(all, defaults, flags.columns)
  if (format === 'json') {
    ctx.out(JSON.stringify(items, null, 2))
    return
  }
  if (items.length === 0) {
    ctx.err(empty)
    return
  }
  process.stdout.write(
    renderRows(
      columns.map((c) => c.header),
      items.map((i) => columns.map((c) => c.value(i))),
      format,
      flags.header !== false,
    ),
  )
}

/** Prints one object: a property (--property), JSON, or a Property/Value table. */
export function printObject(
  obj: Record<string, unknown>,
  flags: { readonly property?: string; readonly format?: string },
  ctx: ClientContext,
): void {
  const format = parseFormat(flags.format)
  const text = (v: unknown): string =>
    v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v)
  if (flags.property) {
    if (!(flags.property in obj))
      throw new InvalidInputError(
        'property',
        `Unknown property "${flags.property}": choose from ${Object.keys(obj).join(', ')}.`,
      )
    ctx.out(text(obj[flags.property]))
    return
  }
  if (format === 'json') {
    ctx.out(JSON.stringify(obj, null, 2))
    return
  }
  process.stdout.write(
    renderProperties(
      Object.entries(obj).map(([k, v]) => [k, text(v)] as const),
      format,
    ),
  )
}
