// Memory of a process tree, read from /proc: PSS (shared pages split between processes: the
// honest total) and RSS (double-counts shared pages), summed over a process and every process it
// spawned (for Doorstep: WebKit's web and network processes).

import { readFileSync, readdirSync } from 'node:fs';

export function children(pid) {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const byParent = new Map();
  for (const p of all) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!byParent.has(ppid)) byParent.set(ppid, []);
      byParent.get(ppid).push(Number(p));
    } catch {
      /* process ended while we looked */
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(byParent.get(out[i]) ?? []));
  return out;
}

export function memoryKb(pid) {
  let pss = 0;
  let rss = 0;
  const procs = [];
  for (const p of children(pid)) {
    try {
      const text = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      const kb = (field) => Number(text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
      const comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      pss += kb('Pss');
      rss += kb('Rss');
      procs.push({ comm, pss: kb('Pss'), rss: kb('Rss') });
    } catch {
      /* gone */
    }
  }
  return { pss, rss, procs };
}

