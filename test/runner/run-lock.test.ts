import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockHolder, RunStore } from '../../src/core/runner/store';
import { sampleManifest } from '../support/sample-manifest';

async function closedRun(): Promise<string> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-lock-')), 'run');
  await (await RunStore.create(dir, sampleManifest())).close();
  return dir;
}

const lockOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'run.lock'), 'utf8')) as Record<string, unknown>;
const writeLock = (dir: string, lock: Record<string, unknown>) => writeFileSync(path.join(dir, 'run.lock'), JSON.stringify(lock));
const linux = existsSync('/proc/self/stat');

describe('run lock', () => {
  it('names its holder by pid, start time, boot and host, and is never empty while it exists', async () => {
    const dir = await closedRun();
    const { store } = await RunStore.open(dir);
    const lock = lockOf(dir);
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
    expect(typeof lock.token).toBe('string');
    expect(typeof lock.start).toBe('number');
    // no temp file is left beside it
    expect(readdirSync(dir).filter((n) => n.startsWith('run.lock'))).toEqual(['run.lock']);
    await store.close();
    expect(existsSync(path.join(dir, 'run.lock'))).toBe(false);
  });

  it('refuses a second open in the same process, synchronously registered: two racing opens, one wins', async () => {
    const dir = await closedRun();
    const both = await Promise.allSettled([RunStore.open(dir), RunStore.open(dir)]);
    const won = both.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(both.find((r) => r.status === 'rejected')).toMatchObject({ reason: { message: expect.stringMatching(/in use by this process/) } });
    expect(await lockHolder(dir)).toMatchObject({ pid: process.pid, here: 'this-process' });
    await (won[0] as PromiseFulfilledResult<{ store: RunStore }>).value.store.close();
    expect(await lockHolder(dir)).toBeNull();
  });

  it.runIf(linux)('takes over a lock whose pid is alive but belongs to another process (pid reused after a crash)', async () => {
    const dir = await closedRun();
    const { store } = await RunStore.open(dir);
    const mine = lockOf(dir);
    await store.close();
    // pid 1 is alive, but it did not start when this lock says its holder started
    writeLock(dir, { ...mine, pid: 1, token: 'reused-pid', start: 123 });
    expect(await lockHolder(dir)).toBeNull();
    const { store: again } = await RunStore.open(dir);
    expect(lockOf(dir).pid).toBe(process.pid);
    await again.close();
  });

  it.runIf(linux)('takes over a lock from before a reboot, even when its pid is alive now', async () => {
    const dir = await closedRun();
    writeLock(dir, { pid: 1, start: null, boot: 'an-earlier-boot', host: hostname(), token: 'before-reboot', since: '2026-01-01T00:00:00.000Z' });
    const { store } = await RunStore.open(dir);
    await store.close();
  });

  it('reports a lock held on another host with its name and how to break it', async () => {
    const dir = await closedRun();
    writeLock(dir, { pid: 4242, start: 1, boot: 'b', host: 'gpu-box-7', token: 't', since: '2026-01-01T00:00:00.000Z' });
    await expect(RunStore.open(dir)).rejects.toThrow(/in use by process 4242 on host gpu-box-7 since 2026-01-01T00:00:00.000Z; if no sclab runs there any more, delete .*run\.lock to break the lock/);
    expect(await lockHolder(dir)).toMatchObject({ pid: 4242, host: 'gpu-box-7', here: 'other-host' });
  });
});
