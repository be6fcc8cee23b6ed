import { describe, expect, it } from 'vitest';
import { classifySesError } from '#shared/delivery/outcome.ts';

const named = (name: string, message = name) => Object.assign(new Error(message), { name });

describe('SES error classes', () => {
  it('tells throttling, recipient, account and unknown errors apart', () => {
    expect(classifySesError(named('TooManyRequestsException')).kind).toBe('throttled');
    expect(classifySesError(named('ThrottlingException')).kind).toBe('throttled');
    expect(classifySesError(named('LimitExceededException', 'Maximum sending rate exceeded.')).kind).toBe('throttled');
    expect(classifySesError(named('LimitExceededException', 'Daily message quota exceeded.')).kind).toBe('account');
    expect(classifySesError(named('SendingPausedException')).kind).toBe('account');
    expect(classifySesError(named('AccountSuspendedException')).kind).toBe('account');
    expect(classifySesError(named('MailFromDomainNotVerifiedException')).kind).toBe('account');
    expect(classifySesError(named('NotFoundException', 'Configuration set does not exist')).kind).toBe('account');
    expect(classifySesError(named('MessageRejected')).kind).toBe('recipient');
    expect(classifySesError(named('BadRequestException', 'Invalid email address')).kind).toBe('recipient');
    expect(classifySesError(Object.assign(named('SomethingNew'), { $metadata: { httpStatusCode: 400 } })).kind).toBe('recipient');
    expect(classifySesError(Object.assign(named('SomethingNew'), { $metadata: { httpStatusCode: 403 } })).kind).toBe('account');
    expect(classifySesError(Object.assign(named('InternalServiceErrorException'), { $metadata: { httpStatusCode: 500 } })).kind).toBe('unknown');
    expect(classifySesError(named('TimeoutError')).kind).toBe('unknown');
    expect(classifySesError('boom')).toEqual({ kind: 'unknown', name: 'UnknownError', message: 'boom' });
  });
});
