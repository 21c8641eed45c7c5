// Typed calls of the desk's Tauri commands. With events.ts, the only code that touches
// @tauri-apps/api. Every name here must be granted in src-tauri/capabilities/main.json
// (a Rust test checks).
import { convertFileSrc, invoke } from '@tauri-apps/api/core';
import type { Backend } from './backend';
import { tauriEvents } from './events';

function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  return invoke<T>(command, args);
}

export const tauriBackend: Backend = {
  queuePage: (filter, offset, limit) => call<import('./bindings').QueuePage>("queue_page", { filter, offset, limit }),
  requestDetail: (id) => call<import('./bindings').RequestDetail>("request_detail", { id }),
  queuePosition: (filter, id) => call<number | null>("queue_position", { filter, id }),
  duplicateCandidates: (id) => call<import('./bindings').DuplicateCandidate[]>("duplicate_candidates", { id }),
  requestIdAt: (rowid) => call<string | null>("request_id_at", { rowid }),
  counts: (filter) => call<import('./bindings').Counts>("counts", { filter }),
  timeline: (filter, hours) => call<import('./bindings').Bucket[]>("timeline", { filter, hours }),
  mapClusters: (view, filter) => call<ArrayBuffer>("map_clusters", { view, filter }),
  act: (id, action) => call<import('./bindings').RequestDetail>("act", { id, action }),
  reminderRecipients: (area) => call<number>("reminder_recipients", { area }),
  sendReminder: (area, text, template) => call<number>("send_reminder", { area, text, template: template ?? null }),
  publishReminder: (area, text) => call<void>("publish_reminder", { area, text }),
  messageTemplates: () => call<import('./bindings').TemplateDto[]>("message_templates"),
  thread: (id) => call<import('./bindings').ThreadDto>("thread", { id }),
  mapPacks: () => call<import('./bindings').MapPacksDto>("map_packs"),
  importMapPack: (path) => call<import('./bindings').MapPackDto>("import_map_pack", { path }),
  removeMapPack: (id) => call<boolean>("remove_map_pack", { id }),
  // MapLibre fills in {z}/{x}/{y}: only the scheme's prefix comes from convertFileSrc.
  packTiles: (pack) => `${convertFileSrc('', pack.scheme)}${pack.id}/{z}/{x}/{y}?v=${pack.version}`,
  openMedia: (id) => call<import('./bindings').MediaDto>("open_media", { id }),
  mediaUrl: (media) => (media.path ? convertFileSrc(media.path, media.scheme) : null),
  actOnMany: (ids, action) => call<import('./bindings').BulkOutcome>("act_on_many", { ids, action }),
  clusterMembers: (view, filter, lon, lat) => call<import('./bindings').ClusterMembers>("cluster_members", { view, filter, lon, lat }),
  dismissAction: (id, key) => call<import('./bindings').RequestDetail>("dismiss_action", { id, key }),
  withdrawAction: (id, key) => call<import('./bindings').RequestDetail>("withdraw_action", { id, key }),
  retryAction: (id, key) => call<import('./bindings').RequestDetail>("retry_action", { id, key }),
  claim: (id) => call<void>("claim", { id }),
  release: (id) => call<void>("release", { id }),
  advisories: () => call<import('./bindings').AdvisorySummary[]>("advisories"),
  advisoryDetail: (id) => call<import('./bindings').AdvisoryDetail>("advisory_detail", { id }),
  advisoryShapes: () => call<GeoJSON.FeatureCollection>("advisory_shapes"),
  syncHealth: () => call<import('./bindings').SyncHealth>("sync_health"),
  appInfo: () => call<import('./bindings').AppInfo>("app_info"),
  startupProblem: () => call<import('./bindings').StartupProblem | null>("startup_problem"),
  setLanguage: (language) => call<void>("set_language", { language }),
  alertStatus: () => call<import('./bindings').AlertStatus>("alert_status"),
  sendTestAlert: () => call<import('./bindings').NotificationHealth>("send_test_alert"),
  setWatchRegion: (region) => call<void>("set_watch_region", { region }),
  findPlaces: (query) => call<import('./bindings').PlaceChoice[]>("find_places", { query }),
  handover: (sinceMs) => call<import('./bindings').Handover>("handover", { sinceMs }),
  saveHandover: (sinceMs, notes) => call<string>("save_handover", { sinceMs, notes }),
  deskSettings: () => call<import('./bindings').DeskSettings>("desk_settings"),
  saveDeskSettings: (form) => call<import('./bindings').DeskSettings>("save_desk_settings", { form }),
  snoozeAlarm: (minutes) => call<import('./bindings').AlarmState>("snooze_alarm", { minutes }),
  signIn: (form) => call<string>("sign_in", { form }),
  signOut: () => call<void>("sign_out"),
  lockDesk: () => call<boolean>("lock_desk"),
  unlockDesk: (password) => call<void>("unlock_desk", { password }),
  exportRequests: (filter, format) => call<import('./bindings').ExportDone>("export_requests", { filter, format }),
  ...tauriEvents,
};
