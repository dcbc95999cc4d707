// The conformance suite against `sclab serve` on stories260K (in-process engine), with a token and small limits
// so the limit checks are cheap. With SCLAB_SIDECAR_URL set, it runs against that server instead.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { serveEngine } from '../../src/core/sidecar/serve-engine';
import type { SidecarServer } from '../../src/core/sidecar/server';
import { conformanceChecks } from './conformance';
import { STORIES_SPEC } from './fixtures';

const remote = process.env.SCLAB_SIDECAR_URL;
const TOKEN = remote ? process.env.SCLAB_SIDECAR_TOKEN : 'conformance-token';
let server: SidecarServer | undefined;
let suite: ReturnType<typeof conformanceChecks> | undefined;

beforeAll(async () => {
  if (!remote) server = await serveEngine({ modelSpec: STORIES_SPEC, mode: 'in-process', token: TOKEN!, limits: { maxBodyBytes: 64 * 1024, maxPromptChars: 4000 } });
  suite = conformanceChecks({ url: remote ?? server!.url, ...(TOKEN ? { token: TOKEN } : {}) });
});
afterAll(async () => {
  suite?.close();
  await server?.close();
});

describe(`sidecar conformance (${remote ?? 'sclab serve, stories260K'})`, () => {
  // the list is built before the server starts (names only); each test runs its check against the live one
  for (const { name } of conformanceChecks({ url: 'http://127.0.0.1:1', token: 'x' }).checks) {
    it(name, async () => {
      await suite!.checks.find((c) => c.name === name)!.run();
    });
  }
});
