import { ConfigError, parseConfig } from '../../config/load';

/** The message of the ConfigError that `text` (as the file `file`) is refused with; throws if it loads. */
export function configProblems(text: string, file = 'bqsync.yaml'): string {
  try {
    parseConfig(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}
