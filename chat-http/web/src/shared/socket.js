// The Socket.IO connection (the design's real-time contract) and acknowledged calls on it.
import { io } from 'socket.io-client';
import { ApiError } from './api.js';

/** Handshake refusals that retrying cannot fix; anything else (`unavailable`) is retried. */
const FINAL_REFUSALS = new Set(['authentication required', 'this origin may not open a socket', 'visitor_blocked']);
const RETRY_REFUSED_MS = 2000;

/**
 * Connects to this server with a session token; reconnects by itself after a drop, after a
 * handshake refused for now (the database out of reach), and after the server closed the
 * socket (a revoked session, a blocked visitor, a stalled reader), which socket.io-client
 * would otherwise not retry: the new handshake says why, or resumes.
 */
export function connect(token) {
  const socket = io({
    auth: { token },
    transports: ['websocket', 'polling'],
    reconnectionDelay: 300,
    reconnectionDelayMax: 3000,
  });
  // `close()` calls `disconnect()`: once the app closes the socket, no retry reopens it.
  let closed = false;
  const disconnect = socket.disconnect.bind(socket);
  socket.disconnect = () => {
    closed = true;
    return disconnect();
  };
  const retry = () =>
    setTimeout(() => {
      if (!closed && !socket.connected && !socket.active) socket.connect();
    }, RETRY_REFUSED_MS);
  socket.on('connect_error', (err) => {
    if (socket.active || FINAL_REFUSALS.has(err.message)) return;
    retry();
  });
  socket.on('disconnect', (reason) => {
    if (reason === 'io server disconnect') retry();
  });
  return socket;
}

/** Emits `event` and resolves to its ack; a refusal or no answer in time rejects. */
export async function call(socket, event, payload, timeoutMs = 8000) {
  let ack;
  try {
    ack = await socket.timeout(timeoutMs).emitWithAck(event, payload);
  } catch {
    throw new ApiError(0, 'timeout', 'No answer from the chat server.');
  }
  if (ack?.error) throw new ApiError(400, ack.error.code, ack.error.message);
  return ack;
}
