// Path-based navigation for the dashboard (history API; the server answers every page path
// with the same app).
import { useEffect, useState } from 'react';

export function navigate(path, { replace = false } = {}) {
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

function useLocationPart(read) {
  const [value, setValue] = useState(read);
  useEffect(() => {
    const update = () => setValue(read());
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, [read]);
  return value;
}

const readPath = () => window.location.pathname;
const readQuery = () => window.location.search;

/** The current path, without the query. */
export function usePath() {
  return useLocationPart(readPath);
}

/** The current query's parameters. */
export function useQuery() {
  return new URLSearchParams(useLocationPart(readQuery));
}
