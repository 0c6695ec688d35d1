// publishToRunner as the runner sees it: the job summary file gets the fitted summary whole.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunContext } from '../../src/config/run-context.ts';
import { renderSummary } from '../../src/report/comment-body.ts';
import { SUMMARY_MAX_BYTES } from '../../src/report/github-limits.ts';
import { publishToRunner } from '../../src/report/publish-action.ts';
import { captureLog } from '../support/capture-log.ts';
import { hugeReport } from './fixtures.ts';

test('a summary near the 1 MiB cap is written as rendered: one fitting step, its <details> closed', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'loadgate-publish-'));
  const saved = { ...process.env };
  try {
    const summaryPath = join(dir, 'summary.md');
    await writeFile(summaryPath, '');
    await writeFile(join(dir, 'output'), '');
    Object.assign(process.env, { GITHUB_STEP_SUMMARY: summaryPath, GITHUB_OUTPUT: join(dir, 'output'), RUNNER_TEMP: dir });
    // 9,000 bursts: over 900,000 characters, still under the byte cap, so nothing is trimmed.
    const report = hugeReport(9_000);
    const rendered = renderSummary(report);
    assert.ok(rendered.length > 900_000 && Buffer.byteLength(rendered) <= SUMMARY_MAX_BYTES, `${rendered.length} characters`);

    await publishToRunner(report, { comment: 'never', name: report.name }, parseRunContext({}, {}), undefined, captureLog());
    const written = await readFile(summaryPath, 'utf8');
    assert.equal(written.length, rendered.length);
    assert.equal(written, rendered);
    assert.match(written, /<\/details>\n$/);
  } finally {
    process.env = saved;
    await rm(dir, { recursive: true, force: true });
  }
});
