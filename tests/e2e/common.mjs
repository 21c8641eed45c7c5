// What the end-to-end suites share: the binaries under test, where pictures go, the test
// requests, and the desks the runner starts (`ctx`).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CA_FILE, hubFetch, signIn } from './harness.mjs';

export const DESK = process.env.DESK_BIN;
export const HUB = process.env.HUB_BIN;
export const OUT = process.env.E2E_OUT ?? 'target/e2e';
mkdirSync(OUT, { recursive: true });

export const XSS = '<img src=x onerror="document.body.dataset.pwned=1"><script>document.body.dataset.pwned=2</script>';

export function assert(ok, message) {
  if (!ok) throw new Error(message);
}

export function request(i, extra = {}) {
  const passport = i % 4 === 0;
  return {
    id: `E2E-${String(i).padStart(3, '0')}`,
    channel: i % 2 ? 'app' : 'hotline',
    category: passport ? 'lost_documents' : 'crime_victim',
    emergency: i % 7 === 0,
    citizen: { name: `测试人员${i}`, phone: '+8613800138000' },
    location: { lat: 13.70 + (i % 10) * 0.01, lon: 100.45 + Math.floor(i / 10) * 0.01, accuracy_m: 30, country: 'TH' },
    description: passport ? `护照在曼谷机场丢失 passport lost #${i}` : `Robbed near the hotel #${i}`,
    post: 'Embassy Bangkok',
    ...extra,
  };
}

/** A desk on `hub`, signed in as `officer` (its password comes from the driver's
 *  environment), trusting the local CA. */
export function deskArgs(driver, hub, name, officer, extra = []) {
  return ['--data-dir', join(driver.dataDir), '--hub', hub.url, '--hub-ca', CA_FILE, '--sign-in', officer, '--desk', name, '--lang', 'zh', ...extra];
}

/** Acknowledges a request at the hub, as Zhao at another desk would. */
export async function acknowledgeAtHub(hub, id) {
  ctx.zhao ??= await signIn(hub, 'Zhao', 'desk-x');
  const current = (await hubFetch(hub, `/v1/requests/${id}`)).json;
  const res = await fetch(`${hub.url}/v1/requests/${id}/actions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.zhao}`, 'content-type': 'application/json', 'idempotency-key': `e2e-ack-${id}` },
    body: JSON.stringify({ action: 'acknowledge', base_version: current.version }),
  });
  assert(res.status === 200, `acknowledging ${id} at the hub: ${res.status} ${await res.text()}`);
}

export async function queueTotal(s) {
  const el = await s.find('[data-testid="queue-summary"]');
  return Number(await s.attribute(el, 'data-total'));
}

/** The hub and the desks of the run, set by the runner; tests share them, in order. */
export const ctx = {};
