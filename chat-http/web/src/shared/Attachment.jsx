// An attachment in a message: images as previews, documents as download buttons. Files are
// fetched with the session's token (never put in a URL) and shown from object URLs.
import { useEffect, useState } from 'react';
import { blobUrl } from './api.js';
import { fileSize } from './format.js';
import { DocumentIcon } from './icons.jsx';

function ImagePreview({ attachment, token }) {
  const [url, setUrl] = useState(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let objectUrl = null;
    let cancelled = false;
    blobUrl(attachment.fileUrl, token)
      .then((u) => (cancelled ? URL.revokeObjectURL(u) : setUrl((objectUrl = u))))
      .catch(() => setFailed(true));
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [attachment.fileUrl, token]);
  if (failed) return <span className="text-xs italic">Image unavailable: {attachment.fileName}</span>;
  if (!url) return <span className="block h-24 w-32 animate-pulse rounded bg-black/10" aria-label="Loading image" />;
  return <img src={url} alt={attachment.fileName} className="max-h-48 max-w-full rounded" />;
}

function DocumentLink({ attachment, token }) {
  const [error, setError] = useState(null);
  async function download() {
    try {
      const url = await blobUrl(attachment.fileUrl, token);
      const link = document.createElement('a');
      link.href = url;
      link.download = attachment.fileName;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e.message);
    }
  }
  return (
    <span className="block">
      <button
        type="button"
        onClick={download}
        className="inline-flex items-center gap-1 rounded border border-current/30 px-2 py-1 text-left text-sm underline"
      >
        <DocumentIcon /> {attachment.fileName}
        {attachment.fileSize ? <span className="opacity-70"> · {fileSize(attachment.fileSize)}</span> : null}
      </button>
      {error && <span role="alert" className="block text-xs">{error}</span>}
    </span>
  );
}

export function Attachment({ attachment, token }) {
  return attachment.fileType === 'image' ? (
    <ImagePreview attachment={attachment} token={token} />
  ) : (
    <DocumentLink attachment={attachment} token={token} />
  );
}
