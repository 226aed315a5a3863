// The collector's public entry: `kiln collect` and `npm start` (in-process) both call startCollector.
export { startCollector, type Collector } from './server.ts';
export { DEFAULT_PORT, type CollectorOptions } from './options.ts';
