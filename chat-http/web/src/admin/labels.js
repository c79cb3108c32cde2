// The workspace's labels, loaded once per dashboard and reloaded after a change, so label
// ids on conversations show as titled, coloured chips.
import { useCallback, useEffect, useState } from 'react';
import { request } from '../shared/api.js';

export function useLabels(token) {
  const [labels, setLabels] = useState([]);
  const reload = useCallback(async () => {
    try {
      const answer = await request('/api/labels', { token });
      setLabels(answer.labels);
    } catch {
      // Chips show once the next load succeeds.
    }
  }, [token]);
  useEffect(() => {
    reload();
  }, [reload]);
  return { labels, reload };
}

/** The labels among `labels` whose ids are in `ids`, in title order. */
export function labelsOf(labels, ids = []) {
  return labels.filter((label) => ids.includes(label.id));
}
