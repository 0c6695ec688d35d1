// Entry point of a `load-processes` child, forked by measureBurstInProcesses: from source as this
// file, from the bundle as dist/load-worker.js. It serves one burst and exits.
import { serveLoadWorker } from './processes.ts';

serveLoadWorker();
