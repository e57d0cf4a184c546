/**
 * Reads the fields of a JSON object from a repository file (config, keys, locks, indexes,
 * snapshots), checking each one's type as it is read; unknown fields are ignored, as restic
 * does. Written out rather than declared with a schema library: that library's import alone
 * cost every command, and every worker thread, a tenth of a second.
 */
export class JsonFields {
  private readonly o: Record<string, unknown>

  /** `what` names the object in errors: "`what`: `field` is not …". */
  constructor(
    value: unknown,
    private readonly what: string,
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error(`${what} is not a JSON object`)
    this.o = value as Record<string, unknown>
  }

  private bad(field: string, want: string): Error {
    return new Error(`${this.what}: ${field} is not ${want}`)
  }

  /** The field's value, undefined when it is absent (or null, with `nullable`). */
  private opt(k: string, nullable: boolean): unknown {
    const v = this.o[k]
    return v === null && nullable ? undefined : v
  }

  string(k: string): string {
    const v = this.o[k]
    if (typeof v !== 'string') throw this.bad(k, 'a string')
    return v
  }

  optString(k: string): string | undefined {
    const v = this.o[k]
    if (v === undefined) return undefined
    if (typeof v !== 'string') throw this.bad(k, 'a string')
    return v
  }

  /** A string matching `re` (e.g. an ID in hex). */
  matching(k: string, re: RegExp, want: string): string {
    const v = this.o[k]
    if (typeof v !== 'string' || !re.test(v)) throw this.bad(k, want)
    return v
  }

  int(k: string): number {
    const v = this.o[k]
    if (typeof v !== 'number' || !Number.isInteger(v)) throw this.bad(k, 'an integer')
    return v
  }

  optInt(k: string): number | undefined {
    return this.o[k] === undefined ? undefined : this.int(k)
  }

  uint(k: string): number {
    const v = this.int(k)
    if (v < 0) throw this.bad(k, 'a non-negative integer')
    return v
  }

  optUint(k: string): number | undefined {
    return this.o[k] === undefined ? undefined : this.uint(k)
  }

  bool(k: string): boolean {
    const v = this.o[k]
    if (typeof v !== 'boolean') throw this.bad(k, 'true or false')
    return v
  }

  object(k: string): JsonFields {
    return new JsonFields(this.o[k], `${this.what}: ${k}`)
  }

  optObject(k: string, nullable = false): JsonFields | undefined {
    const v = this.opt(k, nullable)
    return v === undefined ? undefined : this.object(k)
  }

  /** An array (null counts as absent with `nullable`, as Go writes an empty slice). */
  optArray(k: string, nullable = false): unknown[] | undefined {
    const v = this.opt(k, nullable)
    if (v === undefined) return undefined
    if (!Array.isArray(v)) throw this.bad(k, 'an array')
    return v as unknown[]
  }

  /** An array of strings, each matching `re` when given. */
  optStrings(k: string, nullable = false, re?: RegExp): string[] | undefined {
    const a = this.optArray(k, nullable)
    if (a === undefined) return undefined
    for (const s of a)
      if (typeof s !== 'string' || (re && !re.test(s)))
        throw this.bad(k, re ? 'a list of IDs' : 'a list of strings')
    return a as string[]
  }

  /** The raw value, for fields read as they are. */
  raw(k: string): unknown {
    return this.o[k]
  }
}

export const HEX64 = /^[0-9a-f]{64}$/
