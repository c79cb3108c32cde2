// The Socket.IO connection (the design's real-time contract) and acknowledged calls on it.
import { io } from 'socket.io-client';
import { ApiError } from './api.js';

/** Connects to this server with a session token; reconnects by itself after a drop. */
export function connect(token) {
  return io({
    auth: { token },
    transports: ['websocket', 'polling'],
    reconnectionDelay: 300,
    reconnectionDelayMax: 3000,
  });
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
