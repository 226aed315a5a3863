// dist/kiln.worker.mjs: the module worker that kiln.mjs starts; it hosts sessions (host.ts).
import { exposeHost } from './host.ts';
import { workerScopeEndpoint } from './scope.ts';

exposeHost(workerScopeEndpoint());
