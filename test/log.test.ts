// Log phases as the runner's groups need them: every start has its end, a thrown error included,
// and a phase inside a phase never opens a group inside a group.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flatPhases } from '../src/log.ts';

function recorder() {
  const marks: string[] = [];
  const phase = flatPhases(
    (name) => marks.push(`::group::${name}`),
    () => marks.push('::endgroup::'),
  );
  return { marks, phase };
}

describe('flatPhases', () => {
  it('closes the group when the phase throws, and passes the error on', async () => {
    const { marks, phase } = recorder();
    await assert.rejects(
      phase('bursts', async () => {
        throw new Error('connection refused');
      }),
      /connection refused/,
    );
    assert.equal(await phase('verdict', async () => 'pass'), 'pass');
    assert.deepEqual(marks, ['::group::bursts', '::endgroup::', '::group::verdict', '::endgroup::']);
  });

  it('runs a phase begun inside another in the outer group', async () => {
    const { marks, phase } = recorder();
    await phase('verdict', async () => {
      marks.push('recorded');
      await phase('publishing', async () => marks.push('published'));
    });
    assert.deepEqual(marks, ['::group::verdict', 'recorded', 'published', '::endgroup::']);
  });
});
