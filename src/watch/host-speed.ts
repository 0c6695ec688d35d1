// The host's speed: a fixed CPU workload (SHA-256 over zeros, with tools every Linux image has)
// timed on the host itself, between bursts, never during one. A host held to its CPU-credit
// baseline, or sharing its cores with a neighbour, hashes slower; the same code there is slower too.
//
// The tools' fork and exec cost several ms a pass (6–13 ms measured here), which would make the
// figure depend on the amount hashed: an empty pass is timed too and taken off. The first probe of
// a run doubles the amount from 1 MiB until the hashing itself takes MIN_HASH_MS; later probes
// hash that same amount. Each is timed twice and the faster kept, since a
// context switch only ever makes a pass slower. The figure is MB/s (10^6 bytes a second).
//
// What it sees: steal, a neighbour, a fine-grained CPU cap (a hypervisor's credit scheduler). What
// it cannot see: a CFS quota with a long period (a container's `cpu.cfs_period_us` of 100 ms) on an
// idle host, since a 20 ms pass fits inside the quota; under load the service then suffers in its
// tail (p95), not at p50.

import type { RemoteHost } from '../remote/remote-host.ts';

export interface HostSpeedProbe {
  /** MiB hashed per pass: chosen by the run's first probe, reused by the others. */
  mib: number;
  /** The faster of two passes, less the faster of two empty ones. */
  hashMs: number;
  mbPerSec: number;
}

const MIN_HASH_MS = 20;
/** A host this slow hashes what it can in one pass: the probe stays short. */
const MAX_MIB = 256;
const MARKER = '@host-speed';

/** A sh script: prints `@host-speed <mib> <pass ns> <empty pass ns>`, or `@host-speed unsupported <why>`. */
export function hostSpeedCommand(fixedMib?: number): string {
  return [
    // busybox date has no %N: it prints the letter.
    `case $(date +%N) in *[!0-9]*|'') echo '${MARKER} unsupported: date has no nanoseconds'; exit 0;; esac`,
    `command -v sha256sum >/dev/null 2>&1 || { echo '${MARKER} unsupported: no sha256sum'; exit 0; }`,
    'pass() { s=$(date +%s%N); head -c $(($1 * 1048576)) /dev/zero | sha256sum >/dev/null; e=$(date +%s%N); echo $((e - s)); }',
    'best() { a=$(pass "$1"); b=$(pass "$1"); if [ "$a" -lt "$b" ]; then echo "$a"; else echo "$b"; fi; }',
    'empty=$(best 0)',
    fixedMib === undefined
      ? `mib=1; while [ $(($(pass $mib) - empty)) -lt ${MIN_HASH_MS * 1_000_000} ] && [ $mib -lt ${MAX_MIB} ]; do mib=$((mib * 2)); done`
      : `mib=${fixedMib}`,
    `echo "${MARKER} $mib $(best $mib) $empty"`,
  ].join('\n');
}

/** The probe's figures from its output; a reason instead when the host could not run it. */
export function parseHostSpeed(stdout: string): HostSpeedProbe | { unsupported: string } {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(`${MARKER} `));
  if (!line) return { unsupported: 'the probe printed no result' };
  const [, first = '', ...rest] = line.trim().split(/\s+/);
  if (first === 'unsupported:') return { unsupported: rest.join(' ') };
  const [mib, passNs, emptyNs] = [Number(first), Number(rest[0]), Number(rest[1])];
  const hashNs = passNs - emptyNs;
  if (!Number.isInteger(mib) || mib <= 0 || !Number.isFinite(hashNs) || hashNs <= 0 || emptyNs < 0) {
    return { unsupported: `unreadable result: ${line}` };
  }
  const hashMs = hashNs / 1e6;
  return { mib, hashMs: Number(hashMs.toFixed(3)), mbPerSec: Number(((mib * 1_048_576) / 1e3 / hashMs).toFixed(1)) };
}
/** Runs one probe on the host: `mib` from the run's first probe, or undefined to choose it. */
export async function probeHostSpeed(host: RemoteHost, mib?: number): Promise<HostSpeedProbe> {
  const result = await host.exec(hostSpeedCommand(mib));
  const parsed = parseHostSpeed(result.stdout);
  if ('unsupported' in parsed) {
    const stderr = result.stderr.trim().split('\n')[0];
    throw new Error(`host speed probe: ${parsed.unsupported}${result.code !== 0 && stderr ? ` (${stderr})` : ''}`);
  }
  return parsed;
}
