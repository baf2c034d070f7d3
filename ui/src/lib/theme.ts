// Bootstrap ships a left-to-right and a right-to-left build; exactly one is loaded, as a <link>
// to the bundled file (the CSP allows only the app's own stylesheets), so Arabic really mirrors
// (paddings, margins, form controls) instead of being patched over the LTR rules.

import ltrCss from 'bootstrap/dist/css/bootstrap.min.css?url';
import rtlCss from 'bootstrap/dist/css/bootstrap.rtl.min.css?url';

const LINK_ID = 'bootstrap-css';

export function applyDirection(dir: 'ltr' | 'rtl'): void {
  document.documentElement.dir = dir;
  let link = document.getElementById(LINK_ID) as HTMLLinkElement | null;
  if (!link) {
    link = document.createElement('link');
    link.id = LINK_ID;
    link.rel = 'stylesheet';
    // Before every other stylesheet, so Form.io's and Doorstep's rules still win.
    document.head.prepend(link);
  }
  const href = dir === 'rtl' ? rtlCss : ltrCss;
  if (link.getAttribute('href') !== href) link.setAttribute('href', href);
}
