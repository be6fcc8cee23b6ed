/**
 * Emails are matched case-insensitively and trimmed (exports.md): one normal form for the
 * exports, the client identity, the suppression list and the sender.
 */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
