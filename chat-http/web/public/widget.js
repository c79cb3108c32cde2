/*! chat widget loader: one <script src=".../widget.js"> tag adds a launcher button and the
 * chat in an iframe (style isolation both ways: the launcher lives in a shadow root, the chat
 * in its own document). Options are data- attributes on the script tag:
 *   data-server (default: where this script came from), data-position ("right" | "left"),
 *   data-color, data-title, data-greeting, data-identifier + data-identifier-hash, and
 *   data-token (the host application's token for the signed-in visitor) and/or
 *   data-token-callback (the name of a function on window that returns a fresh token, or a
 *   promise of one: called before each token expires, when one is refused, and for the first
 *   one without data-token). The token goes to the chat's frame by postMessage, never in a URL. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__chatWidgetLoaded) return;
  window.__chatWidgetLoaded = true;

  function attr(name) {
    var value = script.getAttribute('data-' + name);
    return value === null ? null : String(value);
  }
  var server = new URL(attr('server') || script.src, window.location.href).origin;
  var left = attr('position') === 'left';
  var color = /^#[0-9a-fA-F]{3,8}$/.test(attr('color') || '') ? attr('color') : '#2563eb';
  var params = new URLSearchParams({ color: color });
  var options = { title: 'title', greeting: 'greeting', identifier: 'identifier', 'identifier-hash': 'identifierHash' };
  Object.keys(options).forEach(function (name) {
    if (attr(name)) params.set(options[name], attr(name));
  });
  var token = attr('token');
  var tokenCallback = attr('token-callback');
  if (token || tokenCallback) params.set('auth', 'host');

  var host = document.createElement('div');
  host.setAttribute('data-chat-widget', '');
  host.style.cssText = 'all: initial !important; position: fixed !important; z-index: 2147483000 !important;' +
    'bottom: 0 !important; ' + (left ? 'left' : 'right') + ': 0 !important; width: 0 !important; height: 0 !important;';
  var root = host.attachShadow({ mode: 'open' });
  var side = left ? 'left' : 'right';
  var sheet = new CSSStyleSheet();
  // A constructed sheet, not a <style> element, so that host pages with a strict CSP work.
  sheet.replaceSync(
    ':host { all: initial; }' +
    '.launcher { position: fixed; bottom: 20px; ' + side + ': 20px; width: 56px; height: 56px; border-radius: 50%;' +
    '  border: 0; margin: 0; padding: 0; cursor: pointer; background: ' + color + '; color: #fff; font: 600 24px/56px system-ui, sans-serif;' +
    '  box-shadow: 0 4px 14px rgba(0,0,0,.25); }' +
    '.launcher svg { vertical-align: middle; }' +
    '.launcher:focus-visible { outline: 3px solid #111; outline-offset: 3px; }' +
    '.badge { position: absolute; top: -4px; ' + (left ? 'left' : 'right') + ': -4px; min-width: 20px; height: 20px; padding: 0 5px;' +
    '  box-sizing: border-box; border-radius: 10px; background: #dc2626; color: #fff; font: 700 12px/20px system-ui, sans-serif; text-align: center; }' +
    '.badge[hidden] { display: none; }' +
    '.frame { position: fixed; bottom: 88px; ' + side + ': 20px; width: 370px; height: min(620px, calc(100vh - 108px));' +
    '  border: 0; margin: 0; padding: 0; border-radius: 12px; background: #fff; box-shadow: 0 8px 30px rgba(0,0,0,.25); }' +
    '.frame[hidden] { display: none; }' +
    '@media (max-width: 480px) { .frame { inset: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; } }'
  );
  root.adoptedStyleSheets = [sheet];
  root.innerHTML =
    '<iframe class="frame" title="Chat" hidden></iframe>' +
    '<button class="launcher" type="button" aria-label="Open chat" aria-expanded="false">' +
    '<svg aria-hidden="true" viewBox="0 0 24 24" width="26" height="26" fill="none" stroke="currentColor" stroke-width="2"' +
    ' stroke-linecap="round" stroke-linejoin="round"><path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/></svg>' +
    '<span class="badge" hidden></span></button>';
  var frame = root.querySelector('.frame');
  var launcher = root.querySelector('.launcher');
  var badge = root.querySelector('.badge');
  frame.src = server + '/widget?' + params.toString();

  // Hands the chat the host's token: `data-token` first (when `first`), else what the
  // callback returns, or `data-token` again without one.
  function sendToken(first) {
    var callback = tokenCallback && window[tokenCallback];
    if (tokenCallback && typeof callback !== 'function') {
      console.warn('chat widget: data-token-callback names no function on window: ' + tokenCallback);
    }
    var useAttribute = (first && token) || typeof callback !== 'function';
    new Promise(function (resolve) {
      resolve(useAttribute ? token : callback());
    }).then(function (value) {
      if (!value) return;
      token = String(value);
      frame.contentWindow.postMessage({ source: 'chat-widget-host', type: 'token', token: token }, server);
    }, function (error) {
      console.warn('chat widget: the token callback failed', error);
    });
  }

  var open = false;
  function setOpen(next) {
    open = next;
    frame.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    launcher.setAttribute('aria-label', open ? 'Close chat' : 'Open chat');
    if (window.matchMedia('(max-width: 480px)').matches) launcher.hidden = open;
    frame.contentWindow.postMessage({ source: 'chat-widget-host', type: 'open', open: open }, server);
    if (open) frame.focus();
    else launcher.focus();
  }
  launcher.addEventListener('click', function () {
    setOpen(!open);
  });
  window.addEventListener('message', function (event) {
    if (event.origin !== server || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.source !== 'chat-widget') return;
    if (data.type === 'unread') {
      var count = Number(data.count) || 0;
      badge.hidden = count === 0;
      badge.textContent = count > 9 ? '9+' : String(count);
      launcher.setAttribute('aria-label', count ? 'Open chat, ' + count + ' unread' : open ? 'Close chat' : 'Open chat');
    } else if (data.type === 'close') {
      setOpen(false);
    } else if (data.type === 'ready') {
      frame.contentWindow.postMessage({ source: 'chat-widget-host', type: 'open', open: open }, server);
      if (token || tokenCallback) sendToken(true);
    } else if (data.type === 'token' && (token || tokenCallback)) {
      sendToken(false);
    }
  });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && open) setOpen(false);
  });

  (document.body || document.documentElement).appendChild(host);
})();
