// Renders markdown the way a reader sees it on GitHub, closely enough to check a comment: marked
// (GitHub-flavoured) turns it into HTML and mermaid draws the ```mermaid blocks, in Debian's
// headless Chromium driven by playwright-core. Everything is served from node_modules by a server
// on 127.0.0.1; any request elsewhere is refused and reported.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.LOADGATE_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const MODULES = new URL('../../node_modules/', import.meta.url);
const ASSETS: Record<string, URL> = {
  '/marked.js': new URL('marked/lib/marked.umd.js', MODULES),
  '/mermaid.js': new URL('mermaid/dist/mermaid.min.js', MODULES),
};

// A plain imitation of GitHub's comment styles: enough for a faithful picture, no network fonts.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>loadgate comment</title>
<style>
  body { margin: 0; background: #fff; color: #1f2328; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
  #comment { box-sizing: border-box; width: 100%; padding: 16px 24px; }
  #comment h3 { font-size: 1.25em; margin: 8px 0 16px; }
  #comment h4 { font-size: 1em; margin: 16px 0 8px; }
  #comment table { border-collapse: collapse; margin: 0 0 16px; display: block; overflow: auto; }
  #comment th, #comment td { border: 1px solid #d1d9e0; padding: 6px 13px; }
  #comment tr:nth-child(2n) { background: #f6f8fa; }
  #comment blockquote { margin: 0 0 16px; padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
  #comment pre { background: #f6f8fa; padding: 16px; border-radius: 6px; overflow: auto; font-size: 85%; }
  #comment code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  #comment sub { color: #59636e; }
  #comment pre.mermaid { background: none; text-align: center; }
  #comment details summary { cursor: pointer; }
</style>
<script src="/marked.js"></script>
<script src="/mermaid.js"></script>
</head><body><div id="comment"></div>
<script>
  window.rendered = (async () => {
    const markdown = await (await fetch('/comment.md')).text();
    const container = document.getElementById('comment');
    container.innerHTML = marked.parse(markdown, { gfm: true });
    for (const code of container.querySelectorAll('pre > code.language-mermaid')) {
      const block = document.createElement('pre');
      block.className = 'mermaid';
      block.textContent = code.textContent;
      code.parentElement.replaceWith(block);
    }
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
    await mermaid.run({ querySelector: 'pre.mermaid' });
  })().then(() => 'ok', (error) => 'mermaid failed: ' + (error && error.message || error));
</script>
</body></html>`;

export interface RenderedMarkdown<T> {
  /** What `inspect` returned from the rendered page. */
  facts: T;
  /** Requests the page tried to send anywhere but our server (refused). */
  foreignRequests: string[];
  milliseconds: number;
}

async function serve(markdown: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const send = (type: string, body: string | Buffer) => response.writeHead(200, { 'content-type': type }).end(body);
    if (path === '/') return send('text/html; charset=utf-8', PAGE);
    if (path === '/comment.md') return send('text/markdown; charset=utf-8', markdown);
    const asset = ASSETS[path];
    if (!asset) return response.writeHead(404).end();
    readFile(asset).then(
      (body) => send('text/javascript; charset=utf-8', body),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return server;
}

/**
 * Renders `markdown`, waits for mermaid, runs `inspect` in the page, and screenshots the comment
 * to `screenshotPath` when given. Throws with what to install when Chromium cannot start.
 */
export async function renderMarkdown<T>(
  markdown: string,
  inspect: (page: Page) => Promise<T>,
  options: { width?: number; screenshotPath?: string } = {},
): Promise<RenderedMarkdown<T>> {
  const started = performance.now();
  const server = await serve(markdown);
  const profile = await mkdtemp(join(tmpdir(), 'loadgate-chromium-'));
  try {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>>;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        // The persistent context passes `profile` as --user-data-dir: a fresh one per render.
        args: CHROMIUM_ARGS,
        viewport: { width: options.width ?? 900, height: 600 },
        timeout: 30_000,
      });
    } catch (error) {
      throw new Error(
        `Chromium could not start from ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set LOADGATE_CHROMIUM to a Chromium binary. Cause: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    try {
      const foreignRequests: string[] = [];
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(`${origin}/`)) return route.continue();
        foreignRequests.push(url);
        return route.abort();
      });
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${origin}/`);
      const outcome = await page.evaluate(() => (window as unknown as { rendered: Promise<string> }).rendered);
      if (outcome !== 'ok') throw new Error(`the comment did not render: ${outcome}`);
      const facts = await inspect(page);
      if (options.screenshotPath) await page.locator('#comment').screenshot({ path: options.screenshotPath });
      return { facts, foreignRequests, milliseconds: performance.now() - started };
    } finally {
      await context.close();
    }
  } finally {
    server.close();
    server.closeAllConnections();
    await rm(profile, { recursive: true, force: true });
  }
}
