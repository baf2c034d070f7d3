// Loaded before the app bundle as a classic script (allowed by the CSP as 'self').
// If the UI fails to start (a script error before the app mounts), show a plain message instead
// of a blank window, and keep the errors for the end-to-end test and for support.
(function () {
  'use strict';
  var errors = (window.__doorstepBootErrors = []);
  function record(text) {
    errors.push(String(text));
  }
  window.addEventListener('error', function (e) {
    record(e.message + ' (' + e.filename + ':' + e.lineno + ')');
  });
  window.addEventListener('unhandledrejection', function (e) {
    record('unhandled rejection: ' + (e.reason && e.reason.message ? e.reason.message : e.reason));
  });
  window.addEventListener('load', function () {
    var app = document.getElementById('app');
    if (!app || app.childElementCount > 0 || errors.length === 0) return;
    var box = document.createElement('div');
    box.setAttribute('role', 'alert');
    box.style.cssText = 'font: 18px system-ui, sans-serif; padding: 2rem; max-width: 40rem';
    var h = document.createElement('h1');
    h.textContent = 'Doorstep could not start';
    var p = document.createElement('p');
    p.textContent = 'Nothing you saved is lost. Please restart the app; if this keeps happening, show this message to support: ' + errors[0];
    box.appendChild(h);
    box.appendChild(p);
    app.appendChild(box);
  });
})();
