// Uploading a file and describing it the way messages carry attachments.
import { upload } from './api.js';

export async function uploadAttachment({ token, conversationId, file, onProgress }) {
  const uploaded = await upload({ token, conversationId, file, onProgress });
  return {
    id: uploaded.attachmentId,
    fileName: file.name,
    fileType: uploaded.fileType,
    contentType: uploaded.contentType,
    fileSize: uploaded.fileSize,
    fileUrl: uploaded.fileUrl,
  };
}
