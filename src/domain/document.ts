/** Treezor Document object and the documentTypeIds this flow produces. */
import { treezorDate } from './user.ts';

export const DOCUMENT_TYPES: Record<number, string> = {
  9: 'Identity card',
  15: 'Residence permit',
  17: 'Passport',
  26: 'Liveness result',
  34: 'Certified Liveness Result',
};

export const LIVENESS_RESULT_TYPE = 26;
export const CERTIFIED_LIVENESS_RESULT_TYPE = 34;

export function documentTypeIdForCapture(documentType: string | null): number {
  if (documentType === 'passport') return 17;
  if (documentType === 'residence_permit') return 15;
  return 9;
}

export interface StoredDocument {
  id: number;
  clientNumericId: number;
  userId: number;
  userFirstname: string;
  userLastname: string;
  documentTypeId: number;
  documentTag: string;
  documentStatus: string;
  name: string;
  fileExtension: string;
  createdAt: Date;
  modifiedAt: Date | null;
}

export function toTreezorDocument(d: StoredDocument): Record<string, unknown> {
  return {
    documentId: String(d.id),
    documentTag: d.documentTag,
    clientId: String(d.clientNumericId),
    userId: String(d.userId),
    userFirstname: d.userFirstname,
    userLastname: d.userLastname,
    name: d.name,
    documentStatus: d.documentStatus,
    documentTypeId: String(d.documentTypeId),
    documentType: DOCUMENT_TYPES[d.documentTypeId] ?? '',
    fileName: `${d.id}.${d.fileExtension}`,
    thumbfileName: '',
    temporaryUrl: '',
    temporaryUrlThumb: '',
    createdDate: treezorDate(d.createdAt),
    modifiedDate: treezorDate(d.modifiedAt),
    codeStatus: '600001',
    informationStatus: '',
    residenceId: null,
    totalRows: '1',
  };
}
