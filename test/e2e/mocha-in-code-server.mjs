// Runs the mocha suites (dist/test-vscode/index.js) inside code-server's Node extension host through the
// smoke-test driver, the way VS Code's own web integration tests do: the workbench calls
// window.codeAutomationExit(code) when the suite ends, and the suite's output arrives as console messages.
import { openWorkbench } from './browser.mjs';

export async function runMochaSuite(context, { url, port, extensionDir, testsIndex, workspace, timeoutMs = 600_000 }) {
  const page = await context.newPage();
  let exit;
  const done = new Promise((resolve) => (exit = resolve));
  await page.exposeFunction('codeAutomationExit', (code) => exit(Number(code)));
  page.on('console', (msg) => {
    const text = msg.text();
    // the extension host's console output is forwarded with a prefix; keep the suite's lines readable
    if (/passing|failing|pending|✔|✓|\d+\)|Error|AssertionError|activation:|^\s{2,}/.test(text) || msg.type() === 'error') {
      process.stdout.write(`${text.replace(/^%c\[Extension Host\] %c|color: [^ ]+ ?/g, '')}\n`);
    }
  });
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(extensionDir)],
    ['extensionTestsPath', remote(testsIndex)],
  ];
  await openWorkbench(page, `${url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const timer = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
  const code = await Promise.race([done, timer]);
  await page.close().catch(() => undefined);
  if (code === 'timeout') throw new Error(`the mocha suite did not finish within ${timeoutMs / 1000} s`);
  return code;
}
