import { HttpStatus } from '@nestjs/common';

/** Every error code the API returns, with its HTTP status. One place, one filter (immich style). */
export const ERROR_STATUS = {
  VALIDATION_FAILED: HttpStatus.BAD_REQUEST,
  MALFORMED_JSON: HttpStatus.BAD_REQUEST,
  MALFORMED_CSV: HttpStatus.BAD_REQUEST,
  /** An .xlsx upload that is no readable workbook: a corrupt ZIP, no worksheet, no data rows, a bad header. */
  MALFORMED_XLSX: HttpStatus.BAD_REQUEST,
  /** A password-protected (encrypted) workbook or a legacy .xls: readable only once saved as a plain .xlsx. */
  UNSUPPORTED_XLSX: HttpStatus.UNPROCESSABLE_ENTITY,
  /** ?worksheet= names no worksheet of the uploaded workbook (details.worksheets lists them). */
  WORKSHEET_NOT_FOUND: HttpStatus.UNPROCESSABLE_ENTITY,
  /** ?profile= names no import profile (details.profiles lists them). */
  UNKNOWN_IMPORT_PROFILE: HttpStatus.BAD_REQUEST,
  BATCH_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  PAYLOAD_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  UNKNOWN_TERRITORY: HttpStatus.UNPROCESSABLE_ENTITY,
  DESIGN_INFEASIBLE: HttpStatus.UNPROCESSABLE_ENTITY,
  /** few-treated (chosen) designs: the panel cannot support a synthetic counterfactual (issue 12) */
  PRE_PERIOD_TOO_SHORT: HttpStatus.UNPROCESSABLE_ENTITY,
  EMPTY_DONOR_POOL: HttpStatus.UNPROCESSABLE_ENTITY,
  TREATED_MISSING_WEEKS: HttpStatus.UNPROCESSABLE_ENTITY,
  K_EXCEEDS_POOL: HttpStatus.UNPROCESSABLE_ENTITY,
  CAP_EXCLUDES_ALL: HttpStatus.UNPROCESSABLE_ENTITY,
  SELECTION_INFEASIBLE: HttpStatus.UNPROCESSABLE_ENTITY,
  NOT_FOUND: HttpStatus.NOT_FOUND,
  PILOT_NOT_FOUND: HttpStatus.NOT_FOUND,
  REPORT_NOT_FOUND: HttpStatus.NOT_FOUND,
  BATCH_NOT_FOUND: HttpStatus.NOT_FOUND,
  IMPORT_SOURCE_NOT_FOUND: HttpStatus.NOT_FOUND,
  ASSIGNMENT_NOT_FOUND: HttpStatus.NOT_FOUND,
  PILOT_FROZEN: HttpStatus.CONFLICT,
  SEED_LOCKED: HttpStatus.CONFLICT,
  INVALID_STATE: HttpStatus.CONFLICT,
  ASSIGNMENT_STALE: HttpStatus.CONFLICT,
  ASSIGNMENT_REQUIRED: HttpStatus.CONFLICT,
  IDEMPOTENCY_CONFLICT: HttpStatus.CONFLICT,
  /** An exchange rate (pair, valid_from) already stored with another rate (rates are append-only). */
  RATE_CONFLICT: HttpStatus.CONFLICT,
  UNSUPPORTED_MEDIA_TYPE: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  JOB_NOT_FOUND: HttpStatus.NOT_FOUND,
  QUEUE_FULL: HttpStatus.TOO_MANY_REQUESTS,
  UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  SEPARATION_OF_DUTIES: HttpStatus.FORBIDDEN,
  API_KEY_NOT_FOUND: HttpStatus.NOT_FOUND,
  AMENDMENT_NOT_FOUND: HttpStatus.NOT_FOUND,
  AMENDMENT_PENDING: HttpStatus.CONFLICT,
  TERRITORY_RESERVED: HttpStatus.CONFLICT,
  RATE_LIMITED: HttpStatus.TOO_MANY_REQUESTS,
  SERVICE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  /** PostgreSQL or Redis unreachable (details.dependency); sent with a Retry-After header. */
  DEPENDENCY_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  INTERNAL_ERROR: HttpStatus.INTERNAL_SERVER_ERROR,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
