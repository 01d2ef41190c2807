import { z } from 'zod';

const HTTPS_EXAMPLE = 'must be an https:// URL, e.g. https://api.entropy-data.com';

/**
 * The Data Mesh Manager API base URL. The API key travels in every request, so any remote host
 * needs `https://`; plain `http://` is only for this machine (the bundled simulator, a
 * port-forward). Other schemes (`ftp://`, `file://`) are refused at once instead of retried.
 */
export const dmmBaseUrlSchema = z
  .url({ message: HTTPS_EXAMPLE })
  .refine((url) => ['http:', 'https:', undefined].includes(protocolOf(url)), { message: HTTPS_EXAMPLE })
  .refine((url) => protocolOf(url) !== 'http:' || isLoopback(url), {
    message:
      'must use https:// for a remote host (the API key would travel in clear text); http:// is only for 127.0.0.1 or localhost',
  });

/** 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `undefined` for text that is no URL at all (z.url has said so already). */
function protocolOf(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).protocol : undefined;
}
