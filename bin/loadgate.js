#!/usr/bin/env node
// The `loadgate` command: the CLI bundle built next to the action's.
import { main } from '../dist/cli.js';

main(process.argv.slice(2));
