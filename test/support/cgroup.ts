// Removing a cgroup (v1) a test made: the kernel refuses while killed tasks are still leaving it.
import assert from 'node:assert/strict';
import { existsSync, rmdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export async function removeCgroup(path: string): Promise<void> {
  for (let attempt = 0; attempt < 50 && existsSync(path); attempt += 1) {
    try {
      rmdirSync(path);
    } catch {
      await sleep(100); // a killed task is still leaving the group
    }
  }
  assert.ok(!existsSync(path), `could not remove ${path}`);
}
