// The lock that keeps one run folder in one writer's hands. Two writers would append the same lines twice.
//
// - Creation is atomic: the lock's whole content is written to a private temp file, which is then hard-linked into
//   place; link fails when the lock exists, so a reader never sees an empty or half-written lock.
// - The lock names its holder by pid, the process's start time and boot id (so a pid reused after a crash or a
//   reboot does not look alive) and host name (a lock taken on another machine over a shared disk is never judged
//   by this machine's process table).
// - A stale lock is taken over by renaming it to a private name and checking that what was moved is the lock that
//   was judged stale. A claim file per stale lock (named by its unique token) lets only one process break it.
// - Locks held by this process are kept in a registry, so a second open in the same process is refused too.
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SclabError } from '../model/errors';

export const LOCK_FILE = 'run.lock';

export interface LockInfo {
  pid: number;
  /** the process's start: Linux clock ticks since boot (/proc/<pid>/stat), else epoch ms (approximate) */
  start: number | null;
  /** Linux boot id; a lock from an earlier boot is stale whatever its pid */
  boot: string | null;
  host: string;
  /** unique per lock: tells one lock from a later one with the same holder */
  token: string;
  since: string;
}

/** Who holds a run folder's lock: another live process here, this process, or a process on another host. */
export interface LockHolder {
  pid: number;
  host: string;
  since: string | null;
  here: 'this-process' | 'other-process' | 'other-host';
}

const held = new Map<string, string>(); // resolved run folder → token of the lock this process holds

function procStat(pid: number | 'self'): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]); // field 22 of stat(5): starttime
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function selfInfo(): LockInfo {
  return {
    pid: process.pid,
    start: procStat('self') ?? Math.round(Date.now() - process.uptime() * 1000),
    boot: bootId(),
    host: os.hostname(),
    token: randomBytes(12).toString('hex'),
    since: new Date().toISOString(),
  };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads a lock's content; a bare pid is what earlier versions wrote. Null when there is no lock or it is unreadable. */
export function parseLock(text: string): LockInfo | null {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed), start: null, boot: null, host: os.hostname(), token: `legacy:${trimmed}`, since: '' };
  try {
    const j = JSON.parse(trimmed) as Partial<LockInfo>;
    if (!Number.isInteger(j.pid) || (j.pid as number) <= 0 || typeof j.host !== 'string' || typeof j.token !== 'string') return null;
    return { pid: j.pid!, start: typeof j.start === 'number' ? j.start : null, boot: typeof j.boot === 'string' ? j.boot : null, host: j.host, token: j.token, since: typeof j.since === 'string' ? j.since : '' };
  } catch {
    return null;
  }
}

/** A lock is live when its holder may still run: on another host we cannot tell, so it is live. */
function isLive(info: LockInfo): boolean {
  if (info.host !== os.hostname()) return true;
  if (info.boot !== null && bootId() !== null && info.boot !== bootId()) return false; // the machine rebooted since
  if (!pidAlive(info.pid)) return false;
  // the pid is alive, but is it the same process? (pids are reused, most of all after a reboot)
  const now = info.start !== null && info.boot !== null ? procStat(info.pid) : null;
  return now === null || now === info.start;
}

async function readLock(file: string): Promise<{ info: LockInfo | null; text: string } | null> {
  try {
    const text = await fs.readFile(file, 'utf8');
    return { info: parseLock(text), text };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SclabError('io', `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** The live holder of a run folder's lock, or null when nobody (or only a dead process) holds it. */
export async function lockHolder(runDir: string): Promise<LockHolder | null> {
  const key = path.resolve(runDir);
  const found = await readLock(path.join(key, LOCK_FILE));
  if (held.has(key)) return { pid: process.pid, host: os.hostname(), since: found?.info?.since || null, here: 'this-process' };
  const info = found?.info;
  if (!info || !isLive(info)) return null;
  const here = info.host !== os.hostname() ? 'other-host' : info.pid === process.pid ? 'this-process' : 'other-process';
  return { pid: info.pid, host: info.host, since: info.since || null, here };
}

function inUse(runDir: string, file: string, info: LockInfo): SclabError {
  const since = info.since ? ` since ${info.since}` : '';
  if (info.host !== os.hostname()) {
    return new SclabError('io', `${runDir} is in use by process ${info.pid} on host ${info.host}${since}; if no sclab runs there any more, delete ${file} to break the lock`);
  }
  return new SclabError('io', `${runDir} is in use by process ${info.pid}${since}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the run folder's lock or throws 'io' naming the holder. Registers the folder in this process before the
 * first await, so two opens in one process cannot both pass.
 */
export async function acquireRunLock(runDir: string): Promise<void> {
  const key = path.resolve(runDir);
  if (held.has(key)) throw new SclabError('io', `${runDir} is in use by this process (pid ${process.pid})`);
  const me = selfInfo();
  held.set(key, me.token);
  try {
    await takeLock(key, runDir, me);
  } catch (err) {
    held.delete(key);
    throw err;
  }
}

async function takeLock(dir: string, shown: string, me: LockInfo): Promise<void> {
  const file = path.join(dir, LOCK_FILE);
  const tmp = `${file}.${me.token}.tmp`;
  try {
    await fs.writeFile(tmp, JSON.stringify(me) + '\n', { flag: 'wx' });
  } catch (err) {
    throw new SclabError('io', `cannot lock ${shown} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await fs.link(tmp, file);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new SclabError('io', `cannot lock ${shown} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
      const found = await readLock(file);
      if (found === null) continue; // released or broken meanwhile: try again
      if (found.info === null) {
        // not a lock this tool writes (an older version writing it this instant, or garbage): judge it by its age
        const ageMs = Date.now() - (await fs.stat(file).then((s) => s.mtimeMs, () => Date.now()));
        if (ageMs < 2000) {
          await sleep(20);
          continue;
        }
      } else if (isLive(found.info)) {
        throw inUse(shown, file, found.info);
      }
      await breakStale(file, found.info?.token ?? `unreadable:${found.text}`, found.text);
    }
    throw new SclabError('io', `cannot lock ${shown}: its lock keeps changing hands`);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/**
 * Removes the lock judged stale, and only that one: one process per stale lock wins its claim file, moves the lock
 * aside, and checks that what it moved is the stale lock (a live lock moved by mistake is linked back).
 */
async function breakStale(file: string, token: string, staleText: string): Promise<void> {
  const claim = `${file}.break-${claimName(token)}`;
  try {
    await fs.writeFile(claim, String(process.pid), { flag: 'wx' });
  } catch {
    // another process breaks this lock: look again (a claim whose breaker died mid-way is dropped after a while)
    const mtime = await fs.stat(claim).then((s) => s.mtimeMs, () => Date.now());
    if (Date.now() - mtime > CLAIM_TIMEOUT_MS) await fs.rm(claim, { force: true });
    await sleep(5);
    return;
  }
  const aside = `${file}.${randomBytes(8).toString('hex')}.stale`;
  try {
    await fs.rename(file, aside);
  } catch {
    return; // gone already
  }
  const moved = await fs.readFile(aside, 'utf8').catch(() => null);
  if (moved !== staleText) await fs.link(aside, file).catch(() => undefined); // not the stale lock: put it back
  await fs.rm(aside, { force: true });
}

function claimName(token: string): string {
  return token.replace(/[^A-Za-z0-9]/g, '').slice(0, 64) || 'x';
}

/** Gives the lock back (only if it is still this process's) and forgets it. */
export async function releaseRunLock(runDir: string): Promise<void> {
  const key = path.resolve(runDir);
  const token = held.get(key);
  if (token === undefined) return;
  const file = path.join(key, LOCK_FILE);
  const found = await readLock(file).catch(() => null);
  if (found?.info?.token === token) await fs.rm(file, { force: true });
  held.delete(key);
  await removeOldClaims(key);
}

const CLAIM_TIMEOUT_MS = 10_000;

/** Claim files are kept for a minute so a slow process cannot break the same stale lock twice; then they go. */
async function removeOldClaims(dir: string): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const cutoff = Date.now() - 60_000;
  for (const n of names) {
    if (!n.startsWith(`${LOCK_FILE}.break-`)) continue;
    const f = path.join(dir, n);
    const mtime = await fs.stat(f).then((s) => s.mtimeMs, () => Date.now());
    if (mtime < cutoff) await fs.rm(f, { force: true });
  }
}
