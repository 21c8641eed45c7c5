// A triage action on the request on screen, from a key: the same call the detail panel's
// buttons make, with the same error words.
import { failureOf } from '../ipc/backend';
import type { ActionDto } from '../ipc/bindings';
import { errorText } from '../i18n/index.svelte';
import { backend, desk, showError } from './desk.svelte';

export async function actOnShown(action: ActionDto): Promise<void> {
  const d = desk.detail;
  if (!d) return;
  try {
    const detail = await backend().act(d.id, action);
    if (desk.selectedId === d.id) desk.detail = detail;
  } catch (e) {
    showError(errorText(failureOf(e)));
  }
}
