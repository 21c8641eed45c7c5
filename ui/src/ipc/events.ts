// Typed subscriptions to the desk's events (names match src-tauri/src/events.rs).
import { listen } from '@tauri-apps/api/event';
import type { Backend } from './backend';
import type { AlarmState, AlertEvent, RequestsChanged } from './bindings';

type EventPart = Pick<
  Backend,
  'onRequestsChanged' | 'onSyncHealth' | 'onAdvisoriesChanged' | 'onClaimsChanged' | 'onIndexReady' | 'onMapPacksChanged' | 'onAlert' | 'onAlarm'
>;

export const tauriEvents: EventPart = {
  onRequestsChanged: (f) => listen<RequestsChanged>('desk:requests-changed', (e) => f(e.payload)),
  onSyncHealth: (f) => listen('desk:sync-health', () => f()),
  onAdvisoriesChanged: (f) => listen('desk:advisories-changed', () => f()),
  onClaimsChanged: (f) => listen('desk:claims-changed', () => f()),
  onIndexReady: (f) => listen('desk:index-ready', () => f()),
  onMapPacksChanged: (f) => listen('desk:map-packs-changed', () => f()),
  onAlert: (f) => listen<AlertEvent>('desk:alert', (e) => f(e.payload)),
  onAlarm: (f) => listen<AlarmState>('desk:alarm', (e) => f(e.payload)),
};
