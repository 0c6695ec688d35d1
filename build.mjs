// Bundles the action into one ESM file, dist/index.js, the CLI into dist/cli.js, and the load worker both
// fork for `load-processes` into dist/load-worker.js. autocannon needs `require.main` and
// ssh2 needs `__dirname`, which ESM lacks: the banner defines them. ssh2's native speed-ups are
// optional (loaded in try/catch) and stay out of the bundle, so dist holds no `.node` binary.
import { build } from 'esbuild';

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  external: ['cpu-features', '*.node'],
  banner: {
    js: [
      "import { createRequire as __loadgateCreateRequire } from 'node:module';",
      "import { fileURLToPath as __loadgateFileURLToPath } from 'node:url';",
      "import { dirname as __loadgateDirname } from 'node:path';",
      'const require = __loadgateCreateRequire(import.meta.url);',
      'const __filename = __loadgateFileURLToPath(import.meta.url);',
      'const __dirname = __loadgateDirname(__filename);',
    ].join('\n'),
  },
  logLevel: 'warning',
};

// The action (dist/index.js), the `loadgate` command (dist/cli.js, imported by bin/loadgate.js), and
// the child process of `load-processes`, forked by both from beside them (src/load/processes.ts).
await build({ ...shared, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' });
await build({ ...shared, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js' });
await build({ ...shared, entryPoints: ['src/load/load-worker.ts'], outfile: 'dist/load-worker.js' });
