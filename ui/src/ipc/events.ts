// Typed subscriptions to the desk's events (names match src-tauri/src/events.rs).
import { listen } from '@tauri-apps/api/event';
import type { Backend } from './backend';
import type { RequestsChanged } from './bindings';

type EventPart = Pick<
  Backend,
  'onRequestsChanged' | 'onSyncHealth' | 'onAdvisoriesChanged' | 'onClaimsChanged' | 'onIndexReady'
>;

export const tauriEvents: EventPart = {
  onRequestsChanged: (f) => listen<RequestsChanged>('desk:requests-changed', (e) => f(e.payload)),
  onSyncHealth: (f) => listen('desk:sync-health', () => f()),
  onAdvisoriesChanged: (f) => listen('desk:advisories-changed', () => f()),
  onClaimsChanged: (f) => listen('desk:claims-changed', () => f()),
  onIndexReady: (f) => listen('desk:index-ready', () => f()),
};
