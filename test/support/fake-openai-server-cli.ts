// Runs the fake OpenAI-compatible server as its own process (for tests that SIGKILL a CLI mid-run, and for the
// runner benchmark). Prints {"url": …} as one JSON line on stdout once listening; stops on SIGTERM/SIGINT.
//
//   node dist/…/fake-openai-server-cli.js --port 0 --latency 20 [--model M] [--require-key K]
//        [--no-echo] [--no-logprobs] [--no-continue] [--no-models] [--fail-every N --fail-status 503]
//        [--max-in-flight N] [--requests-per-window N --window-ms MS] [--retry-after-ms MS] [--rate-headers]
import { startFakeOpenAIServer, type FakeServerOptions } from './fake-openai-server';

export function parseFakeServerArgs(argv: string[]): FakeServerOptions {
  const opts: FakeServerOptions = {};
  let failEvery = 0;
  let failStatus = 503;
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  };
  const int = (s: string, flag: string): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer, got "${s}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    switch (flag) {
      case '--port': opts.port = int(value(i++, flag), flag); break;
      case '--latency': opts.latencyMs = int(value(i++, flag), flag); break;
      case '--model': opts.model = value(i++, flag); break;
      case '--require-key': opts.requireKey = value(i++, flag); break;
      case '--no-echo': opts.supportsEcho = false; break;
      case '--no-logprobs': opts.supportsLogprobs = false; break;
      case '--no-continue': opts.supportsContinue = false; break;
      case '--no-models': opts.supportsModels = false; break;
      case '--fail-every': failEvery = int(value(i++, flag), flag); break;
      case '--fail-status': failStatus = int(value(i++, flag), flag); break;
      case '--max-in-flight': opts.limits = { ...opts.limits, maxInFlight: int(value(i++, flag), flag) }; break;
      case '--requests-per-window': opts.limits = { ...opts.limits, requestsPerWindow: int(value(i++, flag), flag) }; break;
      case '--window-ms': opts.limits = { ...opts.limits, windowMs: int(value(i++, flag), flag) }; break;
      case '--retry-after-ms': opts.limits = { ...opts.limits, retryAfterMs: int(value(i++, flag), flag) }; break;
      case '--rate-headers': opts.limits = { ...opts.limits, headers: true }; break;
      default: throw new Error(`unknown flag ${flag}`);
    }
  }
  if (failEvery > 0) {
    // every Nth chat/completions request fails; probes and listing are left alone
    opts.faults = ({ index, path }) =>
      path !== '/v1/models' && (index + 1) % failEvery === 0 ? { kind: 'status', status: failStatus, retryAfter: '0' } : undefined;
  }
  return opts;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const server = await startFakeOpenAIServer(parseFakeServerArgs(argv));
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  const stop = (): void => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`fake-openai-server: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
