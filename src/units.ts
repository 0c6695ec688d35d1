// Sizes and durations in words, for every message and report section. Pure.

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/** Bytes in the largest binary unit that keeps the number readable: `2.0 GiB`, `972 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  if (bytes >= MIB) return `${Math.round(bytes / MIB)} MiB`;
  if (bytes >= KIB) return `${Math.round(bytes / KIB)} KiB`;
  return `${bytes} B`;
}

/** A /proc figure in KiB as whole megabytes (`972 MB`); null when it was not observed. */
export function formatMib(kib: number | null): string | null {
  return kib === null ? null : `${Math.round(kib / 1024)} MB`;
}

/** `10 s`, `1.5 s`. */
export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
