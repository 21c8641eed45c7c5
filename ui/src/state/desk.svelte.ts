// The desk's UI state, shared by the components. Only this module and the components
// change it; the backend pushes events, the components refetch what they show.
import type { Backend } from '../ipc/backend';
import { emptyFilter } from '../ipc/backend';
import type { AlarmState, AlertEvent, AppInfo, MapPackDto, QueueFilter, Region, ReminderArea, RequestDetail, SyncHealth } from '../ipc/bindings';

export type Tab = 'queue' | 'advisories';

/** The queue's order: the longest-waiting unacknowledged SOS first (a duty officer's
 *  default), by priority newest first, or plainly by age. */
export type QueueOrder = 'waiting' | 'priority' | 'newest' | 'oldest';
export const QUEUE_ORDERS: QueueOrder[] = ['waiting', 'priority', 'newest', 'oldest'];

/** What a toast names a request by, put into words when shown (in the language then). */
export type Subject = { emergency: boolean; priority: string; category: string };

/** What the desk just did at the officer's hand, shown with an undo while it can be undone. */
export type LastAction =
  | { kind: 'acknowledged'; requestId: string; key: string | null; what: Subject; at: number }
  | { kind: 'withdrawn'; requestId: string; what: Subject; at: number }
  | { kind: 'too_late'; requestId: string; what: Subject; at: number }
  | { kind: 'opened'; requestId: string; what: Subject; at: number };

/** Something the map should show: an area to fit or a point to fly to. */
export type MapFocus = { bounds: [number, number, number, number] } | { lon: number; lat: number; zoom?: number };

function defaultFilter(): QueueFilter {
  return { ...emptyFilter(), statuses: ['open'] };
}

export const desk = $state({
  info: null as AppInfo | null,
  filter: defaultFilter(),
  order: 'waiting' as QueueOrder,
  selectedId: null as string | null,
  detail: null as RequestDetail | null,
  health: null as SyncHealth | null,
  tab: 'queue' as Tab,
  /** Bumped on every change of requests pushed by the backend. */
  requestsRevision: 0,
  advisoriesRevision: 0,
  /** The region packs the map draws (street maps, offline). */
  mapPacks: [] as MapPackDto[],
  claimsRevision: 0,
  indexReady: false,
  openEmergencies: 0,
  /** Emergencies nobody has acknowledged yet, oldest first (the banner's subject). */
  oldestUnacknowledged: null as { id: string; created_at: number } | null,
  focus: null as MapFocus | null,
  /** Where a citizen's photo says it was taken (EXIF), shown on the map as a hint. */
  photoHint: null as { lat: number; lon: number } | null,
  /** The officer is drawing an area on the map for a safety reminder. */
  drawing: null as 'polygon' | 'circle' | null,
  selectedAdvisory: null as number | null,
  error: null as string | null,
  /** The clock every shown age reads (the queue's and the detail's agree), ticking. */
  now: Date.now(),
  /** The shift hand-over page is open. */
  handoverOpen: false,
  /** The safety reminder form is open, for this area. */
  reminder: null as ReminderArea | null,
  /** The settings panel is open. */
  settingsOpen: false,
  /** The shortcut sheet (`?`) is open. */
  shortcutsOpen: false,
  /** The sign-in dialog is open. */
  signInOpen: false,
  /** The window is locked (idle): nothing with a citizen's data is drawn. */
  locked: false,
  lastAction: null as LastAction | null,
  alarm: null as AlarmState | null,
  lastAlert: null as AlertEvent | null,
  alertsPanelOpen: false,
  /** What the map shows now (the region the officer can choose to watch). */
  mapRegion: null as Region | null,
  /** The region this desk watches for alerts, drawn on the map. */
  watchRegion: null as Region | null,
  /** Set by the queue: moves the selection by `delta` rows. */
  moveSelection: null as ((delta: number) => void) | null,
});

let backendRef: Backend | null = null;

export function setBackend(b: Backend): void {
  backendRef = b;
}

/** The backend (set once at start by App). */
export function backend(): Backend {
  if (!backendRef) throw new Error('backend not set');
  return backendRef;
}

export function resetFilter(): void {
  desk.filter = defaultFilter();
}

/** Shows a failed command to the officer for a while. */
export function showError(message: string): void {
  // Calls refused while the window locks are expected, not news.
  if (desk.locked) return;
  desk.error = message;
  window.setTimeout(() => {
    if (desk.error === message) desk.error = null;
  }, 8000);
}

/** The index of requests became ready (its event, or an answer that says so, whichever
 *  comes first: the event can go out before the page listens). Everything that showed
 *  "still indexing" asks again. */
export function indexBecameReady(): void {
  if (desk.indexReady) return;
  desk.indexReady = true;
  desk.requestsRevision += 1;
}

/** How long the queue and the timeline wait for the map's first frame at most. */
const MAP_FIRST_MS = 1500;
let mapDrawnNow: () => void = () => {};
const mapDrawnOnce = new Promise<void>((resolve) => {
  mapDrawnNow = resolve;
  setTimeout(resolve, MAP_FIRST_MS);
});

/** The map drew its first frame with data. */
export function mapDrawn(): void {
  mapDrawnNow();
}

/** Resolves once the map's first frame with data is drawn (at most `MAP_FIRST_MS` after
 *  the page started). At start the queue and the timeline wait for it: on two cores their
 *  rows, bars and the work behind them held the map's first frame back by ~0.5 s at 10^6
 *  requests, and where the emergencies are comes first (docs/PERFORMANCE.md). */
export function afterFirstMapFrame(): Promise<void> {
  return mapDrawnOnce;
}
