// How figures read in the verdict's sentences: "+18.2%", "limit +15%", "12.3 ms", "p = 0.004".

/** A fraction as a signed percent with one decimal: 0.182 → "+18.2%". */
export function signedPercent(fraction: number): string {
  const text = (fraction * 100).toFixed(1).replace(/^-0\.0$/, '0.0');
  return `${text.startsWith('-') ? '' : '+'}${text}%`;
}

/** A configured limit without trailing zeros: 0.15 → "15%", 0.125 → "12.5%". */
export function plainPercent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))}%`;
}

export function milliseconds(ms: number): string {
  const digits = ms >= 100 ? 0 : ms >= 10 ? 1 : ms >= 1 ? 2 : 3;
  return `${ms.toFixed(digits)} ms`;
}

export function pValue(p: number): string {
  return p < 0.001 ? '< 0.001' : `= ${p.toFixed(3)}`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function runs(n: number): string {
  return `${n} run${n === 1 ? '' : 's'}`;
}
