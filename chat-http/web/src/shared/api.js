// REST calls with a bearer token: JSON in and out, uploads with progress, authorized file
// downloads. A failure becomes an ApiError carrying the server's code and message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const UNREACHABLE = 'The chat server cannot be reached. Check your connection.';

function errorFrom(status, body) {
  const error = body?.error;
  return new ApiError(status, error?.code ?? 'http_error', error?.message ?? `Request failed (${status}).`);
}

/** Calls a JSON route; resolves to the parsed answer (null for 204). */
export async function request(path, { method = 'GET', token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', UNREACHABLE);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw errorFrom(response.status, data);
  return data;
}

/** The `fileType` the server expects for a file: images it can preview, else documents. */
export function fileTypeOf(file) {
  return /^image\/(png|jpeg|gif|webp)$/.test(file.type) ? 'image' : 'document';
}

/** Uploads a file to a conversation; `onProgress` gets a fraction from 0 to 1. */
export function upload({ token, conversationId, file, onProgress }) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('conversationId', conversationId);
    form.append('fileType', fileTypeOf(file));
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/files/upload');
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(errorFrom(xhr.status, xhr.response));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', UNREACHABLE));
    xhr.send(form);
  });
}

/** Downloads an attachment with the session's token; resolves to an object URL. */
export async function blobUrl(fileUrl, token) {
  let response;
  try {
    response = await fetch(fileUrl, { headers: { Authorization: `Bearer ${token}` } });
  } catch {
    throw new ApiError(0, 'network', UNREACHABLE);
  }
  if (!response.ok) throw errorFrom(response.status, await response.json().catch(() => null));
  return URL.createObjectURL(await response.blob());
}
