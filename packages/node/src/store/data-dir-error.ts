/** A data dir the node cannot use: another contract's, not a directory, or in use by another node. */
export class DataDirError extends Error {}
