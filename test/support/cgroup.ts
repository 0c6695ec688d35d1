// CPU cgroups (v1) for tests: a group that holds processes to part of a core, and removing it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * A CPU group as a cgroup v1 host has it: the `cpu` controller (the quota) and `cpuacct` (the usage,
 * which the host speed probe reads) at one path. This machine mounts the two apart; hosts mount
 * them together, so a process in the group is in both.
 */
export interface CpuGroup {
  /** Its `cgroup.procs` files: a process written to each is in the group. */
  readonly procs: readonly string[];
  add(pid: number): void;
  /** Starts `command` inside the group: a shell moves itself in, then execs it. */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** The quota as a share of one CPU, per period; `unlimited` lifts it. */
  setShare(share: number | 'unlimited'): void;
  /** Lifts the quota and removes the group; its processes must have ended or moved. */
  remove(): Promise<void>;
}

export interface CpuGroupOptions {
  /** cpu.cfs_period_us: short, as a hypervisor's credit scheduler caps finely. Default 10 ms. */
  periodUs?: number;
  /** cpu.shares: a weight far above a process's 1024 keeps this machine's other work from the group's quota. */
  shares?: number;
}

/** `sh -c` with the cgroup.procs files, `--` and a command: the shell writes its pid to each, then execs the command. */
export const MOVE_IN_THEN_EXEC = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 1; shift; done; shift; exec "$@"';

export function makeCpuGroup(name: string, options: CpuGroupOptions = {}): CpuGroup {
  const periodUs = options.periodUs ?? 10_000;
  const cpu = `/sys/fs/cgroup/cpu/${name}`;
  const cpuacct = `/sys/fs/cgroup/cpuacct/${name}`;
  mkdirSync(cpu);
  mkdirSync(cpuacct);
  writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(periodUs));
  if (options.shares !== undefined) writeFileSync(join(cpu, 'cpu.shares'), String(options.shares));
  const procs = [join(cpu, 'cgroup.procs'), join(cpuacct, 'cgroup.procs')];
  const setShare = (share: number | 'unlimited') =>
    writeFileSync(join(cpu, 'cpu.cfs_quota_us'), share === 'unlimited' ? '-1' : String(Math.round(share * periodUs)));
  return {
    procs,
    add: (pid) => {
      for (const file of procs) writeFileSync(file, String(pid));
    },
    spawn: (command, args, spawnOptions = {}) =>
      spawn('sh', ['-c', MOVE_IN_THEN_EXEC, 'sh', ...procs, '--', command, ...args], spawnOptions),
    setShare,
    remove: async () => {
      if (existsSync(cpu)) setShare('unlimited');
      await removeCgroup(cpu);
      await removeCgroup(cpuacct);
    },
  };
}
