// The widget's options, passed by the embed loader (public/widget.js) in the iframe's URL.

const DEFAULT_COLOR = '#2563eb';

export function readOptions(search = window.location.search) {
  const params = new URLSearchParams(search);
  const color = params.get('color');
  return {
    color: /^#[0-9a-fA-F]{3,8}$/.test(color ?? '') ? color : DEFAULT_COLOR,
    title: params.get('title') || 'Chat with us',
    greeting: params.get('greeting') || 'Hi! How can we help you today?',
    identifier: params.get('identifier') || null,
    identifierHash: params.get('identifierHash') || null,
    // The host page signs the visitor in with its own token (sent by the loader).
    hostAuth: params.get('auth') === 'host',
    conversation: /^[0-9a-f-]{36}$/.test(params.get('conversation') ?? '') ? params.get('conversation') : null,
    embedded: window.parent !== window,
  };
}
