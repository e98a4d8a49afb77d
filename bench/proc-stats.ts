// What Linux says about a process and its sockets, for the peer benchmark: CPU time and memory
// from /proc/<pid>, I/O from /proc/<pid>/io, and per-socket TCP byte counters from `ss -tinp`
// (tcp_info's bytes_sent and bytes_received, payload only, no headers). Linux only.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User plus system CPU seconds the process has used so far, or null once it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may contain spaces: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

export interface Memory {
  /** Resident set now, MiB. */
  rssMiB: number;
  /** Peak resident set, MiB. */
  peakMiB: number;
}

export function memory(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Bytes passed to read and write system calls (files, sockets, pipes alike). */
export function ioChars(pid: number): { rchar: number; wchar: number } | null {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? NaN);
    return { rchar: field('rchar'), wchar: field('wchar') };
  } catch {
    return null;
  }
}

export interface SocketBytes {
  pid: number;
  sent: number;
  received: number;
}

/**
 * TCP payload bytes of every established socket owned by one of `pids` with an end on one of
 * `ports` (the transport ports, so API connections are left out), keyed by "local>remote".
 */
export function socketBytes(pids: ReadonlySet<number>, ports: ReadonlySet<number>): Map<string, SocketBytes> {
  const sockets = new Map<string, SocketBytes>();
  let output: string;
  try {
    output = execFileSync('ss', ['-tinpH', 'state', 'established'], { maxBuffer: 64 * 1024 * 1024 }).toString();
  } catch {
    return sockets;
  }
  // One record per socket: a line of addresses and owner, then indented lines of tcp_info.
  const records = output.split(/\n(?=\S)/);
  for (const record of records) {
    const head = /^\s*(?:[A-Z-]+\s+)?\d+\s+\d+\s+(\S+):(\d+)\s+(\S+):(\d+)\s+users:\(\("[^"]*",pid=(\d+)/.exec(record);
    if (!head) continue;
    const pid = Number(head[5]);
    if (!pids.has(pid) || !(ports.has(Number(head[2])) || ports.has(Number(head[4])))) continue;
    const sent = Number(/bytes_sent:(\d+)/.exec(record)?.[1] ?? 0);
    const received = Number(/bytes_received:(\d+)/.exec(record)?.[1] ?? 0);
    sockets.set(`${head[1]}:${head[2]}>${head[3]}:${head[4]}`, { pid, sent, received });
  }
  return sockets;
}

/** Bytes each pid sent and received between two `socketBytes` samples (a socket opened between them counts from 0). */
export function socketBytesBetween(before: Map<string, SocketBytes>, after: Map<string, SocketBytes>): Map<number, { sent: number; received: number }> {
  const perPid = new Map<number, { sent: number; received: number }>();
  for (const [key, now] of after) {
    const then = before.get(key);
    const total = perPid.get(now.pid) ?? { sent: 0, received: 0 };
    total.sent += now.sent - (then?.sent ?? 0);
    total.received += now.received - (then?.received ?? 0);
    perPid.set(now.pid, total);
  }
  return perPid;
}

/** Bytes the loopback interface has carried (headers included), or null. */
export function loopbackBytes(): number | null {
  try {
    return Number(readFileSync('/sys/class/net/lo/statistics/tx_bytes', 'utf8').trim());
  } catch {
    return null;
  }
}

/**
 * CPU seconds the whole machine has spent busy (every core, every process, the kernel), and the
 * part of it the hypervisor gave to other virtual machines (steal), or null.
 */
export function machineBusySeconds(): { busy: number; steal: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    // cpu user nice system idle iowait irq softirq steal ...
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / CLOCK_TICKS, steal: (steal ?? 0) / CLOCK_TICKS };
  } catch {
    return null;
  }
}
