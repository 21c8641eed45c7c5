// The interface language, switchable at run time, and the one function that looks up text.
import { type Language, type MessageKey, messages } from './messages';

export type { Language, MessageKey };

export const i18n = $state({ language: 'zh' as Language });

/** The text for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: MessageKey, values: Record<string, string | number> = {}): string {
  const template = messages[i18n.language][key] ?? messages.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}

/** A vocabulary word (`status.new`, `category.medical`…), falling back to the word itself. */
export function word(kind: 'status' | 'priority' | 'category' | 'channel' | 'severity' | 'action' | 'delivery', value: string): string {
  const key = `${kind}.${value}` as MessageKey;
  return key in messages.en ? t(key) : value;
}

/** A failure as the officer reads it: a sentence in their language for each error code the
 *  desk answers with; the backend's own words (English, for logs) only for an unknown code. */
export function errorText(failure: { code: string; message: string }): string {
  const key = `error.${failure.code}` as MessageKey;
  return key in messages.en ? t(key) : failure.message;
}

export function setLanguage(language: Language): void {
  i18n.language = language;
  document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
}
