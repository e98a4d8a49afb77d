// Errors as sentences a teacher understands. The peer's own errors already are sentences; the
// codes of the transport (HTTP, IPC) are turned into sentences here. Never a stack trace or a raw code.
import { HttpErrorCode } from '../../../shared/http';

/** What each transport code means to someone in a classroom. */
const TRANSPORT_SENTENCES: Record<string, string> = {
  [HttpErrorCode.unreachable]: 'Quorum on this laptop is not answering. Check that Quorum is still running, then try again.',
  TIMEOUT: 'Quorum on this laptop took too long to answer. Try again in a moment.',
  [HttpErrorCode.unauthorized]: 'This page is not allowed to use Quorum. Open the full address Quorum printed, including the part after #token=.',
  [HttpErrorCode.forbiddenOrigin]: 'This page is not allowed to use Quorum. Open Quorum from the address it printed.',
  [HttpErrorCode.unavailable]: 'Quorum on this laptop is busy or shutting down. Try again in a moment.',
  [HttpErrorCode.internal]: 'Something went wrong inside Quorum on this laptop. Try again; if it keeps happening, restart Quorum.',
  [HttpErrorCode.badResponse]: 'Quorum gave an answer this page does not understand. Reload the page; if it keeps happening, restart Quorum.',
  [HttpErrorCode.invalidParams]: 'Quorum could not accept what was entered. Check the fields and try again.',
  [HttpErrorCode.bodyTooLarge]: 'That is too much to save at once. Shorten it and try again.',
  [HttpErrorCode.badRequest]: 'This page and Quorum on this laptop did not understand each other. Reload the page and try again.',
  [HttpErrorCode.unknownMethod]: 'This page and Quorum on this laptop did not understand each other. Reload the page and try again.',
  [HttpErrorCode.methodNotAllowed]: 'This page and Quorum on this laptop did not understand each other. Reload the page and try again.',
  [HttpErrorCode.unsupportedMediaType]: 'This page and Quorum on this laptop did not understand each other. Reload the page and try again.',
  [HttpErrorCode.upgradeRequired]: 'This page and Quorum on this laptop did not understand each other. Reload the page and try again.',
};

const FALLBACK = 'Something went wrong. Try again; if it keeps happening, restart Quorum.';

/** Whether `code` says this laptop's Quorum service could not be reached at all. */
export function isUnreachable(error: unknown): boolean {
  const code = errorCode(error);
  return code === HttpErrorCode.unreachable || code === 'TIMEOUT';
}

/** The error's code, or null for an error that did not come from the API. */
export function errorCode(error: unknown): string | null {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return null;
}

/** A sentence for `error`: the peer's own sentence, or one for a transport code, never a raw code. */
export function explainError(error: unknown): string {
  const code = errorCode(error);
  if (code !== null && Object.hasOwn(TRANSPORT_SENTENCES, code)) return TRANSPORT_SENTENCES[code]!;
  const message = error instanceof Error ? error.message : typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : '';
  if (code !== null && looksLikeASentence(message)) return message;
  // Not from the API (a bug in this page): the details go to the console, the person gets a sentence.
  console.error('Quorum page error', error);
  return FALLBACK;
}

/** A capitalised sentence of reasonable length, with no programmer's notation in it. */
function looksLikeASentence(text: string): boolean {
  return text.length > 0 && text.length < 400 && /^[A-Z]/.test(text) && /[.!?)]$/.test(text.trim()) && !/[{}[\]]|\bparams\./.test(text);
}
