// The `/` picker's state: while the composer's text is `/` and a search (no spaces), ask
// for matches (the server ranks them) and let the keyboard move through and pick one. While
// the answer for the text as typed is on its way, Enter waits instead of sending the `/`
// command as a message; Escape closes the picker, and then Enter sends the text as it is.
import { useEffect, useRef, useState } from 'react';

/** The search typed after a leading `/`, or null when the text is not a `/` command. */
export function slashQuery(text) {
  const match = /^\/(\S*)$/.exec(text);
  return match ? match[1] : null;
}

export function useSuggestions(text, suggest) {
  const [found, setFound] = useState({ query: null, items: [] });
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(null);
  const latest = useRef(0);
  const query = suggest ? slashQuery(text) : null;

  useEffect(() => {
    if (query === null) return;
    const ticket = ++latest.current;
    suggest(query).then(
      (items) => ticket === latest.current && (setFound({ query, items }), setActive(0)),
      () => ticket === latest.current && setFound({ query, items: [] }),
    );
  }, [query, suggest]);

  const engaged = query !== null && dismissed !== text;
  const items = found.query === query ? found.items : [];
  const open = engaged && items.length > 0;
  return {
    open,
    items,
    active,
    /** Handles a key; returns the picked item for Enter/Tab, true if it consumed the key. */
    key(event) {
      if (!engaged) return false;
      if (!open) return event.key === 'Enter';
      if (event.key === 'ArrowDown') setActive((a) => (a + 1) % items.length);
      else if (event.key === 'ArrowUp') setActive((a) => (a - 1 + items.length) % items.length);
      else if (event.key === 'Escape') setDismissed(text);
      else if (event.key === 'Enter' || event.key === 'Tab') return items[active];
      else return false;
      return true;
    },
  };
}
