import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { INPUT_DEFAULTS, INPUT_NAMES, type RawInputs } from '../../src/config/input-defaults.ts';
import { ConfigError, parseInputs } from '../../src/config/parse.ts';
import type { Settings } from '../../src/config/settings.ts';
import { parseCliArgs } from '../../src/config/cli-args.ts';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n';

function settingsOf(raw: RawInputs): Settings {
  const plan = parseInputs({ url: 'http://127.0.0.1:8080/api', ...raw });
  assert.equal(plan.kind, 'measure');
  return plan.settings;
}

function problemsOf(raw: RawInputs): string[] {
  try {
    parseInputs({ url: 'http://127.0.0.1:8080/api', ...raw });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe('parseInputs: defaults and accepted forms', { timeout: 10_000 }, () => {
  it('applies the documented defaults', () => {
    const s = settingsOf({});
    assert.equal(s.load.connections, 10);
    assert.equal(s.load.durationMs, 10_000);
    assert.equal(s.load.bursts, 5);
    assert.equal(s.load.warmupMs, 5_000);
    assert.equal(s.load.timeoutMs, 10_000);
    assert.equal(s.load.rate, undefined);
    assert.equal(s.swap.mode, 'verify');
    assert.deepEqual(s.swap.size, { bytes: 2 * 2 ** 30 });
    assert.equal(s.gate.maxMedianIncrease, 0.1);
    assert.equal(s.gate.maxP95Increase, 0.15);
    assert.equal(s.gate.maxErrorRate, 0.01);
    assert.equal(s.baseline.key, 'loadgate');
    assert.equal(s.ssh, undefined);
    assert.equal(s.lock.timeoutMs, 600_000);
  });

  it('reads durations as seconds, milliseconds and minutes', () => {
    assert.equal(settingsOf({ duration: '10' }).load.durationMs, 10_000);
    assert.equal(settingsOf({ duration: '1500ms' }).load.durationMs, 1_500);
    assert.equal(settingsOf({ duration: '1m' }).load.durationMs, 60_000);
    assert.equal(settingsOf({ warmup: '0' }).load.warmupMs, 0);
  });

  it('reads percents with and without the sign, sizes absolute and relative', () => {
    assert.equal(settingsOf({ 'max-median-increase': '12.5' }).gate.maxMedianIncrease, 0.125);
    assert.equal(settingsOf({ 'max-p95-increase': '20%' }).gate.maxP95Increase, 0.2);
    assert.deepEqual(settingsOf({ 'swap-size': '512M' }).swap.size, { bytes: 512 * 2 ** 20 });
    assert.deepEqual(settingsOf({ 'swap-size': '2x' }).swap.size, { multipleOfMemory: 2 });
  });

  it('parses multiline headers and keeps values with colons', () => {
    const s = settingsOf({ headers: 'Authorization: Bearer a:b\n\nX-Trace: 1\n' });
    assert.deepEqual(s.load.headers, { Authorization: 'Bearer a:b', 'X-Trace': '1' });
  });

  it('builds SSH settings only when host is set, with several pins', () => {
    const fp1 = `SHA256:${'A'.repeat(43)}`;
    const fp2 = `SHA256:${'b'.repeat(43)}`;
    const s = settingsOf({ host: '127.0.0.1', username: 'deploy', key: KEY, fingerprint: `${fp1},\n${fp2}` });
    assert.deepEqual(s.ssh?.fingerprints, [fp1, fp2]);
    assert.equal(s.ssh?.port, 22);
    assert.equal(s.ssh?.privateKey, KEY);
  });

  it('switches to post-report mode with comment-from, where url is not needed', () => {
    const plan = parseInputs({ 'comment-from': 'report/loadgate.json' });
    assert.equal(plan.kind, 'post-report');
  });
});

describe('parseInputs: bad input names the input and the accepted form', { timeout: 10_000 }, () => {
  const cases: [string, RawInputs, RegExp][] = [
    ['missing url', { url: '' }, /input `url`: required/],
    ['malformed url', { url: 'not a url' }, /input `url`: got "not a url"; expected an absolute http:\/\/ or https:\/\/ URL/],
    ['non-http scheme', { url: 'ftp://example.com/' }, /input `url`.*http/],
    ['file scheme', { url: 'file:///etc/passwd' }, /input `url`/],
    ['zero connections', { connections: '0' }, /input `connections`: got "0"; expected a whole number from 1 to 10000/],
    ['negative connections', { connections: '-5' }, /input `connections`/],
    ['non-numeric bursts', { bursts: 'many' }, /input `bursts`: got "many"; expected a whole number from 1 to 100/],
    ['fractional bursts', { bursts: '2.5' }, /input `bursts`/],
    ['zero duration', { duration: '0' }, /input `duration`: got "0"; expected a duration \(more than 0\)/],
    ['negative duration', { duration: '-10s' }, /input `duration`/],
    ['unit typo in duration', { duration: '10 sec' }, /input `duration`.*`10s`/],
    ['garbage timeout', { timeout: 'soon' }, /input `timeout`/],
    ['sub-second timeout', { timeout: '500ms' }, /input `timeout`: got "500ms"; expected a duration \(at least 1s\)/],
    ['unknown method', { method: 'FETCH' }, /input `method`: got "FETCH"; expected one of `GET`/],
    ['unknown swap mode', { swap: 'maybe' }, /input `swap`: got "maybe"; expected one of `verify`, `configure`, `off`/],
    ['unknown store', { 'baseline-store': 's3' }, /input `baseline-store`.*`branch`, `file`, `none`/],
    ['unknown update-baseline', { 'update-baseline': 'yes' }, /input `update-baseline`/],
    ['unknown comment mode', { comment: 'sometimes' }, /input `comment`/],
    ['percent above 1000', { 'max-median-increase': '1500%' }, /input `max-median-increase`: got "1500%"; expected a percentage from 0 to 1000/],
    ['negative percent', { 'max-p95-increase': '-5' }, /input `max-p95-increase`/],
    ['error rate above 100%', { 'max-error-rate': '150' }, /input `max-error-rate`.*0 to 100/],
    ['header without colon', { headers: 'Authorization Bearer x' }, /input `headers`: got "Authorization Bearer x"; expected one `Name: value` line/],
    ['swap-size garbage', { 'swap-size': 'lots' }, /input `swap-size`: got "lots"; expected a size from 16M to 1T/],
    ['swap-size too small', { 'swap-size': '1K' }, /input `swap-size`/],
    ['relative swap-path', { 'swap-path': 'swapfile' }, /input `swap-path`.*absolute path/],
    ['hostile swap-path', { 'swap-path': '/swap; rm -rf /' }, /input `swap-path`/],
    ['swap-path with substitution', { 'swap-path': '/tmp/$(reboot)' }, /input `swap-path`/],
    ['swap-path with parent dir', { 'swap-path': '/tmp/../etc/passwd' }, /input `swap-path`/],
    ['port out of range', { host: 'h', username: 'u', key: KEY, port: '70000' }, /input `port`: got "70000"; expected a whole number from 1 to 65535/],
    ['host without username and key', { host: 'staging' }, /input `username`: required when `host` is set[\s\S]*input `key`: required/],
    ['key that is not a key', { host: 'h', username: 'u', key: 'hunter2' }, /input `key`: not a private key/],
    ['malformed fingerprint', { host: 'h', username: 'u', key: KEY, fingerprint: 'MD5:aa:bb' }, /input `fingerprint`.*SHA256/],
    ['known-hosts line too short', { host: 'h', username: 'u', key: KEY, 'known-hosts': 'justonefield' }, /input `known-hosts`/],
    ['non-boolean flag', { 'fail-on-regression': 'sure' }, /input `fail-on-regression`: got "sure"; expected `true` or `false`/],
    ['rate garbage', { rate: 'fast' }, /input `rate`.*requests per second/],
    ['zero rate', { rate: '0' }, /input `rate`/],
    ['baseline-key with slash', { 'baseline-key': '../x' }, /input `baseline-key`/],
    ['bad baseline-url', { 'baseline-url': 'staging' }, /input `baseline-url`/],
    ['more processes than connections', { connections: '2', 'load-processes': '4' }, /input `load-processes`/],
  ];
  for (const [title, raw, expected] of cases) {
    it(title, () => assert.match(problemsOf(raw).join('\n'), expected));
  }

  it('reports every problem at once', () => {
    const problems = problemsOf({ connections: '0', bursts: 'x', swap: 'maybe' });
    assert.equal(problems.length, 3);
  });

  it('never echoes a secret value in its message', () => {
    const secret = 'hunter2-super-secret';
    const problems = problemsOf({ host: 'h', username: 'u', key: secret, passphrase: secret });
    assert.ok(!problems.join('\n').includes(secret));
  });
});

describe('CLI flags', { timeout: 10_000 }, () => {
  it('accepts --name value and --name=value with the input names', () => {
    const request = parseCliArgs(['--url', 'http://127.0.0.1:1/', '--bursts=3', '--report-path', 'r.json']);
    assert.deepEqual(request.inputs, { url: 'http://127.0.0.1:1/', bursts: '3' });
    assert.equal(request.reportPath, 'r.json');
  });

  it('rejects unknown flags and stray words', () => {
    assert.throws(() => parseCliArgs(['--colour', 'red', 'extra']), /flag `--colour`: unknown[\s\S]*argument "extra"/);
  });
});

describe('action.yml', { timeout: 10_000 }, () => {
  const yml = readFileSync(new URL('../../action.yml', import.meta.url), 'utf8');

  it('declares every input with its description and the same default as the code', () => {
    for (const name of INPUT_NAMES) {
      const block = new RegExp(`\\n  ${name}:\\n    description: .+\\n(?:    required: false\\n)?    default: (.*)\\n`).exec(yml);
      assert.ok(block, `action.yml lacks input ${name} with description and default`);
      const declared = block[1].replace(/^'(.*)'$/, '$1');
      const expected = name === 'github-token' ? '${{ github.token }}' : INPUT_DEFAULTS[name];
      assert.equal(declared, expected, `default of ${name}`);
    }
  });

  it('runs on node24 from the bundle and declares the outputs', () => {
    assert.match(yml, /runs:\n  using: node24\n  main: dist\/index.js/);
    for (const output of ['verdict', 'median-ms', 'p95-ms', 'median-change', 'p95-change', 'report', 'comment-url']) {
      assert.match(yml, new RegExp(`\\n  ${output}:\\n    description: `));
    }
  });
});

describe('service memory inputs', () => {
  const withHost: RawInputs = {
    url: 'http://127.0.0.1:8080/',
    host: 'staging.example.com',
    username: 'deploy',
    key: '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----',
  };

  it('defaults: 20 % growth, 10 % headroom, swap-in not gated, no service', () => {
    const settings = settingsOf(withHost);
    assert.deepEqual(settings.memoryGate, { maxMemoryIncrease: 0.2, minMemoryHeadroom: 0.1, maxSwapInMbPerSec: undefined });
    assert.equal(settings.watch.service, undefined);
  });

  it('reads service-match, service-unit, baseline-service-match and max-swap-in', () => {
    assert.deepEqual(settingsOf({ ...withHost, 'service-match': 'gunicorn' }).watch.service, { kind: 'match', pattern: 'gunicorn' });
    assert.deepEqual(settingsOf({ ...withHost, 'service-unit': 'gunicorn.service' }).watch.service, {
      kind: 'unit',
      unit: 'gunicorn.service',
    });
    const ab = settingsOf({
      ...withHost,
      'service-match': 'gunicorn.*pr',
      'baseline-service-match': 'gunicorn.*main',
      'baseline-url': 'http://127.0.0.1:8081/',
    });
    assert.deepEqual(ab.watch.baselineService, { kind: 'match', pattern: 'gunicorn.*main' });
    assert.equal(settingsOf({ ...withHost, 'max-swap-in': '0.5MB/s' }).memoryGate.maxSwapInMbPerSec, 0.5);
  });

  it('refuses a service without host, both selectors, a bad pattern, a baseline service outside A/B', () => {
    assert.match(problemsOf({ url: 'http://x/', 'service-match': 'gunicorn' }).join('\n'), /input `service-match`: needs `host`/);
    assert.match(
      problemsOf({ ...withHost, 'service-match': 'g', 'service-unit': 'g.service' }).join('\n'),
      /either `service-match` or `service-unit`/,
    );
    assert.match(
      problemsOf({ ...withHost, 'service-match': 'gun(icorn' }).join('\n'),
      /input `service-match`: got "gun\(icorn"; expected a regular expression/,
    );
    assert.match(
      problemsOf({ ...withHost, 'service-unit': 'gunicorn service; rm' }).join('\n'),
      /input `service-unit`: .*systemd unit name/,
    );
    assert.match(
      problemsOf({ ...withHost, 'service-match': 'g', 'baseline-service-match': 'm' }).join('\n'),
      /`baseline-service-match`: needs `baseline-url`/,
    );
    assert.match(problemsOf({ ...withHost, 'max-swap-in': 'lots' }).join('\n'), /input `max-swap-in`/);
    assert.match(problemsOf({ ...withHost, 'min-memory-headroom': '150%' }).join('\n'), /input `min-memory-headroom`/);
  });

  it('action.yml declares the memory outputs', () => {
    const yml = readFileSync(new URL('../../action.yml', import.meta.url), 'utf8');
    for (const output of ['service-memory-mb', 'memory-change', 'memory-headroom'])
      assert.match(yml, new RegExp(`\\n  ${output}:\\n    description: `));
  });
});
