// The host's speed: a fixed CPU workload (SHA-256 over zeros, with tools every Linux image has)
// timed on the host itself, between bursts, never during one. A host held to its CPU-credit
// baseline, or sharing its cores with a neighbour, hashes slower; the same code there is slower too.
//
// The tools' fork and exec cost several ms a pass (6–13 ms measured here), which would make the
// figure depend on the amount hashed: an empty pass is timed too and taken off. The first probe of
// a run doubles the amount from 1 MiB until the hashing itself takes MIN_HASH_MS, and that last
// pass is its figure; later probes hash that same amount once. One pass is noisier than the best
// of two, but a run's index is the median over its bursts, and each pass costs time on every burst.
// The probe runs at the head of the burst's sampler command (sample-line.ts), before its first
// sample and so before any load: no SSH exec of its own. The figure is MB/s (10^6 bytes a second).
//
// What it sees: steal, a neighbour, a fine-grained CPU cap (a hypervisor's credit scheduler). What
// it cannot see: a CFS quota with a long period (a container's `cpu.cfs_period_us` of 100 ms) on an
// idle host, since a 20 ms pass fits inside the quota; under load the service then suffers in its
// tail (p95), not at p50.

export interface HostSpeedProbe {
  /** MiB hashed per pass: chosen by the run's first probe, reused by the others. */
  mib: number;
  /** The pass less the empty one. */
  hashMs: number;
  mbPerSec: number;
}

const MIN_HASH_MS = 20;
/** A host this slow hashes what it can in one pass: the probe stays short. */
const MAX_MIB = 256;
const MARKER = '@host-speed';

/**
 * A sh fragment, run in a subshell so that it can stop early without ending what follows it:
 * prints `@host-speed <mib> <pass ns> <empty pass ns>`, or `@host-speed unsupported: <why>`.
 */
export function hostSpeedCommand(fixedMib?: number): string {
  const script = [
    // busybox date has no %N: it prints the letter.
    `case $(date +%N) in *[!0-9]*|'') echo '${MARKER} unsupported: date has no nanoseconds'; exit 0;; esac`,
    `command -v sha256sum >/dev/null 2>&1 || { echo '${MARKER} unsupported: no sha256sum'; exit 0; }`,
    'pass() { s=$(date +%s%N); head -c $(($1 * 1048576)) /dev/zero | sha256sum >/dev/null; e=$(date +%s%N); echo $((e - s)); }',
    'empty=$(pass 0)',
    fixedMib === undefined
      ? `mib=1; while ns=$(pass $mib); [ $((ns - empty)) -lt ${MIN_HASH_MS * 1_000_000} ] && [ $mib -lt ${MAX_MIB} ]; do mib=$((mib * 2)); done`
      : `mib=${fixedMib}; ns=$(pass $mib)`,
    `echo "${MARKER} $mib $ns $empty"`,
  ].join('\n');
  return `(\n${script}\n)`;
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
