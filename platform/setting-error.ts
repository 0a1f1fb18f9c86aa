/**
 * A setting the person running this must fix: a payload key that is missing or malformed, a TLS
 * certificate file that cannot be read. Raised where the setting is used (connecting, sealing), its
 * message names the setting and the fix; the CLI reports it as a usage error (exit code 2).
 */
export class SettingError extends Error {
  override name = 'SettingError';
}
