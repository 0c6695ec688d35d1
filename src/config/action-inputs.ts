// Reads the runner's inputs (INPUT_* variables) once, masking the secret ones, and the
// credentials inside URLs, before anything else can print them.

import * as core from '@actions/core';
import { INPUT_NAMES, SECRET_INPUTS, URL_INPUTS, type RawInputs } from './input-defaults.ts';
import { urlSecrets } from './redact-url.ts';

export function readActionInputs(): RawInputs {
  const raw: RawInputs = {};
  for (const name of INPUT_NAMES) {
    const value = core.getInput(name, { trimWhitespace: false });
    if (!value) continue;
    if (SECRET_INPUTS.includes(name)) maskSecret(value);
    // Parsed or not: a URL refused as malformed never reaches `settings.secrets`, which main.ts masks.
    if (URL_INPUTS.includes(name)) for (const secret of urlSecrets(value.trim())) core.setSecret(secret);
    raw[name] = value;
  }
  return raw;
}

/** Masks the whole value and each line of it: runners mask line by line. */
function maskSecret(value: string): void {
  core.setSecret(value);
  for (const line of value.split(/\r?\n/)) {
    if (line.trim().length >= 4) core.setSecret(line.trim());
  }
}
