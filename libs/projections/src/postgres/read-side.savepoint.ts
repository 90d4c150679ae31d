import type { Client } from 'pg';

/**
 * Runs one statement of a larger transaction (a rebuild's swap) so that its refusal undoes only
 * itself: the error it was refused with, or undefined once it ran. The caller says what was not done.
 */
export async function refusalOf(client: Client, statement: string): Promise<Error | undefined> {
  await client.query('SAVEPOINT one_statement');
  try {
    await client.query(statement);
    await client.query('RELEASE SAVEPOINT one_statement');
    return undefined;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT one_statement');
    return error as Error;
  }
}
