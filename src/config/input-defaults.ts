// Every input loadgate accepts, with its default. action.yml repeats these defaults for the
// runner's UI; a test keeps the two in step. The CLI takes the same names as `--flags`.

export const INPUT_DEFAULTS = {
  url: '',
  method: 'GET',
  headers: '',
  body: '',
  connections: '10',
  duration: '10s',
  bursts: '5',
  warmup: '5s',
  pipelining: '1',
  timeout: '10s',
  rate: '',
  'load-processes': '1',
  'network-rtt': 'auto',
  'tls-verify': 'true',
  host: '',
  port: '22',
  username: '',
  key: '',
  passphrase: '',
  fingerprint: '',
  'known-hosts': '',
  'insecure-skip-host-key-check': 'false',
  'sudo-password': '',
  swap: 'verify',
  'swap-size': '2G',
  'swap-path': '/swapfile',
  'swap-persist': 'true',
  'logs-command': '',
  lock: 'true',
  'lock-timeout': '10m',
  'max-median-increase': '10%',
  'max-p95-increase': '15%',
  'max-error-rate': '1%',
  'p95-budget': '',
  'fail-on-regression': 'true',
  'fail-on-inconclusive': 'false',
  'baseline-store': 'branch',
  'baseline-branch': 'loadgate-baseline',
  'baseline-path': '.loadgate/baseline.json',
  'baseline-key': '',
  'update-baseline': 'auto',
  'baseline-url': '',
  'github-token': '',
  comment: 'always',
  'comment-from': '',
  name: 'loadgate',
  'service-match': '',
  'service-unit': '',
  'baseline-service-match': '',
  'max-memory-increase': '20%',
  'min-memory-headroom': '10%',
  'max-swap-in': '',
  'host-speed-probe': 'auto',
  'max-cpu-steal': '5%',
} as const;

export type InputName = keyof typeof INPUT_DEFAULTS;

export const INPUT_NAMES = Object.keys(INPUT_DEFAULTS) as InputName[];

/** Inputs whose values are credentials: masked before anything else runs, never printed. */
export const SECRET_INPUTS: readonly InputName[] = ['key', 'passphrase', 'sudo-password', 'github-token'];

/** Inputs holding a URL, whose userinfo and query values are credentials (config/redact-url.ts). */
export const URL_INPUTS: readonly InputName[] = ['url', 'baseline-url'];

/** Raw input values by name; an empty or missing value means "use the default". */
export type RawInputs = Partial<Record<InputName, string>>;
