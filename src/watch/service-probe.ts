// Finds the service on the host before any load: a `service-match` must match a process, a
// `service-unit` must have a cgroup with memory figures. Two execs at most, both read-only.

import type { RemoteHost } from '../remote/remote-host.ts';
import { shellQuote } from '../remote/shell.ts';
import { TargetError } from '../remote/target-error.ts';
import { serviceCheckCommand, type SampledServices } from './sample-line.ts';
import { describeServiceCandidates, parseServiceSegment, type ServiceProbe, type ServiceSelector } from './service-memory.ts';

export interface ServiceSelectors {
  /** `service-match` / `service-unit`: this build's service. */
  service?: ServiceSelector;
  /** `baseline-service-match`: the baseline deployment's processes on the same host (A/B mode). */
  baselineService?: ServiceSelector;
}

const INPUT_OF = {
  candidate: { match: 'service-match', unit: 'service-unit' },
  baseline: { match: 'baseline-service-match', unit: 'baseline-service-match' },
};
// An awk -v value treats backslashes as escapes: such a cgroup path (systemd's \x2d) is refused.
const PLAIN_CGROUP_PATH = /^\/[A-Za-z0-9@:._/-]*$/;

export async function resolveServices(host: RemoteHost, selectors: ServiceSelectors): Promise<SampledServices> {
  const services: SampledServices = {};
  if (selectors.service) services.candidate = await probeOf(host, selectors.service, 'candidate');
  if (selectors.baselineService) services.baseline = await probeOf(host, selectors.baselineService, 'baseline');
  if (!services.candidate && !services.baseline) return services;
  await checkServicesRun(host, services);
  return services;
}

async function probeOf(host: RemoteHost, selector: ServiceSelector, role: 'candidate' | 'baseline'): Promise<ServiceProbe> {
  if (selector.kind === 'match') return { kind: 'match', pattern: selector.pattern, label: selector.pattern };
  const unit = shellQuote(selector.unit);
  const input = INPUT_OF[role].unit;
  const result = await host.exec(
    [
      `group=$(systemctl show -p ControlGroup -- ${unit} 2>/dev/null | sed -n 's/^ControlGroup=//p')`,
      'echo "group $group"',
      'if [ -n "$group" ] && [ -r "/sys/fs/cgroup$group/memory.current" ]; then echo "v2 /sys/fs/cgroup$group"',
      'elif [ -n "$group" ] && [ -r "/sys/fs/cgroup/memory$group/memory.usage_in_bytes" ]; then echo "v1 /sys/fs/cgroup/memory$group"; fi',
    ].join('\n'),
  );
  const group = /^group (.*)$/m.exec(result.stdout)?.[1]?.trim() ?? '';
  if (group === '') {
    throw new TargetError(
      'invalid-setting',
      `${input} '${selector.unit}' has no cgroup on the host: is it a loaded, running systemd unit? ` +
        `(\`systemctl status ${selector.unit}\`)`,
    );
  }
  const found = /^v([12]) (\/.*)$/m.exec(result.stdout);
  if (!found) {
    throw new TargetError(
      'invalid-setting',
      `${input} '${selector.unit}': its cgroup ${group} has no memory figures on the host (no memory controller); ` +
        'use service-match instead',
    );
  }
  const directory = found[2]!.trim();
  if (!PLAIN_CGROUP_PATH.test(directory)) {
    throw new TargetError(
      'invalid-setting',
      `${input} '${selector.unit}': its cgroup path ${JSON.stringify(directory)} holds characters loadgate does not read; ` +
        'use service-match instead',
    );
  }
  return { kind: 'cgroup', unit: selector.unit, directory, version: found[1] === '2' ? 2 : 1, label: selector.unit };
}

/** One sample of every service: none may be empty, and a pattern must be one pgrep accepts. */
async function checkServicesRun(host: RemoteHost, services: SampledServices): Promise<void> {
  const result = await host.exec(serviceCheckCommand(services));
  const [statuses = '', sample = '', largest = ''] = result.stdout.split(/^@@$/m);
  const segments = sample
    .trim()
    .split('|')
    .slice(6)
    .map((segment) => parseServiceSegment(segment.replaceAll(';', '\n')));
  const roles = (['candidate', 'baseline'] as const).filter((role) => services[role] !== undefined);
  roles.forEach((role, i) => {
    const probe = services[role]!;
    const input = INPUT_OF[role][probe.kind === 'match' ? 'match' : 'unit'];
    const status = new RegExp(`^s${i} (\\d+)$`, 'm').exec(statuses)?.[1];
    if (probe.kind === 'match' && status === '2') {
      throw new TargetError('invalid-setting', `${input} '${probe.pattern}' is not a regular expression pgrep accepts on the host`);
    }
    const segment = segments[i];
    if (!segment) {
      throw new TargetError(
        'command-failed',
        `reading the memory of ${input} '${probe.label}' on the host failed: ${result.stderr.trim().split('\n')[0] ?? ''}`,
      );
    }
    if (segment.processCount === 0) {
      const what = probe.kind === 'match' ? `matches no process on the host` : `has no process on the host`;
      throw new TargetError(
        'invalid-setting',
        `${input} '${probe.label}' ${what}; processes that look like services: ${describeServiceCandidates(largest)}`,
      );
    }
  });
}
