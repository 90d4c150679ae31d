import { OPPORTUNITY_STREAM_PREFIX, type OpportunityEvent, type OpportunityOpened } from '@stagecraft/opportunity';
import { PROCESS_STREAM_PREFIX } from '@stagecraft/sales-process';
import { addOpportunity, changePeople, rowOf, type OpportunityTable } from './opportunity-table';
import { migrateRow, recordProcessVersion, versionOf, type CatalogVersion, type ProcessCatalog } from './process-catalog';
import { opportunityIdOf, pushInt32, requireOccurredAtMs, type Int32Column } from './projection.helpers';
import type { ProcessVersionRecorded, Projection, ProjectionEvent } from './projection.types';

/** What every read model of opportunities keeps: a row per opportunity, with its process, team and owner. */
export interface OpportunityRows {
  readonly table: OpportunityTable;
}

/** …and what one that follows stages keeps besides: the process versions, and each row's version. */
export interface VersionedOpportunityRows extends OpportunityRows {
  readonly catalog: ProcessCatalog;
  readonly version: Int32Column;
}

/** A ProcessMigrated already applied to the row's version: where it came from and the stage it continues in. */
export interface Migration {
  readonly from: CatalogVersion;
  readonly version: CatalogVersion;
  readonly stageKey: number;
}

type Handled<Event extends OpportunityEvent> = Event['type'] | ProcessVersionRecorded['type'];

export interface OpportunityProjectionSpec<Model, Event extends OpportunityEvent> {
  readonly name: string;
  /** The opportunity events the model reads (and ProcessVersionRecorded for a versioned model). */
  readonly handles: readonly Handled<Event>[];
  initial(): Model;
  accepts?(saved: unknown): boolean;
  /** A new opportunity: add the model's own columns for its row (the table's row, and a versioned model's version, are added already). */
  opened(model: Model, row: number, event: ProjectionEvent<OpportunityOpened>, version: CatalogVersion | undefined): void;
  /**
   * Any other event of an opened opportunity. A details change's team and owner are applied to the
   * table already, and a migration to a versioned model's version column (`migration` says how).
   */
  changed(model: Model, row: number, event: ProjectionEvent<Exclude<Event, OpportunityOpened>>, migration: Migration | undefined): void;
}

/**
 * The opening every read model of opportunities shares, written once: process versions go into
 * the catalog, an opening adds a row, every other event finds its row (events of an opportunity
 * never opened, or of another stream, change nothing), a details change keeps team and owner
 * current and a migration moves the row to its new version. The model's own spec does the rest.
 */
export function defineOpportunityProjection<Model extends OpportunityRows & Partial<VersionedOpportunityRows>, Event extends OpportunityEvent>(
  spec: OpportunityProjectionSpec<Model, Event>,
): Projection<Model, Event | ProcessVersionRecorded> {
  const handles = new Set<Handled<Event>>(spec.handles);
  return {
    name: spec.name,
    handles: handles as unknown as ReadonlySet<(Event | ProcessVersionRecorded)['type']>,
    canHandle: ({ type, stream }) =>
      handles.has(type as Handled<Event>) && stream.startsWith(type === 'ProcessVersionRecorded' ? PROCESS_STREAM_PREFIX : OPPORTUNITY_STREAM_PREFIX),
    initial: spec.initial,
    ...(spec.accepts ? { accepts: spec.accepts } : {}),
    evolve(model, event) {
      const { catalog, version: versions } = model;
      if (event.type === 'ProcessVersionRecorded') {
        if (catalog) recordProcessVersion(catalog, event.data);
        return model;
      }
      if (event.type === 'OpportunityOpened') {
        const opened = event as ProjectionEvent<OpportunityOpened>;
        const id = opportunityIdOf(opened);
        // Before the row is added: a model that stops on the event keeps nothing of it.
        if (id !== undefined && !model.table.indexById.has(id)) requireOccurredAtMs(opened);
        const row = addOpportunity(model.table, opened);
        if (row < 0) return model;
        const version = catalog ? versionOf(catalog, opened.data.processId, opened.data.processVersion) : undefined;
        if (versions && version) pushInt32(versions, version.code);
        spec.opened(model, row, opened, version);
        return model;
      }
      const changed = event as ProjectionEvent<Exclude<Event, OpportunityOpened>>;
      const row = rowOf(model.table, changed);
      if (row < 0) return model;
      requireOccurredAtMs(changed);
      let migration: Migration | undefined;
      if (changed.type === 'OpportunityDetailsChanged') changePeople(model.table, row, changed.data);
      else if (changed.type === 'ProcessMigrated' && catalog && versions) migration = migrateRow(catalog, versions, row, changed.data);
      spec.changed(model, row, changed, migration);
      return model;
    },
  };
}
