import { isSclabError } from '../model/errors';
import { WIRE_ERRORS, type WireErrorCode } from './protocol';

/** An error the server answers with its own wire code and HTTP status. */
export class WireError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WireError';
  }

  get status(): number {
    return WIRE_ERRORS[this.code];
  }
}

/** Maps whatever a handler threw to the answer: SclabError codes keep their meaning, anything else is internal. */
export function toWireError(e: unknown): WireError {
  if (e instanceof WireError) return e;
  if (isSclabError(e)) {
    switch (e.code) {
      case 'bad_request':
      case 'config':
        return new WireError('bad_request', e.message);
      case 'unsupported':
        return new WireError('unsupported', e.message);
      case 'cancelled':
        return new WireError('cancelled', e.message);
      default:
        return new WireError('internal', `${e.code}: ${e.message}`);
    }
  }
  // no stack traces on the wire: they say nothing to a client and something to an attacker
  return new WireError('internal', e instanceof Error ? e.message : String(e));
}
