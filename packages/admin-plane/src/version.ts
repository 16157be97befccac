import { readFileSync } from 'node:fs';

/** Switchboard's version for `Server: APISIX/<version>` (§1.4), read from this package's manifest. */
export function readAdminPlaneVersion(): string {
  // Compiled to dist/src/version.js: the manifest is two levels up.
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}
