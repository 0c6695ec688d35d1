// action.yml read by the parsers that read it for real: strict YAML 1.2 (npm `yaml`, the parser
// GitHub's local runner uses) and GitHub's own action schema (`parseAction` from
// @actions/workflow-parser). Its inputs, their defaults and its outputs must be exactly what the
// code declares (INPUT_DEFAULTS) and sets (setOutputs), checked both ways.

import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NoOperationTraceWriter } from '@actions/workflow-parser';
import { convertActionTemplate, parseAction, type ActionTemplate } from '@actions/workflow-parser/actions/index';
import { parseDocument } from 'yaml';
import { INPUT_DEFAULTS, INPUT_NAMES } from '../../src/config/input-defaults.ts';
import { setOutputs } from '../../src/report/publish-action.ts';
import { passReport } from '../report/fixtures.ts';
import { parseOutputFile } from '../support/run-bundle.ts';

const ACTION_YML = readFileSync(new URL('../../action.yml', import.meta.url), 'utf8');

/** The runner evaluates this default; outside a runner (the CLI) there is no token to default to. */
const RUNNER_DEFAULTS: Partial<Record<string, string>> = { 'github-token': '${{ github.token }}' };

interface ActionYml {
  runs: { using: string; main: string };
  inputs: Record<string, { description?: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description?: string }>;
}

function strictYaml(text: string): ActionYml {
  const document = parseDocument(text, { version: '1.2', strict: true, uniqueKeys: true, prettyErrors: true });
  const problems = [...document.errors, ...document.warnings].map((problem) => problem.message);
  assert.deepEqual(problems, [], 'action.yml is not valid YAML 1.2');
  return document.toJS() as ActionYml;
}

function githubActionSchema(text: string): ActionTemplate {
  const result = parseAction({ name: 'action.yml', content: text }, new NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((error) => error.message);
  assert.deepEqual(errors, [], 'GitHub’s action parser rejects action.yml');
  assert.ok(result.value, 'parseAction returned no template');
  const template = convertActionTemplate(result.context, result.value);
  assert.deepEqual(
    result.context.errors.getErrors().map((error) => error.message),
    [],
    'converting action.yml',
  );
  return template;
}

/** The output names the code writes, read from the runner's output file after a real setOutputs. */
async function outputsTheCodeSets(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'loadgate-outputs-'));
  const saved = process.env.GITHUB_OUTPUT;
  try {
    process.env.GITHUB_OUTPUT = join(dir, 'output');
    await writeFile(process.env.GITHUB_OUTPUT, '');
    setOutputs(passReport(), join(dir, 'report.json'), '');
    return Object.keys(parseOutputFile(await readFile(process.env.GITHUB_OUTPUT, 'utf8')));
  } finally {
    if (saved === undefined) delete process.env.GITHUB_OUTPUT;
    else process.env.GITHUB_OUTPUT = saved;
    await rm(dir, { recursive: true, force: true });
  }
}

describe('action.yml', { timeout: 20_000 }, () => {
  it('is valid strict YAML 1.2', () => {
    strictYaml(ACTION_YML);
  });

  it('passes GitHub’s action schema (parseAction: 0 errors) and runs dist/index.js on node24', () => {
    const template = githubActionSchema(ACTION_YML);
    assert.deepEqual(
      { using: template.runs.using, main: 'main' in template.runs ? template.runs.main : undefined },
      {
        using: 'node24',
        main: 'dist/index.js',
      },
    );
  });

  it('declares exactly the inputs of INPUT_DEFAULTS, each with a description and the same default', () => {
    const { inputs } = strictYaml(ACTION_YML);
    assert.deepEqual(Object.keys(inputs).sort(), [...INPUT_NAMES].sort(), 'input names, action.yml vs INPUT_DEFAULTS');
    for (const name of INPUT_NAMES) {
      assert.ok(inputs[name].description?.trim(), `input ${name} has a description`);
      assert.equal(inputs[name].default, RUNNER_DEFAULTS[name] ?? INPUT_DEFAULTS[name], `default of input ${name}`);
    }
    const schemaInputs = githubActionSchema(ACTION_YML).inputs ?? [];
    assert.deepEqual(schemaInputs.map((input) => input.id).sort(), [...INPUT_NAMES].sort(), 'input names as GitHub reads them');
    for (const input of schemaInputs) {
      const expected = RUNNER_DEFAULTS[input.id] ?? INPUT_DEFAULTS[input.id as keyof typeof INPUT_DEFAULTS];
      assert.equal(input.default?.toString() ?? '', expected, `default of input ${input.id} as GitHub reads it`);
    }
  });

  it('declares exactly the outputs the code sets', async () => {
    const declared = Object.keys(strictYaml(ACTION_YML).outputs);
    const set = await outputsTheCodeSets();
    assert.ok(set.length > 0, 'setOutputs wrote outputs');
    assert.deepEqual(declared.sort(), [...set].sort(), 'outputs, action.yml vs setOutputs');
    const schemaOutputs = (githubActionSchema(ACTION_YML).outputs ?? []).map((output) => output.id);
    assert.deepEqual(schemaOutputs.sort(), [...set].sort(), 'outputs as GitHub reads them');
    for (const name of declared) assert.ok(strictYaml(ACTION_YML).outputs[name].description?.trim(), `output ${name} has a description`);
  });
});
