import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { eventStoreContract } from '../event-store.contract';
import { getKurrentDBEventStore } from './kurrentdb-event-store';

// KurrentDB keeps no index of event ids: an id is only known within its stream.
const KURRENTDB_CAPABILITIES = { eventIdsUniqueAcrossStreams: false };

describe('on the KurrentDB test double', () => {
  let double: KurrentDbDouble;
  beforeAll(async () => {
    double = await startKurrentDbDouble();
  });
  afterAll(async () => {
    await double?.stop();
  });

  eventStoreContract('KurrentDB adapter on the test double', async () => ({ store: getKurrentDBEventStore({ connectionString: double.url }) }), KURRENTDB_CAPABILITIES);
});
