/**
 * @module The store's migrations, in order. A migration is never edited once released: a
 * change to the schema is a new file here.
 */
export { migrationsFor } from './migration-list.js'
