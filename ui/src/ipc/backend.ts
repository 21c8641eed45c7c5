// The desk's backend as the UI sees it. The Tauri implementation lives in commands.ts and
// events.ts (the only modules that import @tauri-apps/api); tests run the UI against an
// in-memory implementation of this same interface.
import type {
  ActionDto,
  AdvisoryDetail,
  AdvisorySummary,
  AlarmState,
  AlertEvent,
  AlertStatus,
  AppInfo,
  Bucket,
  BulkOutcome,
  ClusterMembers,
  Counts,
  DeskSettings,
  DuplicateCandidate,
  ExportDone,
  Handover,
  MapPackDto,
  MapPacksDto,
  MediaDto,
  NotificationHealth,
  QueueFilter,
  QueuePage,
  PlaceChoice,
  Region,
  ReminderArea,
  RequestDetail,
  RequestsChanged,
  SignInForm,
  StartupProblem,
  SyncHealth,
  TemplateDto,
  ThreadDto,
  Viewport,
} from './bindings';

export type Unlisten = () => void;

export interface Backend {
  queuePage(filter: QueueFilter, offset: number, limit: number): Promise<QueuePage>;
  requestDetail(id: string): Promise<RequestDetail>;
  requestIdAt(rowid: number): Promise<string | null>;
  /** Where `id` stands in the queue `filter` selects (null: not in it). */
  queuePosition(filter: QueueFilter, id: string): Promise<number | null>;
  /** Requests that may be the original of `id`, most alike first. */
  duplicateCandidates(id: string): Promise<DuplicateCandidate[]>;
  counts(filter: QueueFilter): Promise<Counts>;
  timeline(filter: QueueFilter, hours: number): Promise<Bucket[]>;
  mapClusters(view: Viewport, filter: QueueFilter): Promise<ArrayBuffer>;
  act(id: string, action: ActionDto): Promise<RequestDetail>;
  /** The thread with the citizen, oldest first (marks it read). */
  thread(id: string): Promise<ThreadDto>;
  /** How many citizens a reminder to `area` reaches now. */
  reminderRecipients(area: ReminderArea): Promise<number>;
  /** The same message to every citizen inside `area`; answers how many were queued. */
  sendReminder(area: ReminderArea, text: string, template?: string): Promise<number>;
  /** The same reminder published as a CAP advisory for its area (supervisors only). */
  publishReminder(area: ReminderArea, text: string): Promise<void>;
  /** The post's message templates. */
  messageTemplates(): Promise<TemplateDto[]>;
  /** The region packs the map draws, and the files it refuses with why. */
  mapPacks(): Promise<MapPacksDto>;
  /** Copies a pack (a `.pmtiles` file at `path`) into this desk's maps. */
  importMapPack(path: string): Promise<MapPackDto>;
  removeMapPack(id: string): Promise<boolean>;
  /** The tiles' URL template of a pack, for MapLibre. */
  packTiles(pack: MapPackDto): string;
  /** Makes the file of message `id` ready to show (fetched from the hub the first time). */
  openMedia(id: string): Promise<MediaDto>;
  /** Where the web view finds an opened file (null: a photo with nothing to show). */
  mediaUrl(media: MediaDto): string | null;
  /** One action on each of `ids`: each its own outbox item and audit entry. */
  actOnMany(ids: string[], action: ActionDto): Promise<BulkOutcome>;
  /** The requests of the cluster drawn nearest (`lon`, `lat`) in `view` (at most 500). */
  clusterMembers(view: Viewport, filter: QueueFilter, lon: number, lat: number): Promise<ClusterMembers>;
  dismissAction(id: string, key: string): Promise<RequestDetail>;
  /** Undo: takes back an action still in the outbox; fails with `already_sent` after. */
  withdrawAction(id: string, key: string): Promise<RequestDetail>;
  retryAction(id: string, key: string): Promise<RequestDetail>;
  claim(id: string): Promise<void>;
  release(id: string): Promise<void>;
  advisories(): Promise<AdvisorySummary[]>;
  advisoryDetail(id: number): Promise<AdvisoryDetail>;
  advisoryShapes(): Promise<GeoJSON.FeatureCollection>;
  syncHealth(): Promise<SyncHealth>;
  appInfo(): Promise<AppInfo>;
  /** Why the desk could not open its data at start (null: it did). */
  startupProblem(): Promise<StartupProblem | null>;
  setLanguage(language: string): Promise<void>;
  alertStatus(): Promise<AlertStatus>;
  sendTestAlert(): Promise<NotificationHealth>;
  setWatchRegion(region: Region | null): Promise<void>;
  /** Cities and provinces by name, in either language, to watch. */
  findPlaces(query: string): Promise<PlaceChoice[]>;
  /** Snoozes the alarm's sound for `minutes`; the next new emergency ends it. */
  snoozeAlarm(minutes: number): Promise<AlarmState>;
  deskSettings(): Promise<DeskSettings>;
  /** The hand-over of the shift that began at `sinceMs`. */
  handover(sinceMs: number): Promise<Handover>;
  /** Saves it, with the officer's notes, as an HTML file; resolves with its path. */
  saveHandover(sinceMs: number, notes: string): Promise<string>;
  saveDeskSettings(form: DeskSettings): Promise<DeskSettings>;
  /** Signs an officer in at the hub; resolves with their name. */
  signIn(form: SignInForm): Promise<string>;
  signOut(): Promise<void>;
  /** Locks the window; false when nobody could unlock it offline (so it stays open). */
  lockDesk(): Promise<boolean>;
  unlockDesk(password: string): Promise<void>;
  /** Writes what the filter selects to the downloads folder, without personal data. */
  exportRequests(filter: QueueFilter, format: 'csv' | 'geojson'): Promise<ExportDone>;

  onRequestsChanged(f: (e: RequestsChanged) => void): Promise<Unlisten>;
  onSyncHealth(f: () => void): Promise<Unlisten>;
  onAdvisoriesChanged(f: () => void): Promise<Unlisten>;
  onClaimsChanged(f: () => void): Promise<Unlisten>;
  onMapPacksChanged(f: () => void): Promise<Unlisten>;
  onIndexReady(f: () => void): Promise<Unlisten>;
  onAlert(f: (e: AlertEvent) => void): Promise<Unlisten>;
  onAlarm(f: (a: AlarmState) => void): Promise<Unlisten>;
}

/** An empty filter: everything. */
export function emptyFilter(): QueueFilter {
  return {
    statuses: [],
    priorities: [],
    categories: [],
    emergency: null,
    countries: [],
    posts: [],
    assignee: null,
    since_hours: null,
    text: null,
  };
}

/** The `{code, message}` every command rejects with. */
export interface CommandFailure {
  code: string;
  message: string;
}

export function failureOf(e: unknown): CommandFailure {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    return { code: String((e as CommandFailure).code), message: String((e as CommandFailure).message) };
  }
  return { code: 'internal', message: String(e) };
}
