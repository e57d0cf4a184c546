/**
 * @module
 * The demo of `npm start`: a Starter and a Pro project with environments whose data (mounts
 * with images and logs, a small shop database when MariaDB/MySQL is reachable) lives under the
 * data directory, created through the API and marked so `coffer demo:remove` removes exactly
 * what was created.
 */
export { createDemo } from './create-demo.js'
export type { DemoApi, DemoContext, DemoResult } from './create-demo.js'
export { DEMO_MYSQL_CANDIDATES } from './demo-database.js'
export { DEMO_DB_PREFIX, DEMO_PROJECTS, readMarker } from './demo-marker.js'
export type { DemoMarker } from './demo-marker.js'
export { removeDemo } from './remove-demo.js'
export type { RemoveContext } from './remove-demo.js'
