/** Types of `scripts/build-node-bins.mjs` (for the TypeScript tests that import it). */
/** The major version of the Node.js running this script. */
export declare const HOST_MAJOR: number
/** The cache directory of the registry Node.js binaries. */
export declare function nodeCacheDir(): string
/** The path of a `node` binary of `major` (this process's own for the host major). */
export declare function nodeBinary(major: number): Promise<string>
