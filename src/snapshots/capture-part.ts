import type { MountManifest, ServiceManifest } from './manifest.js'

/**
 * One part of an environment being captured (a mount, a database service), driven through
 * the steps of a consistent snapshot (DESIGN.md, "Consistency and atomicity"):
 *
 *   prepare   before the hold: connect, pre-copy most data while the site runs
 *   hold      take the part's write barrier (database read lock); must be quick
 *   final     inside the hold: the second pass (files changed since the pre-copy; open the
 *             database's snapshot transactions)
 *   release   drop the barrier
 *   finish    after the release: the long work that reads from the consistent point
 *             (dumping tables from the snapshot transactions)
 *   abort     undo anything held or open after a failure at any step
 *
 * A live snapshot skips hold and release. Each step is called once, in order, for all parts
 * together: every part's hold is taken before any part's final pass.
 */
export interface CapturePart {
  readonly label: string
  prepare(): Promise<void>
  hold(): Promise<void>
  final(): Promise<void>
  release(): Promise<void>
  finish(): Promise<void>
  abort(): Promise<void>
}

export interface MountPart extends CapturePart {
  readonly kind: 'mount'
  manifest(): MountManifest
}

export interface ServicePart extends CapturePart {
  readonly kind: 'service'
  manifest(): ServiceManifest
}

/** A driver whose steps carry the same names as a part's (MysqlCapture, PhysicalCapture). */
interface SteppedDriver {
  prepare(): Promise<void>
  hold(): Promise<void>
  final(): Promise<void>
  release(): Promise<void>
  abort(): Promise<void>
}

/** The part's steps that map one to one onto the driver's (all but finish). */
export function driverSteps(
  d: SteppedDriver,
): Pick<CapturePart, 'prepare' | 'hold' | 'final' | 'release' | 'abort'> {
  return {
    prepare: () => d.prepare(),
    hold: () => d.hold(),
    final: () => d.final(),
    release: () => d.release(),
    abort: () => d.abort(),
  }
}
