// "Reconnecting…" while the real-time connection is down (not while it first connects);
// the socket retries by itself.
import { useEffect, useState } from 'react';

/** `connecting`, `up` or `down`. */
export function useConnection(socket) {
  const [status, setStatus] = useState('connecting');
  useEffect(() => {
    if (!socket) return undefined;
    const up = () => setStatus('up');
    const down = () => setStatus('down');
    setStatus(socket.connected ? 'up' : 'connecting');
    socket.on('connect', up);
    socket.on('disconnect', down);
    socket.on('connect_error', down);
    return () => {
      socket.off('connect', up);
      socket.off('disconnect', down);
      socket.off('connect_error', down);
    };
  }, [socket]);
  return status;
}

export function ConnectionBanner({ status }) {
  if (status !== 'down') return null;
  return (
    <div role="status" className="reconnecting bg-amber-100 px-3 py-1 text-center text-xs text-amber-900">
      Reconnecting… messages you write are kept and sent when the connection is back.
    </div>
  );
}
