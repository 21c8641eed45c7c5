// Generated from src-tauri/src/dto.rs and error.rs by `cargo xtask bindings`. Do not edit.
// A Rust test fails when this file is stale.

export type QueueFilter = { 
/**
 * Status words; empty means all.
 */
statuses: Array<string>, priorities: Array<string>, categories: Array<string>, emergency: boolean | null, countries: Array<string>, posts: Array<string>, 
/**
 * `"me"`, `"none"`, or an officer's name.
 */
assignee: string | null, 
/**
 * Only requests created in the last so many hours.
 */
since_hours: number | null, text: string | null, 
/**
 * Only requests created before this time (ms since the epoch): the queue held still
 * while the officer reads it.
 */
created_before_ms?: number, 
/**
 * Only requests created at or after this time (ms): what arrived since it was held.
 */
created_since_ms?: number, 
/**
 * The queue's order: `waiting` (unacknowledged SOS longest waiting first, then by
 * priority), `priority`, `newest` or `oldest`; `priority` when absent.
 */
order?: string, };

export type QueueRow = { id: string, 
/**
 * Milliseconds since the epoch, UTC.
 */
created_at: number, emergency: boolean, priority: string, status: string, category: string, channel: string, people_count: number, name: string, 
/**
 * The first characters of the description (untrusted text: render as text only).
 */
excerpt: string, 
/**
 * A place to name it by: the address, or the nearest city and country.
 */
place: string, country: string | null, assignee: string | null, 
/**
 * `synced`, `pending` or `conflict`.
 */
local_state: string, 
/**
 * Officers at other desks working on it, e.g. `Wang (desk-2)`.
 */
claimed_by: Array<string>, advisories: number, 
/**
 * The citizen's language (BCP 47), when the intake recorded one.
 */
language: string | null, 
/**
 * The citizen asks for an interpreter (the description says so).
 */
interpreter: boolean, 
/**
 * Messages from the citizen nobody at this desk has had on screen.
 */
unread: number, 
/**
 * Since when the citizen has waited for an answer (ms), if they have.
 */
waiting_since: number | null, };

export type QueuePage = { total: number, offset: number, rows: Array<QueueRow>, 
/**
 * Open emergencies in the whole store (the banner's number).
 */
open_emergencies: number, 
/**
 * False until the in-memory index is built (first seconds after start on a big store).
 */
ready: boolean, };

export type CitizenDto = { name: string, phone: string | null, 
/**
 * Masked to its last four characters: identity numbers are shown only as much as an
 * officer needs to match a document.
 */
id_document_masked: string | null, nationality: string | null, language: string | null, };

export type LocationDto = { lat: number, lon: number, accuracy_m: number | null, captured_at: number | null, address: string | null, country: string | null, 
/**
 * Captured more than the staleness limit ago: the citizen may have moved.
 */
stale: boolean, 
/**
 * IANA time zone of the place, when known (for the request's local time).
 */
time_zone: string | null, 
/**
 * The nearest city within 100 km and its province, in the officer's language
 * (`清迈 (12 km) · 清迈府`).
 */
near: string | null, };

export type AttachmentDto = { name: string, media_type: string, size_bytes: number, };

export type EventDto = { id: string, at: number, 
/**
 * `created`, `status_changed`, `assigned`, `priority_changed`, `note`, `merged`,
 * `conflict`, `rejected`, `alerted`.
 */
kind: string, actor: string | null, 
/**
 * `sync`, `desk`, `import`.
 */
origin: string, 
/**
 * Kind-specific values (from, to, text, …) as plain strings.
 */
detail: Array<[string, string]>, };

export type OutboxDto = { key: string, action: string, 
/**
 * The action's values, e.g. `[("assignee", "li")]`.
 */
values: Array<[string, string]>, 
/**
 * `pending`, `confirmed`, `conflicted`, `rejected`, `dismissed`.
 */
state: string, attempts: number, last_error: string | null, base_version: number, created_at: number, };

export type RequestDetail = { id: string, version: number, created_at: number, updated_at: number, channel: string, category: string, emergency: boolean, priority: string, status: string, 
/**
 * The statuses the officer may set from here (the protocol's legal moves; marking a
 * duplicate has its own form), the current one first.
 */
next_statuses: Array<string>, duplicate_of: string | null, people_count: number, citizen: CitizenDto, location: LocationDto | null, 
/**
 * Untrusted text: render as text only.
 */
description: string, attachments: Array<AttachmentDto>, assignee: string | null, post: string | null, local_state: string, events: Array<EventDto>, 
/**
 * Actions of this desk on this request that are not simply confirmed.
 */
outbox: Array<OutboxDto>, claimed_by: Array<string>, 
/**
 * Active advisories whose area contains the citizen's location.
 */
advisories: Array<AdvisorySummary>, };

export type ActionDto = { "action": "acknowledge" } | { "action": "assign_to_me" } | { "action": "assign", assignee: string, } | { "action": "unassign" } | { "action": "set_priority", priority: string, } | { "action": "set_status", status: string, } | { "action": "add_note", text: string, } | { "action": "mark_duplicate", of: string, } | { "action": "send_message", text: string, template?: string, };

export type AdvisorySummary = { id: number, sender: string, identifier: string, 
/**
 * `cap-1.2`, `cap-1.1`, `usgs-geojson`, `gdacs-rss`, `geojson`.
 */
source_format: string, 
/**
 * `Actual`, `Exercise`, `System`, `Test`, `Draft`.
 */
status: string, 
/**
 * `active`, `superseded`, `cancelled`, `expired`.
 */
state: string, severity: string, urgency: string, certainty: string, event: string, headline: string | null, description: string | null, instruction: string | null, language: string, languages: Array<string>, sent: number, expires: number | null, area_desc: Array<string>, 
/**
 * `[west, south, east, north]` of all its shapes, for zooming to it.
 */
bounds: [number, number, number, number] | null, };

export type AdvisoryDetail = { advisory: AdvisorySummary, 
/**
 * Requests located inside its areas (open ones first), at most 500.
 */
requests: Array<QueueRow>, requests_total: number, };

export type Viewport = { west: number, south: number, east: number, north: number, zoom: number, };

export type SourceHealth = { source: string, 
/**
 * `hub` or `feed`.
 */
kind: string, 
/**
 * `connected`, `polling`, `reconnecting`, `offline`.
 */
connection: string, last_success: number | null, last_error: string | null, consecutive_failures: number, lag_ms: number | null, };

export type SyncHealth = { 
/**
 * No hub is configured: the desk works from local data only.
 */
standalone: boolean, sources: Array<SourceHealth>, outbox_pending: number, outbox_conflicted: number, outbox_rejected: number, quarantined: number, 
/**
 * The desk holds exercise data (a drill): the UI shows a permanent EXERCISE band.
 */
exercise: boolean, 
/**
 * The signed-in officer's name, as the hub knows it (once it has answered).
 */
signed_in: string | null, 
/**
 * Why the hub ended this desk's session (revoked, expired): sign in again.
 */
session_ended: string | null, 
/**
 * No officer is signed in to the hub (none yet, or the session ended): the window
 * offers the sign-in.
 */
needs_sign_in: boolean, 
/**
 * The window is locked: citizens' data stays hidden until the password unlocks it.
 */
locked: boolean, 
/**
 * An officer's password can unlock this desk offline (so it may lock when idle).
 */
can_lock: boolean, 
/**
 * Seconds without input before the window locks (0: never).
 */
lock_after_s: number, };

export type Bucket = { start: number, count: number, emergencies: number, };

export type Counts = { total: number, open_emergencies: number, by_status: Array<[string, number]>, by_category: Array<[string, number]>, by_country: Array<[string, number]>, };

export type AppInfo = { version: string, desk: string, officer: string, hub: string | null, 
/**
 * `zh` or `en`.
 */
language: string, data_dir: string, posts: Array<string>, countries: Array<string>, };

export type RequestsChanged = { ids: Array<string>, 
/**
 * `pull`, `stream`, `outbox`, `desk`, `import`.
 */
origin: string, };

export type AlertEvent = { 
/**
 * `alert`, `escalation`, `summary`, `advisory`, `test`.
 */
kind: string, request_id: string | null, 
/**
 * In both languages: the banner keeps showing the latest alert after the officer
 * switches language (the notification itself went out in the desk's language then).
 */
title: InBothLanguages, body: InBothLanguages, level: number, at: number, };

export type InBothLanguages = { en: string, zh: string, };

export type AlarmState = { active: boolean, 
/**
 * The highest escalation level among the unacknowledged (1 first alert).
 */
level: number, count: number, oldest_id: string | null, oldest_created_at: number | null, 
/**
 * The alarm's sound is snoozed until then (ms); the banner stays. A new emergency
 * ends the snooze.
 */
snoozed_until: number | null, 
/**
 * Who snoozed it.
 */
snoozed_by: string | null, };

export type DecisionDto = { at: number, subject: string, 
/**
 * `alerted`, `escalated`, `summarized`, `suppressed`, `delivery_failed`, `tested`.
 */
decision: string, 
/**
 * `new_emergency`, `new_critical`, `burst`, `escalation`, `severe_advisory`,
 * `outside_watch_area`, `already_alerted`, `acknowledged_elsewhere`, `quiet_hours`,
 * `not_actual`, `test`, or a delivery error.
 */
reason: string, title: string | null, level: number, };

export type NotificationHealth = { available: boolean, 
/**
 * e.g. `dunst 1.9.0 (dunst-project.org)`.
 */
server: string | null, error: string | null, checked_at: number, };

export type AlertStatus = { alarm: AlarmState, notifications: NotificationHealth, decisions: Array<DecisionDto>, quiet: boolean, escalate_after_s: number, 
/**
 * Posts and countries watched; with `watch_region`, empty means everywhere.
 */
watch: Array<string>, watch_region: Region | null, };

export type Region = { west: number, south: number, east: number, north: number, };

export type PlaceChoice = { 
/**
 * `city` or `subdivision`.
 */
kind: string, 
/**
 * The ISO 3166-2 code of the province (a city's own, or its country's code).
 */
code: string, 
/**
 * In the officer's language: `清迈 · 清迈府 · TH`, `清迈府 (TH-50)`.
 */
label: string, 
/**
 * The box the desk watches when it is picked.
 */
region: Region, };

export type StartupProblem = { 
/**
 * `keyring_unavailable`, `keyring_locked`, `key_lost`, `wrong_key`, `storage`.
 */
code: string, 
/**
 * What happened and what to do, in English (the screen has both languages by code).
 */
message: string, data_dir: string, };

export type SignInForm = { hub: string, officer: string, password: string, };

export type ExportDone = { path: string, count: number, };

export type DeskSettings = { desk: string, officer: string, 
/**
 * False when an officer is signed in: the desk acts as them.
 */
officer_editable: boolean, watch_posts: Array<string>, 
/**
 * ISO 3166-1 alpha-2 codes.
 */
watch_countries: Array<string>, escalate_after_minutes: number, quiet: boolean, 
/**
 * Notifications show the start of the description (off: category, priority, city).
 */
notification_details: boolean, 
/**
 * 0: never.
 */
lock_after_minutes: number, retention_days: number, };

export type HandoverItem = { id: string, emergency: boolean, priority: string, category: string, status: string, 
/**
 * The nearest city and the country, never the address.
 */
city: string, created_at: number, updated_at: number, assignee: string | null, };

export type Handover = { since: number, until: number, desk: string, officer: string, open: number, open_emergencies: number, by_status: Array<[string, number]>, 
/**
 * Open and not yet acknowledged: emergencies first, then oldest first.
 */
unacknowledged: Array<HandoverItem>, 
/**
 * Changed during the shift, most recent first.
 */
changed: Array<HandoverItem>, };

export type DuplicateCandidate = { row: QueueRow, 
/**
 * `same_phone`, `same_name`, `nearby_recent`.
 */
reasons: Array<string>, };

export type BulkOutcome = { 
/**
 * Changed here and queued for the hub.
 */
done: Array<string>, 
/**
 * Already as asked (e.g. already assigned to this officer): nothing queued.
 */
unchanged: Array<string>, refused: Array<BulkRefusal>, };

export type BulkRefusal = { id: string, code: ErrorCode, message: string, };

export type ClusterMembers = { 
/**
 * How many requests the cluster holds.
 */
total: number, 
/**
 * The first of them in the queue's order, at most `MAX_BULK`.
 */
ids: Array<string>, };

export type MapPackDto = { id: string, name: string, 
/**
 * `[west, south, east, north]`.
 */
bounds: Array<number>, min_zoom: number, max_zoom: number, size_bytes: number, data_date: string | null, 
/**
 * Shown on the map whenever the pack is drawn.
 */
attribution: string, layers: Array<string>, 
/**
 * Changes when the pack's file is replaced (part of its tiles' addresses).
 */
version: number, 
/**
 * The tiles' URL template for MapLibre, before `convertFileSrc`'s prefix:
 * `{id}/{z}/{x}/{y}` under the `lifeline-tiles` scheme.
 */
scheme: string, };

export type RefusedPackDto = { file: string, reason: string, };

export type MapPacksDto = { packs: Array<MapPackDto>, refused: Array<RefusedPackDto>, };

export type MessageDto = { id: string, 
/**
 * `in` (the citizen) or `out` (an officer).
 */
direction: string, 
/**
 * `text`, `location`, `image`, `voice` or `video`.
 */
kind: string, text: string, template: string | null, author: string | null, 
/**
 * `pending`, `queued`, `sent`, `delivered`, `read`, `failed`, `received`.
 */
delivery: string, failure: string | null, 
/**
 * Milliseconds since the epoch, UTC.
 */
created_at: number, 
/**
 * `[lat, lon]` of a location message.
 */
position: Array<number> | null, 
/**
 * The file of a photo, voice or video message.
 */
media: MessageMediaDto | null, };

export type MessageMediaDto = { media_type: string, size_bytes: number, name: string | null, };

export type MediaDto = { scheme: string, 
/**
 * `None`: a photo the desk could not decode (nothing to show).
 */
path: string | null, media_type: string, size_bytes: number, 
/**
 * `[lat, lon]` from the photo's EXIF: a hint, not the citizen's reported position.
 */
gps: Array<number> | null, };

export type TemplateDto = { name: string, zh: string, en: string, };

export type ThreadDto = { messages: Array<MessageDto>, };

export type ReminderArea = { advisory?: number, bbox?: Array<number>, polygon?: Array<[number, number]>, circle?: [number, number, number], };

export type ErrorCode = "not_found" | "invalid_input" | "invalid_action" | "storage" | "not_ready" | "network" | "already_sent" | "desk_locked" | "unknown_original" | "wrong_credentials" | "too_many_tries" | "account_disabled" | "forbidden" | "insecure_hub" | "internal";

export type CommandError = { code: ErrorCode, message: string, };
