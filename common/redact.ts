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
