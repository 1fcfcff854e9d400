import {randomBytes} from 'node:crypto';
import {promises as fsp} from 'node:fs';
import os from 'node:os';

/** The content of a lock file or in-use marker: who holds it, and a token only the holder knows. */
export type LockOwner = {pid: number; host: string; startedAt: string; token: string};

// Tokens this process created, so a lock naming our pid but an unknown token is recognised as
// left behind by an earlier process that had the same pid.
const ownTokens = new Set<string>();

export const newLockOwner = (): LockOwner => {
	const owner = {pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token: randomBytes(12).toString('hex')};
	ownTokens.add(owner.token);
	return owner;
};

export const forgetLockOwner = (owner: LockOwner): void => {
	ownTokens.delete(owner.token);
};

const isLockOwner = (value: unknown): value is LockOwner => {
	const v = value as Partial<LockOwner> | null;
	return !!v && typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.startedAt === 'string' && typeof v.token === 'string';
};

/** The owner recorded in a lock file, or null when the file is empty or not an owner record. */
export const parseLockOwner = (text: string): LockOwner | null => {
	try {
		const value: unknown = JSON.parse(text);
		return isLockOwner(value) ? value : null;
	} catch {
		return null;
	}
};

/** Whether a process with this pid exists on this machine. EPERM means it exists under another user. */
export const isPidAlive = (pid: number): boolean => {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
};

/**
 * Why a lock (or marker) no longer protects anything, or null while it does. A lock is stale when
 * its holder stopped refreshing it for longer than `staleMs` (the holder touches it every few
 * seconds, so this catches holders that died on other hosts or hang), or at once when the holder
 * was on this host and its pid is gone. A file without an owner record is someone's lock between
 * its creation and its first write; only its age can make it stale.
 */
export const staleReason = (owner: LockOwner | null, mtimeMs: number, staleMs: number, now = Date.now()): string | null => {
	const idleMs = now - mtimeMs;
	if (idleMs > staleMs) return `not refreshed for ${(idleMs / 1000).toFixed(0)} s (limit ${(staleMs / 1000).toFixed(0)} s)`;
	if (owner && owner.host === os.hostname()) {
		if (!isPidAlive(owner.pid)) return `its process ${owner.pid} on this host has exited`;
		if (owner.pid === process.pid && !ownTokens.has(owner.token)) return `it was left by an earlier process with this process's pid ${owner.pid}`;
	}
	return null;
};

/**
 * Touches `file` every `intervalMs` while it is still the same file (same inode), so waiters see
 * a live holder. Calls `onLost` once if the file was removed or replaced. Unref'd: it never keeps
 * the process alive.
 */
export const startHeartbeat = (file: string, ino: number, intervalMs: number, onLost: () => void): (() => void) => {
	let stopped = false;
	const beat = async () => {
		try {
			const stat = await fsp.stat(file);
			if (stat.ino !== ino) throw Object.assign(new Error('replaced'), {code: 'REPLACED'});
			const now = new Date();
			await fsp.utimes(file, now, now);
		} catch {
			if (!stopped) {
				stopped = true;
				clearInterval(timer);
				onLost();
			}
		}
	};
	const timer = setInterval(() => void beat(), intervalMs);
	timer.unref();
	return () => {
		stopped = true;
		clearInterval(timer);
	};
};
