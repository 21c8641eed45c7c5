// Every string the desk shows, in Simplified Chinese (`zh.ts`) and English (`en.ts`).
import { en, type MessageKey } from './en';
import { zh } from './zh';

export type { MessageKey };

export type Language = 'zh' | 'en';

export const messages: Record<Language, Record<MessageKey, string>> = { en, zh };
