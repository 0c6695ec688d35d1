// The change-point detector's rates on seeded histories (bench/change-point-sim.ts), for the
// defaults of src/verdict/change-points.ts or the options given. A minute or two here.
//
//   npx tsx bench/change-points.ts [--histories 5000] [--max-p-value 0.005] [--min-segment 2] [--min-magnitude 0.02]

import { parseArgs } from 'node:util';
import { DEFAULT_CHANGE_POINT_OPTIONS } from '../src/verdict/change-points.ts';
import { detectionRate, falseChangeRate, logNormalNoise, type Noise, studentT3Noise, uniformDrift } from './change-point-sim.ts';

const { values: args } = parseArgs({
  options: {
    histories: { type: 'string', default: '5000' },
    'max-p-value': { type: 'string', default: String(DEFAULT_CHANGE_POINT_OPTIONS.maxPValue) },
    'min-segment': { type: 'string', default: String(DEFAULT_CHANGE_POINT_OPTIONS.minSegment) },
    'min-magnitude': { type: 'string', default: String(DEFAULT_CHANGE_POINT_OPTIONS.minMagnitude) },
  },
});
const histories = Number(args.histories);
const options = {
  maxPValue: Number(args['max-p-value']),
  minSegment: Number(args['min-segment']),
  minMagnitude: Number(args['min-magnitude']),
};
const NOISES: Noise[] = [logNormalNoise(0.013), uniformDrift(0.05), studentT3Noise(0.013)];
const LENGTHS = [6, 10, 20, 40, 60];
const SHIFTS = [0.03, 0.05, 0.07, 0.1, 0.15, 0.3];
const RUNS_AFTER = [2, 3, 5, 10];
const percent = (share: number) => `${(share * 100).toFixed(2)} %`;

console.log(`# Change points: ${histories} histories a cell, options ${JSON.stringify(options)}\n`);
console.log('## A change found in a history with none (per history)\n');
console.log(`| noise | ${LENGTHS.map((n) => `${n} runs`).join(' | ')} |`);
console.log(`|---|${LENGTHS.map(() => '---').join('|')}|`);
for (const noise of NOISES) {
  const cells = LENGTHS.map((n, k) => percent(falseChangeRate({ seed: 100 + k, histories, runs: [n, n], noise, options })));
  console.log(`| ${noise.name} | ${cells.join(' | ')} |`);
}

for (const noise of NOISES.slice(0, 2)) {
  console.log(`\n## The change found within one run, 20 runs, ${noise.name}\n`);
  console.log(`| runs after the change | ${SHIFTS.map((size) => `±${Math.round(size * 100)} %`).join(' | ')} |`);
  console.log(`|---|${SHIFTS.map(() => '---').join('|')}|`);
  for (const after of RUNS_AFTER) {
    const cells = SHIFTS.map((size, k) =>
      percent(detectionRate({ seed: 200 + k, histories, runs: [20, 20], noise, options, shift: [size, size], runsAfter: [after, after] })),
    );
    console.log(`| ${after} | ${cells.join(' | ')} |`);
  }
}
