import { createRouter } from '../platform/http';
import { SITE_CSS, SITE_JS } from './assets';
import { citizenPages } from './citizen';
import { clerkPages } from './clerk';
import { resultPages } from './results';
import { sponsorPages } from './sponsor';

/** The server-rendered web front: pages, forms and their two static assets. */
export function webRoutes() {
  return createRouter()
    .get('/assets/site.css', (c) => c.body(SITE_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }))
    .get('/assets/app.js', (c) => c.body(SITE_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }))
    .route('/', sponsorPages)
    .route('/', clerkPages)
    .route('/', resultPages)
    .route('/', citizenPages);
}
