/** Which database holds the metadata: the embedded default, or PostgreSQL for many hosts. */
export const STORE_DIALECTS = ['sqlite', 'postgres'] as const
export type StoreDialect = (typeof STORE_DIALECTS)[number]
