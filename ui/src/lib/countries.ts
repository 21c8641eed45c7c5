// Country names in the officer's language, from ISO 3166-1 codes (the data the desk keeps).
import countries from 'i18n-iso-countries';
import enNames from 'i18n-iso-countries/langs/en.json';
import zhNames from 'i18n-iso-countries/langs/zh.json';

countries.registerLocale(enNames);
countries.registerLocale(zhNames);

export { countries };

/** `TR` → `土耳其` or `Türkiye`; an unknown code stays as it is. */
export function countryName(code: string, language: 'zh' | 'en'): string {
  return countries.getName(code.toUpperCase(), language, { select: 'alias' }) || countries.getName(code.toUpperCase(), language) || code;
}
