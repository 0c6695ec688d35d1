// Chooses the baseline store the settings ask for.

import type { RunContext } from '../config/run-context.ts';
import type { Settings } from '../config/settings.ts';
import { createGitHubClient } from '../github/client.ts';
import type { Log } from '../log.ts';
import { createBranchStore } from './branch-store.ts';
import { createFileStore } from './file-store.ts';
import type { BaselineStore } from './store.ts';

export function openBaselineStore(settings: Settings, context: RunContext, log: Log): BaselineStore | undefined {
  switch (settings.baseline.store) {
    case 'none':
      return undefined;
    case 'file':
      return createFileStore(settings.baseline.path, log);
    case 'branch': {
      const [owner, repo] = context.repository?.split('/') ?? [];
      const token = settings.report.githubToken;
      if (!owner || !repo || !token) {
        throw new Error(
          'baseline-store `branch` needs GITHUB_REPOSITORY and `github-token` (it runs inside GitHub Actions); outside Actions use `baseline-store: file`.',
        );
      }
      const github = createGitHubClient({ token, apiUrl: context.apiUrl, log });
      return createBranchStore({ github, owner, repo, branch: settings.baseline.branch, log });
    }
  }
}
