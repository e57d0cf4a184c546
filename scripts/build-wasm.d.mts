/** The .wat files under src/, as paths relative to the repository's root. */
export function watSources(): Promise<string[]>
/** The generated module's path and text for the .wat file at `source` (relative to the root). */
export function generatedModule(source: string): Promise<{ path: string; text: string }>
