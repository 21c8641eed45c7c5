// What the queue is filtered by, as removable labels: shown above the queue whatever the
// top bar can show (its chips scroll sideways at long officer names, in English, or with
// the offline band). Pure: the filter in, the labels and how to remove each out.
import type { QueueFilter } from '../ipc/bindings';

export type ActiveFilter = { key: string; label: string; without: QueueFilter };

type Words = {
  emergency: string;
  mine: string;
  notOpen: string;
  since: (hours: number) => string;
  category: (c: string) => string;
  country: (c: string) => string;
};

/** The filters that narrow the queue beyond its default (open requests). */
export function activeFilters(f: QueueFilter, w: Words): ActiveFilter[] {
  const out: ActiveFilter[] = [];
  if (f.text) out.push({ key: 'text', label: `“${f.text}”`, without: { ...f, text: null } });
  if (f.emergency) out.push({ key: 'emergency', label: w.emergency, without: { ...f, emergency: null } });
  if (f.assignee) out.push({ key: 'assignee', label: f.assignee === 'me' ? w.mine : f.assignee, without: { ...f, assignee: null } });
  for (const c of f.countries) out.push({ key: `country:${c}`, label: w.country(c), without: { ...f, countries: f.countries.filter((x) => x !== c) } });
  for (const p of f.posts) out.push({ key: `post:${p}`, label: p, without: { ...f, posts: f.posts.filter((x) => x !== p) } });
  for (const c of f.categories) out.push({ key: `category:${c}`, label: w.category(c), without: { ...f, categories: f.categories.filter((x) => x !== c) } });
  if (f.since_hours) out.push({ key: 'since', label: w.since(f.since_hours), without: { ...f, since_hours: null } });
  if (!f.statuses.includes('open')) out.push({ key: 'statuses', label: w.notOpen, without: { ...f, statuses: ['open'] } });
  return out;
}
