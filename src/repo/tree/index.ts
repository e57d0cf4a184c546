/**
 * @module Trees: the nodes of a directory as restic stores them, their JSON encoding, and the
 * mapping between POSIX modes and Go's FileMode.
 */
export { GO_MODE, goModeFromPosix, posixPermFromGo } from './file-mode.js'
export { NODE_TYPES, nodeNameText } from './node.js'
export type { ExtendedAttribute, Node, NodeType, TreeId } from './node.js'
export { compareNames, decodeTree, encodeNode, encodeTree } from './tree-json.js'
