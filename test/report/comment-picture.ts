// `npm run docs:comment`: draws docs/comment.png, the README's picture of the PR comment, from the
// regression fixture in headless Chromium (the same page comment-render.test.ts checks).

import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderCommentBody } from '../../src/report/comment-body.ts';
import { commentMarker } from '../../src/report/pull-request-comment.ts';
import { renderMarkdown } from '../support/markdown-render.ts';
import { regressionReport } from './fixtures.ts';

const PICTURE = fileURLToPath(new URL('../../docs/comment.png', import.meta.url));

await mkdir(new URL('../../docs/', import.meta.url), { recursive: true });
const markdown = renderCommentBody(regressionReport(), { marker: commentMarker('api') });
const { foreignRequests } = await renderMarkdown(markdown, async () => undefined, { width: 900, screenshotPath: PICTURE });
if (foreignRequests.length) throw new Error(`the comment page tried to load ${foreignRequests.join(', ')}`);
process.stdout.write(`wrote ${PICTURE}\n`);
