// A Log that keeps every message (and phase and progress call), and the check every SSH test ends with: no secret in them.

import assert from 'node:assert/strict';
import type { Log } from '../../src/log.ts';

export interface CapturedLog extends Log {
  readonly messages: string[];
}

export function captureLog(): CapturedLog {
  const messages: string[] = [];
  return {
    messages,
    info: (message) => messages.push(`info: ${message}`),
    warning: (message) => messages.push(`warning: ${message}`),
    debug: (message) => messages.push(`debug: ${message}`),
    // Every start and end as called, nested or not, so a test sees how the pipeline opened its phases.
    async phase(name, work) {
      messages.push(`group: ${name}`);
      try {
        return await work();
      } finally {
        messages.push(`endgroup: ${name}`);
      }
    },
    progress: (leftMs, step) => messages.push(`progress: ${step ?? ''} ${leftMs} ms`),
  };
}

/**
 * Fails when any secret shows in `texts` (log lines, error messages): passwords and passphrases
 * whole, private keys by any line of their body.
 */
export function assertNoSecrets(texts: string[], secrets: Array<string | undefined>): void {
  const needles = secrets
    .filter((secret): secret is string => secret !== undefined && secret !== '')
    .flatMap((secret) =>
      secret.includes('PRIVATE KEY') ? secret.split('\n').filter((line) => line.length >= 16 && !line.includes('PRIVATE KEY')) : [secret],
    );
  assert.ok(needles.length > 0, 'no secrets to look for');
  const all = texts.join('\n');
  for (const needle of needles) assert.ok(!all.includes(needle), 'a secret value appears in the captured output');
}
