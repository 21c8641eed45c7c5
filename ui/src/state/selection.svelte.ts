// The requests picked for one action on all of them (the bulk bar): from the queue's check
// boxes, the `x` key, or a cluster shift-clicked on the map. Ids, not rows, so a pick
// survives the queue re-paging under it.

/** The most one bulk action takes: a larger pick is refused with "zoom in or filter". */
export const MAX_SELECTION = 500;

export const selection = $state({
  ids: [] as string[],
  /** What the last pick from the map did ("42 requests of the cluster selected"). */
  notice: null as string | null,
});

export function isSelected(id: string): boolean {
  return selection.ids.includes(id);
}

export function toggleSelected(id: string): void {
  selection.ids = isSelected(id) ? selection.ids.filter((x) => x !== id) : [...selection.ids, id].slice(0, MAX_SELECTION);
}

/** Adds `ids` to the pick; answers how many were left out by the cap. */
export function selectAll(ids: string[]): number {
  const have = new Set(selection.ids);
  const next = [...selection.ids];
  let left = 0;
  for (const id of ids) {
    if (have.has(id)) continue;
    if (next.length >= MAX_SELECTION) left += 1;
    else {
      have.add(id);
      next.push(id);
    }
  }
  selection.ids = next;
  return left;
}

export function clearSelection(ids?: string[]): void {
  if (!ids) {
    selection.ids = [];
    selection.notice = null;
  }
  else {
    const gone = new Set(ids);
    selection.ids = selection.ids.filter((x) => !gone.has(x));
  }
}
