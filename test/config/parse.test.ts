import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { INPUT_DEFAULTS, type RawInputs } from '../../src/config/input-defaults.ts';
import { ConfigError, parseInputs } from '../../src/config/parse.ts';
import type { Settings } from '../../src/config/settings.ts';
import { isPlainAbsolutePath, isSwapFilePath } from '../../src/config/validators.ts';
import { parseCliArgs } from '../../src/config/cli-args.ts';
import type { RemoteHost } from '../../src/remote/remote-host.ts';
import { ensureSwap } from '../../src/remote/swap.ts';
import { silentLog } from '../../src/log.ts';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n';
const WITH_HOST: RawInputs = { host: '127.0.0.1', username: 'deploy', key: KEY };

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
    assert.equal(s.load.tlsVerify, true);
    assert.equal(settingsOf({ 'tls-verify': 'false' }).load.tlsVerify, false);
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
    assert.deepEqual(settingsOf({ ...WITH_HOST, 'swap-size': '512M' }).swap.size, { bytes: 512 * 2 ** 20 });
    assert.deepEqual(settingsOf({ ...WITH_HOST, 'swap-size': '2x' }).swap.size, { multipleOfMemory: 2 });
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
    ['zero duration', { duration: '0' }, /input `duration`: got "0"; expected a duration \(at least 100ms, at most 24h\)/],
    ['negative duration', { duration: '-10s' }, /input `duration`/],
    ['unit typo in duration', { duration: '10 sec' }, /input `duration`.*`10s`/],
    ['garbage timeout', { timeout: 'soon' }, /input `timeout`/],
    ['sub-second timeout', { timeout: '500ms' }, /input `timeout`: got "500ms"; expected a duration \(at least 1s,/],
    ['unknown method', { method: 'FETCH' }, /input `method`: got "FETCH"; expected one of `GET`/],
    ['unknown swap mode', { swap: 'maybe' }, /input `swap`: got "maybe"; expected one of `verify`, `configure`, `off`/],
    ['unknown store', { 'baseline-store': 's3' }, /input `baseline-store`.*`branch`, `file`, `none`/],
    ['unknown update-baseline', { 'update-baseline': 'yes' }, /input `update-baseline`/],
    ['unknown comment mode', { comment: 'sometimes' }, /input `comment`/],
    [
      'percent above 1000',
      { 'max-median-increase': '1500%' },
      /input `max-median-increase`: got "1500%"; expected a percentage from 0 to 1000/,
    ],
    ['negative percent', { 'max-p95-increase': '-5' }, /input `max-p95-increase`/],
    ['error rate above 100%', { 'max-error-rate': '150' }, /input `max-error-rate`.*0 to 100/],
    [
      'header without colon',
      { headers: 'X-Trace: 1\nAuthorization Bearer x' },
      /input `headers`: line 2 is not `Name: value` \(its text is not shown\); expected one `Name: value` line/,
    ],
    ['swap-size garbage', { 'swap-size': 'lots' }, /input `swap-size`: got "lots"; expected a size from 64M to 1T/],
    ['swap-size too small', { 'swap-size': '1K' }, /input `swap-size`/],
    ['relative swap-path', { 'swap-path': 'swapfile' }, /input `swap-path`.*absolute path/],
    ['hostile swap-path', { 'swap-path': '/swap; rm -rf /' }, /input `swap-path`/],
    ['swap-path with substitution', { 'swap-path': '/tmp/$(reboot)' }, /input `swap-path`/],
    ['swap-path with parent dir', { 'swap-path': '/tmp/../etc/passwd' }, /input `swap-path`/],
    [
      'port out of range',
      { host: 'h', username: 'u', key: KEY, port: '70000' },
      /input `port`: got "70000"; expected a whole number from 1 to 65535/,
    ],
    ['host without username and key', { host: 'staging' }, /input `username`: required when `host` is set[\s\S]*input `key`: required/],
    ['key that is not a key', { host: 'h', username: 'u', key: 'hunter2' }, /input `key`: not a private key/],
    ['malformed fingerprint', { host: 'h', username: 'u', key: KEY, fingerprint: 'MD5:aa:bb' }, /input `fingerprint`.*SHA256/],
    ['known-hosts line too short', { host: 'h', username: 'u', key: KEY, 'known-hosts': 'justonefield' }, /input `known-hosts`/],
    ['non-boolean flag', { 'fail-on-regression': 'sure' }, /input `fail-on-regression`: got "sure"; expected `true` or `false`/],
    ['non-boolean tls-verify', { 'tls-verify': 'no' }, /input `tls-verify`: got "no"; expected `true` or `false`/],
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

/** Every problem of a refused input, one per line. */
function refusal(raw: RawInputs): string {
  return problemsOf(raw).join('\n');
}

function warningsOf(raw: RawInputs): string[] {
  return parseInputs(raw).warnings;
}

describe('parseInputs: values that used to be accepted and then misbehave (issue 13)', { timeout: 10_000 }, () => {
  it('refuses a burst shorter than one autocannon sampling tick, instead of rounding it to 0 ms', () => {
    for (const duration of ['0.4ms', '0.0004s', '50ms', '0.09s']) {
      assert.match(refusal({ duration }), /input `duration`: got ".*"; expected a duration \(at least 100ms, at most 24h\)/);
    }
    assert.equal(settingsOf({ duration: '100ms' }).load.durationMs, 100);
    assert.equal(settingsOf({ duration: '0.1s' }).load.durationMs, 100);
  });

  it('takes warmup 0 (none) or a real burst, never one that rounds to nothing', () => {
    assert.match(refusal({ warmup: '0.4ms' }), /input `warmup`: got "0.4ms"; expected a duration \(0 or at least 100ms/);
    assert.equal(settingsOf({ warmup: '0s' }).load.warmupMs, 0);
  });

  it('refuses any other duration that would round to 0 ms', () => {
    const lockTimeout = refusal({ ...WITH_HOST, 'lock-timeout': '0.4ms' });
    assert.match(lockTimeout, /input `lock-timeout`: got "0.4ms"; expected a duration \(0 or at least 1ms/);
  });

  it('keeps a sub-millisecond p95-budget to the microsecond, and wants its unit', () => {
    assert.equal(settingsOf({ 'p95-budget': '0.1ms' }).gate.p95BudgetMs, 0.1);
    assert.equal(settingsOf({ 'p95-budget': '0.25ms' }).gate.p95BudgetMs, 0.25);
    assert.equal(settingsOf({ 'p95-budget': '250ms' }).gate.p95BudgetMs, 250);
    assert.equal(settingsOf({ 'p95-budget': '1.5s' }).gate.p95BudgetMs, 1500);
    assert.match(refusal({ 'p95-budget': '0.0001ms' }), /input `p95-budget`: got "0.0001ms"; expected a duration \(at least 0.001ms/);
    assert.match(refusal({ 'p95-budget': '250' }), /input `p95-budget`: got "250"; .*such as `250ms`.*the unit is required/);
  });

  it('wants a whole rate of at least 1 request/s, as autocannon sends them', () => {
    for (const rate of ['0.5', '2.5', '0']) {
      const expected = /input `rate`: got ".*"; expected empty \(closed loop\) or a whole number of requests per second from 1 to 1000000/;
      assert.match(refusal({ rate }), expected, rate);
    }
    assert.equal(settingsOf({ rate: '250' }).load.rate, 250);
  });

  it('wants each load process to get at least 1 request/s of the rate', () => {
    const problems = problemsOf({ rate: '3', connections: '10', 'load-processes': '4' });
    assert.deepEqual(problems, [
      'input `rate`: got "3"; expected at least 5 with 4 `load-processes` sharing 10 `connections` ' +
        '(each process sends its share of the rate, at least 1 request per second)',
    ]);
    assert.equal(settingsOf({ rate: '5', connections: '10', 'load-processes': '4' }).load.rate, 5);
  });

  it('refuses a control character in a header value, naming the header but not its value', () => {
    for (const value of ['a\rInjected: 1', 'a\0b', 'a\x1b[2J']) {
      const problems = refusal({ headers: `X-Token: ${value}` });
      assert.match(problems, /input `headers`: the value of `X-Token` holds a control character \(CR, LF, NUL…\)/, JSON.stringify(value));
      assert.ok(!problems.includes(value), 'the value is not shown');
    }
    assert.deepEqual(settingsOf({ headers: 'A: 1\r\nB: x\ty' }).load.headers, { A: '1', B: 'x\ty' }, 'CRLF line ends and tabs are fine');
  });

  it('refuses a swap size too small to protect anything', () => {
    for (const size of ['0.00001x', '0.05x', '32M', '16M']) {
      assert.match(refusal({ ...WITH_HOST, 'swap-size': size }), /input `swap-size`: .*from 64M to 1T.*0\.1x to 16x/, size);
    }
    assert.deepEqual(settingsOf({ ...WITH_HOST, 'swap-size': '0.1x' }).swap.size, { multipleOfMemory: 0.1 });
    assert.deepEqual(settingsOf({ ...WITH_HOST, 'swap-size': '64M' }).swap.size, { bytes: 64 * 2 ** 20 });
  });

  it('refuses a swap-path that is not a plain file path, before any SSH', () => {
    for (const path of ['//', '/./swapfile', '/var/', '/var', '/', '/tmp//swap', '/tmp/swap/', '/tmp/../swap', `/${'a'.repeat(300)}`]) {
      assert.match(refusal({ ...WITH_HOST, 'swap-path': path }), /input `swap-path`: .*an absolute path .* naming a file/, path);
    }
    assert.equal(settingsOf({ ...WITH_HOST, 'swap-path': '/var/lib/loadgate/swap-1.img' }).swap.path, '/var/lib/loadgate/swap-1.img');
  });

  it('refuses at parse time exactly the swap paths the target-side check refuses (one rule)', async () => {
    const noCommands = { exec: () => Promise.reject(new Error('no command may reach the target')) } as unknown as RemoteHost;
    const paths = ['/swapfile', '/var/lib/swap.img', '//', '/./swapfile', '/var/', '/var', '/', 'swapfile', '/a b', '/tmp/$(id)'];
    for (const path of paths) {
      const parsedOk = problemsOf({ ...WITH_HOST, 'swap-path': path, bursts: 'x' }).every((problem) => !problem.includes('swap-path'));
      assert.equal(parsedOk, isSwapFilePath(path), path);
      const settings = { mode: 'configure' as const, size: { bytes: 2 ** 30 }, path, persist: false };
      const atUse = await ensureSwap(noCommands, settings, silentLog).then(
        () => 'accepted',
        (error: Error) => (error.message.startsWith('swap-path must be') ? 'refused' : 'accepted'),
      );
      assert.equal(atUse, parsedOk ? 'accepted' : 'refused', path);
    }
    assert.ok(isPlainAbsolutePath('/var') && !isSwapFilePath('/var'), 'a system directory is a plain path, not a swap file');
  });

  it('accepts baseline keys and names that are Object.prototype members', () => {
    assert.equal(settingsOf({ 'baseline-key': 'constructor' }).baseline.key, 'constructor');
    assert.equal(settingsOf({ 'baseline-key': '__proto__' }).baseline.key, '__proto__');
    assert.equal(settingsOf({ name: 'toString' }).baseline.key, 'toString');
  });

  it('refuses a baseline-path or comment-from that names a directory', () => {
    for (const path of ['/tmp/', '.', '..', 'reports/..', '.loadgate/']) {
      assert.match(refusal({ 'baseline-path': path }), /input `baseline-path`: got ".*"; expected a file path \(not a directory/);
    }
    assert.throws(() => parseInputs({ 'comment-from': 'report/' }), /input `comment-from`: got "report\/"; expected a file path/);
  });

  it('refuses a sudo-password or github-token with a line break inside, without showing it', () => {
    const secret = 'hunter2\nrm -rf /';
    const problems = refusal({ ...WITH_HOST, 'sudo-password': secret, 'github-token': 'ghs_abc\r\ndef' });
    assert.match(problems, /input `sudo-password`: holds a line break or NUL inside/);
    assert.match(problems, /input `github-token`: holds a line break or control character/);
    assert.ok(!problems.includes('hunter2') && !problems.includes('ghs_abc'));
    assert.equal(settingsOf({ ...WITH_HOST, 'sudo-password': 'hunter2\n' }).ssh?.sudoPassword, 'hunter2', 'a final newline is dropped');
  });

  it('refuses a NUL in logs-command (the remote shell would run a truncated command)', () => {
    assert.match(refusal({ ...WITH_HOST, 'logs-command': 'journalctl\0; reboot' }), /input `logs-command`: .*without NUL/);
  });

  it('refuses branch names git refuses', () => {
    for (const branch of ['-x', '.hidden', 'a/.b', 'a.', 'a.lock/b', 'x.lock', 'a//b', 'a..b']) {
      assert.match(refusal({ 'baseline-branch': branch }), /input `baseline-branch`/, branch);
    }
    assert.equal(settingsOf({ 'baseline-branch': 'perf/baseline.v2' }).baseline.branch, 'perf/baseline.v2');
  });

  it('refuses every numeric input that is not finite or not plain decimal', () => {
    const numeric = [
      'connections',
      'bursts',
      'pipelining',
      'load-processes',
      'rate',
      'duration',
      'warmup',
      'timeout',
      'p95-budget',
      'max-median-increase',
      'max-p95-increase',
      'max-error-rate',
      'swap-size',
      'port',
      'lock-timeout',
    ] as const;
    for (const name of numeric) {
      for (const value of ['1e999', '9'.repeat(400), 'Infinity', 'NaN', '0x10', '１０', '-1']) {
        assert.match(refusal({ ...WITH_HOST, [name]: value }), new RegExp(`input \`${name}\``), `${name}: ${value}`);
      }
    }
  });
});

describe('parseInputs: inputs that only make sense with another one', { timeout: 10_000 }, () => {
  it('refuses a host credential without a host, and names what else is ignored', () => {
    const hostActions = { 'logs-command': 'journalctl -u app', swap: 'configure', 'swap-size': '4G', 'swap-path': '/swap2', key: KEY };
    assert.deepEqual(problemsOf(hostActions), [
      'input `key`: a credential for the target host, but `host` is empty; expected `host` too, or remove it',
    ]);
    const { key: _key, ...withoutKey } = hostActions;
    assert.deepEqual(warningsOf({ url: 'http://127.0.0.1:1/', ...withoutKey }), [
      '`swap: configure`, `logs-command`, `swap-size`, `swap-path` set but `host` is empty: ignored, no host is watched ' +
        "(a fork's pull request gets empty secrets; elsewhere, set `host`)",
    ]);
  });

  it('warns, without refusing, about connection settings given without a host', () => {
    assert.deepEqual(warningsOf({ url: 'http://127.0.0.1:1/', username: 'deploy', port: '2222', swap: 'off' }), [
      "`port`, `username` set but `host` is empty: ignored, no host is watched (a fork's pull request gets empty secrets; elsewhere, set `host`)",
    ]);
    assert.deepEqual(warningsOf({ url: 'http://127.0.0.1:1/', ...WITH_HOST, port: '2222', 'logs-command': 'true' }), []);
    const defaults = { url: 'http://127.0.0.1:1/', duration: INPUT_DEFAULTS.duration, swap: 'verify' };
    assert.deepEqual(warningsOf(defaults), [], 'defaults are not "given"');
  });

  it('refuses a target or credentials with comment-from, and warns about other measuring inputs', () => {
    assert.throws(
      () => parseInputs({ 'comment-from': 'r.json', url: 'http://127.0.0.1:1/', host: 'h', key: KEY }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.length === 3 &&
        error.problems.every((problem) => /^input `(url|host|key)`: set with `comment-from`, which posts a stored report/.test(problem)),
    );
    const plan = parseInputs({ 'comment-from': 'r.json', bursts: '9', 'fail-on-regression': 'false', comment: 'never', name: 'api' });
    assert.equal(plan.kind, 'post-report');
    assert.deepEqual(plan.warnings, [
      '`bursts`, `fail-on-regression` set with `comment-from`: ignored, the stored report was measured and judged by its own run',
    ]);
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
});
