// Runs the mocha suites (dist/test-vscode/index.js) inside code-server's Node extension host through the
// smoke-test driver, the way VS Code's own web integration tests do: the workbench calls
// window.codeAutomationExit(code) when the suite ends, and the suite's output arrives as console messages.
import { openWorkbench } from './browser.mjs';

export async function runMochaSuite(context, { url, port, extensionDir, testsIndex, workspace, timeoutMs = 600_000 }) {
  const page = await context.newPage();
  let exit;
  const done = new Promise((resolve) => (exit = resolve));
  await page.exposeFunction('codeAutomationExit', (code) => exit(Number(code)));
  // the extension host's console calls arrive as format strings (%c, %s, %d) with their arguments
  let printing = Promise.resolve();
  page.on('console', (msg) => {
    printing = printing.then(async () => {
      const args = await Promise.all(msg.args().map((a) => a.jsonValue().catch(() => '')));
      const line = formatConsole(args).replace(/^\s*(INFO|ERR|WARN)\s/, '');
      if (/passing|failing|pending|✔|✘|\d+\)|Error|activation:|^\s{2,}\S/.test(line) || msg.type() === 'error') process.stdout.write(`${line}\n`);
    });
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

function formatConsole(args) {
  // like util.format, applied again to what is left while it starts with another format string
  const show = (v) => (typeof v === 'object' ? JSON.stringify(v) : String(v));
  let out = '';
  let rest = args;
  while (rest.length > 0) {
    const [head, ...tail] = rest;
    if (typeof head !== 'string' || !/%[csdifoO]/.test(head)) {
      out += `${out ? ' ' : ''}${show(head)}`;
      rest = tail;
      continue;
    }
    let i = 0;
    out += `${out ? ' ' : ''}${head.replace(/%[csdifoO]/g, (spec) => {
      const v = tail[i++];
      return spec === '%c' ? '' : show(v);
    })}`;
    rest = tail.slice(i);
  }
  return out.replace(/^\s*(INFO|ERR|WARN)\s/, '');
}
