import { createRouter } from '../platform/http';
import { SITE_CSS, SITE_ICON, SITE_JS } from './assets';
import { citizenPages } from './citizen';
import { clerkPages } from './clerk';
import { jurisdictionPages } from './jurisdiction';
import { paperFormPages } from './paper-form';
import { resultPages } from './results';
import { sponsorPages } from './sponsor';

/** The server-rendered web front: pages, forms and their static assets. */
export function webRoutes() {
  return createRouter()
    .get('/assets/site.css', (c) => c.body(SITE_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }))
    .get('/assets/app.js', (c) => c.body(SITE_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }))
    .get('/assets/icon.svg', (c) => c.body(SITE_ICON, 200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' }))
    // Asked by browsers wherever no page named an icon (an API document opened in a tab).
    .get('/favicon.ico', (c) => c.redirect('/assets/icon.svg', 301))
    .route('/', sponsorPages)
    .route('/', clerkPages)
    .route('/', resultPages)
    .route('/', paperFormPages)
    .route('/', jurisdictionPages)
    .route('/', citizenPages);
}
