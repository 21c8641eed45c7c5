// Dates as officers read them: in their own time zone, with the citizen's local time on
// demand, and "how long ago" in words.
import { i18n, t } from '../i18n/index.svelte';

/** "3 min", "2 h" — how long since `ms` (epoch milliseconds) at `now`. */
export function ago(ms: number, now: number = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return t('ago', { n: s, unit: t('unitSecond') });
  if (s < 3600) return t('ago', { n: Math.floor(s / 60), unit: t('unitMinute') });
  if (s < 86400) return t('ago', { n: Math.floor(s / 3600), unit: t('unitHour') });
  return t('ago', { n: Math.floor(s / 86400), unit: t('unitDay') });
}

function locale(): string {
  return i18n.language === 'zh' ? 'zh-CN' : 'en-GB';
}

/** Date and time in the officer's time zone. */
export function officerTime(ms: number): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}

/** Time in another time zone (the citizen's), with the zone's short name. */
export function zoneTime(ms: number, timeZone: string): string {
  try {
    // timeStyle cannot be combined with timeZoneName: spell the parts out.
    return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', timeZone, timeZoneName: 'short' }).format(new Date(ms));
  } catch {
    return '';
  }
}
