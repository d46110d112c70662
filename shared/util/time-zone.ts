/**
 * The time-zone rule shared by the deployment settings (lib/config.ts) and the report's
 * environment (shared/report/config.ts): an IANA zone that Intl knows, the same tz database the
 * renderers and the schedules' display use.
 */

/** What a time zone must be, phrased to follow the setting's name. */
export const TIME_ZONE_RULE = 'must be an IANA time zone such as "UTC" or "Europe/Berlin"';

/** True when Intl knows the IANA zone. */
export function isValidTimeZone(zone: string): boolean {
  if (!zone.trim()) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
