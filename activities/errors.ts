import { ApplicationFailure } from '@temporalio/common';

/**
 * Failure types an operator sees in the Web UI. The non-retryable ones mean "a person
 * has to change something": retrying would fail the same way.
 */
export const FailureType = {
  Config: 'ConfigError',
  Schema: 'SchemaError',
  SourceTableMissing: 'SourceTableMissing',
  Verification: 'RowCountMismatch',
  InvalidValues: 'UnrepresentableValues',
  SchemaDrift: 'SchemaDrift',
} as const;

export const NON_RETRYABLE_TYPES: string[] = Object.values(FailureType);

/** Failure types of faults around the sync that a later attempt may get past. */
export const TransientFailureType = {
  SourceConnectionLost: 'SourceConnectionLost',
  BigQueryUnreachable: 'BigQueryUnreachable',
} as const;

export function configFailure(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FailureType.Config);
}

export function schemaFailure(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FailureType.Schema);
}

/** Keeps a secret out of an error message that a driver built from the connection string. */
export function redact(message: string, secret: string): string {
  let out = message.split(secret).join('<redacted>');
  try {
    const password = decodeURIComponent(new URL(secret).password);
    if (password) out = out.split(password).join('<redacted>');
  } catch {
    // not a URL: nothing more to hide
  }
  return out;
}
