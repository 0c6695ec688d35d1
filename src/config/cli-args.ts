// `loadgate --url … --bursts 5`: the same input names as the action, as flags.

import { INPUT_NAMES, type InputName, type RawInputs } from './input-defaults.ts';
import { ConfigError } from './parse.ts';

export interface CliRequest {
  inputs: RawInputs;
  help: boolean;
  /** Where the JSON report goes (the action writes it under RUNNER_TEMP). */
  reportPath?: string;
}

export function parseCliArgs(argv: readonly string[]): CliRequest {
  const inputs: RawInputs = {};
  const problems: string[] = [];
  let help = false;
  let reportPath: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) {
      problems.push(`argument ${JSON.stringify(arg)}: expected \`--name value\` or \`--name=value\``);
      continue;
    }
    const [, name, inline] = match;
    const value = inline ?? argv[i + 1];
    if (inline === undefined) i += 1;
    if (value === undefined) {
      problems.push(`flag \`--${name}\`: missing its value`);
    } else if (name === 'report-path') {
      reportPath = value;
    } else if ((INPUT_NAMES as string[]).includes(name)) {
      inputs[name as InputName] = value;
    } else {
      problems.push(`flag \`--${name}\`: unknown; see \`loadgate --help\``);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return { inputs, help, reportPath };
}
