// /etc/passwd lines, read without a native getpwuid: the caller's own name
// for the state's "owner" (what runc shows).
import * as fs from 'node:fs';

/** The name of `uid` in passwd(5) text, if listed. */
export function userName(passwd: string, uid: number): string | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length > 2 && f[2] !== '' && Number(f[2]) === uid) return f[0];
  }
  return undefined;
}

/** The caller's user name, or `#UID` when /etc/passwd does not list it. */
export function ownerName(uid: number = process.geteuid!()): string {
  let text = '';
  try {
    text = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    /* no passwd */
  }
  return userName(text, uid) ?? `#${uid}`;
}
