// Types of scripts/bundle-sizes.mjs (plain JS so that scripts/build.mjs can run it without tsx).
export declare const BUDGET: number;
export declare const DOWNLOAD_PATHS: readonly { what: string; entries: readonly string[]; lazy: readonly string[] }[];
export declare const ON_DEMAND: readonly { what: string; files: readonly string[] }[];
export declare function gzipBytes(dist: string, file: string): number;
export declare function staticClosure(dist: string, file: string, seen?: Set<string>): Set<string>;
export declare function measurePaths(dist: string): { what: string; files: string[]; gzip: number }[];
