import { unseenDealText, fieldMessage, formRefusal } from './deal-form-messages.model';

const plain = (message: string) => message;

describe('the deal form\'s refusals, in a rep\'s words', () => {
  it('words each field\'s message without DTO property names or class-validator phrasing', () => {
    // The API's own messages, as class-validator words them.
    const refusal = formRefusal(
      {
        status: 400,
        code: 'REQUEST.VALIDATION_FAILED',
        errors: [
          { field: 'title', message: 'title must be longer than or equal to 1 characters' },
          { field: 'amount', message: 'amount must be a number from 0 to 10^15 with at most 4 decimal places' },
          { field: 'currency', message: 'currency must be an ISO 4217 code of 3 capital letters, such as EUR' },
          { field: 'ownerId', message: 'ownerId must be an id: letters, digits, ".", "_", ":", "@" or "-"' },
        ],
      },
      plain,
    );
    expect(refusal.byField).toEqual({
      title: 'Give the deal a title.',
      amount: 'Write the amount as a number from 0 to 1,000,000,000,000,000 (10^15) with at most 4 decimals: 48000.50 (or 48,000.50).',
      currency: 'Write the currency as its three-letter code, such as EUR or USD.',
      ownerId: 'Write the owner as their user name: letters, digits and . _ : @ - only, no spaces, starting with a letter or digit.',
    });
    for (const message of Object.values(refusal.byField)) expect(message).not.toMatch(/ownerId|teamId|expectedCloseDate|longer than or equal|ISO 4217/);
    expect(refusal.summary).toBe('Title, Amount, Currency and Owner need correcting.');
    expect(refusal.general).toBeNull();
  });

  it('says every bound of the amount: one past 10^15 is not told to do what it already does', () => {
    // 2,000,000,000,000,000 has no decimals and is not negative: the message must name what is wrong with it.
    for (const code of ['REQUEST.VALIDATION_FAILED', 'OPPORTUNITY.INVALID_AMOUNT']) {
      expect(fieldMessage('amount', 'amount must be a number from 0 to 10^15 with at most 4 decimal places', code)).toMatch(/from 0 to 1,000,000,000,000,000/);
    }
  });

  it('says a length limit as a limit, and a refusal by code at the field it is about', () => {
    expect(fieldMessage('ownerId', 'ownerId must be shorter than or equal to 100 characters')).toBe('Too long: at most 100 characters.');
    expect(formRefusal({ status: 422, code: 'OPPORTUNITY.UNKNOWN_TEAM', detail: 'Team "x" is not one of the process\'s teams.' }, plain)).toEqual({
      byField: { teamId: 'This process does not run for that team: choose another.' },
      general: null,
      summary: 'Team needs correcting.',
    });
    expect(formRefusal({ status: 400, code: 'OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE', detail: 'expectedCloseDate must be …' }, plain).byField).toEqual({ expectedCloseDate: 'Pick a date from the calendar, or leave it empty.' });
    expect(formRefusal({ status: 400, code: 'OPPORTUNITY.INVALID_TEXT', detail: 'title holds …', field: 'title' }, plain).byField.title).toMatch(/^The title holds a character/);
  });

  it('keeps what is about no field of the form, beside the fields\' summary, never dropping it', () => {
    const refusal = formRefusal(
      {
        status: 400,
        code: 'REQUEST.VALIDATION_FAILED',
        errors: [
          { field: 'title', message: 'title is required' },
          { field: 'expectedRevision', message: 'expectedRevision must be a whole number of at least 0 (the revision the client read)' },
        ],
      },
      plain,
    );
    // The API's words after the board's, isolated (U+2068 … U+2069): a right-to-left value they quote stays in them; the board's own wording of a failure is not.
    expect(refusal.summary).toBe('Title needs correcting. \u2068expectedRevision must be a whole number of at least 0 (the revision the client read)\u2069');
    expect(formRefusal({ status: 0, code: 'NETWORK.UNREACHABLE', detail: 'The server could not be reached; check the connection and retry.' }, plain)).toEqual({
      byField: {},
      general: 'The server could not be reached; check the connection and retry.',
      summary: 'The server could not be reached; check the connection and retry.',
    });
  });

  it('says of an Edit form whose deal the key does not find what the board says of that key, and that it cannot be saved, keeping what was typed', () => {
    expect(unseenDealText('ACME', true)).toBe('“\u2068ACME\u2069” is no longer on this board: it may have been moved to a team this key does not see. It cannot be saved with this key; what you typed stays here until the form is closed.');
    expect(unseenDealText('ACME', false)).toBe('“\u2068ACME\u2069” is no longer found: its records may have been deleted from the event store. It cannot be saved with this key; what you typed stays here until the form is closed.');
  });
});
