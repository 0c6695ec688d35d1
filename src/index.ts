// The bundle's entry (dist/index.js, what the runner starts): run the action.
import { run } from './main.ts';

await run();
