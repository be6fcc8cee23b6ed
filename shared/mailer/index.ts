export {
  createSesMailer,
  emailTags,
  formatFromAddress,
  InvalidEmailError,
  isSendableAddress,
  listUnsubscribeHeaders,
  sanitizeTag,
  sendEmailCommand,
  type MailerOptions,
  type MailerStats,
  type OutgoingEmail,
  type SendFailure,
  type SendResult,
  type SendSuccess,
  type SesMailer,
  type SesSender,
} from './ses-mailer.ts';
export { classifySesError, redactEmails, type SesErrorClass, type SesErrorKind } from './errors.ts';
export { burstFor, systemClock, TokenBucket, type Clock } from './token-bucket.ts';
