import type { Detector } from '../core/model.js';
import { responseFinding, snippet } from './detect-response-view.js';

/** Auto-generated directory indexes of common servers. */
const LISTING: ReadonlyArray<[server: string, pattern: RegExp]> = [
  ['Apache/nginx autoindex', /<title>Index of \/[^<]{0,200}<\/title>|<h1>Index of \/[^<]{0,200}<\/h1>/i],
  ['IIS', /\[To Parent Directory\]<\/[Aa]>/],
  ['Python http.server', /<title>Directory listing for \/[^<]{0,200}<\/title>/i],
  ['Tomcat', /<title>Directory Listing For \/[^<]{0,200}<\/title>/],
  ['lighttpd', /<div class="list">\s*<table summary="Directory Listing"/i],
];

/** Directory listings served in responses (path traversal success, misconfiguration). */
export const responseDirectoryListingDetector: Detector = {
  id: 'response-directory-listing',
  inspectResponse(_exchange, ctx) {
    const { text } = ctx.response;
    if (text === '') return [];
    for (const [server, pattern] of LISTING) {
      const m = pattern.exec(text);
      if (!m) continue;
      return [
        responseFinding({
          attackType: 'leak_directory_listing',
          ruleId: 'ST-RESP-DIRLIST',
          severity: 'medium',
          confidence: 0.9,
          fragment: snippet(text, m.index, m[0].length, 0),
          reason: `${server} directory listing in the response`,
        }),
      ];
    }
    return [];
  },
};
