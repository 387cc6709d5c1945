/** A connection URL with any password replaced by `***`, for display and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) {
      u.password = '***';
    }
    for (const name of ['password', 'pass', 'sslpassword']) {
      if (u.searchParams.has(name)) {
        u.searchParams.set(name, '***');
      }
    }
    return u.toString();
  } catch {
    // Not a URL we can parse: hide anything between ':' and '@' that looks like credentials.
    return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
  }
}

/** Replaces every occurrence of each secret in a message by `***`. */
export function redactSecrets(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const s of secrets) {
    if (s && s.length > 0) {
      out = out.split(s).join('***');
    }
  }
  return out;
}
