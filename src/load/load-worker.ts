// Entry point of a `load-processes` child when loadgate runs from source (tsx, tests). The bundle
// needs no such file: its own entry point serves the burst when `isLoadWorker()`.
import { serveLoadWorker } from './processes.ts';

serveLoadWorker();
