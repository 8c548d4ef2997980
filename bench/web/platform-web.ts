// What a browser run was measured on: the browser and its version, the cores it reports, the OS
// and device memory where exposed, and whether the page could use workers (cross-origin
// isolation) — the block users compare phones and laptops by.

import type { Platform } from '../results.js';

interface BrowserNavigator {
  userAgent: string;
  hardwareConcurrency?: number;
  deviceMemory?: number;
  platform?: string;
  userAgentData?: { platform?: string; brands?: { brand: string; version: string }[] };
}

/** 'Chrome 131', 'Firefox 133', 'Safari 18.1', else the raw user agent. */
export function browserName(userAgent: string): { name: string; version: string } {
  for (const [pattern, name] of [[/Edg\/([\d.]+)/, 'Edge'], [/Firefox\/([\d.]+)/, 'Firefox'], [/Chrom(?:e|ium)\/([\d.]+)/, 'Chromium'], [/Version\/([\d.]+).*Safari/, 'Safari']] as const) {
    const match = pattern.exec(userAgent);
    if (match) return { name, version: match[1] };
  }
  return { name: 'browser', version: userAgent };
}

export function describeBrowserPlatform(args: readonly string[], quick: boolean): Platform {
  const nav = globalThis.navigator as unknown as BrowserNavigator;
  const { name, version } = browserName(nav.userAgent);
  return {
    runtime: `browser (${name})`,
    version,
    cores: nav.hardwareConcurrency && nav.hardwareConcurrency > 0 ? nav.hardwareConcurrency : 1,
    cpu: 'not exposed to pages',
    os: nav.userAgentData?.platform || nav.platform || 'unknown',
    arch: 'not exposed to pages',
    // navigator.deviceMemory (Chromium only, rounded, capped at 8); 0 where it is not exposed.
    memory_gb: nav.deviceMemory ?? 0,
    date: new Date().toISOString(),
    args: [...args, `crossOriginIsolated=${globalThis.crossOriginIsolated === true}`, `userAgent=${nav.userAgent}`],
    quick,
  };
}
