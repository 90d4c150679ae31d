// A protocol-faithful KurrentDB test server: a @grpc/grpc-js server built from the service
// definitions generated inside @kurrent/kurrentdb-client, keeping its events in memory. It plays
// one server version at a time (KURRENTDB_DOUBLE_MODE=22.10|23.10|24.10|25.1, default the newest);
// every behaviour it claims is read from the server's source, and SERVER-BEHAVIOUR.md says where.
//
// It implements what the client uses: ServerFeatures.GetSupportedMethods (batch append is
// advertised, so appends take the client's production path Streams.BatchAppend; turn it off to
// exercise Streams.Append), BatchAppend and Append with the server's commit check, deduplication,
// deadlines, size limits and error encodings, Read of a stream and of $all (both directions,
// counts, positions, stream-name and event-type prefix or regex filters, stream-not-found as a
// message, LastStreamPosition after stream reads), Delete and Tombstone, stream metadata's $tb,
// $maxCount and $maxAge, and catch-up subscriptions to $all per version
// (start rule, checkpoints, caughtUp, live delivery with back-pressure, slow consumers).
//
// Faults a test can switch on, each something a real server or cluster does: slow indexing (an
// in-flight retry is dropped and times out), a broken connection after a write, not ready / too
// busy, a node no longer the leader (NotLeader naming itself as the leader), access denied, deleted and truncated streams, a lagging follower for reads that do not ask
// for the leader, dropped subscriptions.
//
// Facts it keeps: revisions start at 0; $all positions are increasing byte offsets with gaps,
// never 0, commit = prepare; forwards reads include the record at their start position, backwards
// $all reads and subscriptions start after it; `created` is .NET ticks since the Unix epoch as a
// decimal string; the log starts with system events (streams starting with "$").
//
// Where the real server's behaviour is undefined it is strict: reading or subscribing from a
// position inside a record is refused. It does not implement: TLS, authentication, clusters and
// gossip (one node plays leader and follower), stream metadata beyond $tb, $maxCount and $maxAge
// (ACLs, $cacheControl), link resolution, stream subscriptions, persistent subscriptions, projections, the v2 protocol.
import type * as grpcTypes from '@grpc/grpc-js';
import type { AppendReq, AppendResp, BatchAppendReq, BatchAppendResp, DeleteReq, DeleteResp, ReadReq, ReadResp, TombstoneReq, TombstoneResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb';
import { isDenied, serveAppend, serveBatchAppend, type AppendFaults } from './double-appends';
import { serveDelete } from './double-deletes';
import { DoubleLog } from './double-log';
import { failCall, readFilter, requiresLeader, RpcError, streamName } from './double-messages';
import { behaviourOf, EFFECTIVE_MAX_LOG_RECORD_SIZE, modeFromEnvironment, type DoubleMode, type ServerBehaviour } from './double-modes';
import { readAll, readStream, requestedPosition } from './double-reads';
import { runSubscription, type LiveSubscription } from './double-subscription';
import { grpc, serverFeaturesGrpc, serverFeaturesPb, streamsGrpc } from './protocol';

export interface KurrentDbDoubleOptions {
  readonly host?: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  /** Which server version to play; default KURRENTDB_DOUBLE_MODE, else the newest. */
  readonly mode?: DoubleMode;
  /** Advertise Streams.BatchAppend in ServerFeatures (default true, as every server since 21.10 does). */
  readonly advertiseBatchAppend?: boolean;
  /** The server's clock (ms since the epoch; default Date.now): events' `created`, and $maxAge. */
  readonly clock?: () => number;
}

/** What a test can make the server do; each switch returns the way to turn it off again. */
export interface KurrentDbDoubleFaults {
  /**
   * Writes take `indexMs` to be indexed: until then reads do not show them and their writer waits.
   * The server answers an append not indexed within `commitTimeoutMs` with a timeout, and drops a
   * retry of events stored but not yet indexed (which then times out too). Turning it off waits
   * for every write to be indexed.
   */
  slowIndexing(indexMs: number, commitTimeoutMs: number): () => Promise<void>;
  /** The connection breaks right after the server stores the next append, before it answers. */
  breakAfterNextWrite(): void;
  /** The next `count` appends are refused before anything is written. */
  refuseAppends(reason: 'not-ready' | 'too-busy', count: number): void;
  /**
   * The next `count` appends reach a node that is no longer the leader (an election): NotLeader
   * naming the leader's endpoint — this double's own — and nothing written.
   */
  notLeader(count: number): void;
  /**
   * The next `count` reads that ask for the leader (every read of a client preferring the leader,
   * §3) reach a node that is no longer the leader: NotLeader naming this double, nothing read.
   */
  notLeaderReads(count: number): void;
  /** Reads, appends and subscriptions touching streams with this prefix are denied. */
  denyAccess(streamPrefix: string): () => void;
  /**
   * Reads of streams with this prefix are denied while $all is still served: a user granted read
   * on $all but not on those streams, as `$$` (the streams' metadata, the $mr permission) is for
   * a user outside $admins whose ACLs do not give it. What $all holds of them is still shown.
   * (SERVER-BEHAVIOUR.md §11: a refused Read fails AccessDenied before any message; $all is authorized alone).
   */
  denyStreamReads(streamPrefix: string): () => void;
  /** Reads that do not ask for the leader are served by a follower that stops replicating now. */
  freezeFollower(): () => void;
  /** Tombstones a stream (as Streams.Tombstone does). */
  deleteStream(stream: string): void;
  /** Sets $tb on a stream: earlier revisions can no longer be read. */
  truncateBefore(stream: string, revision: number): void;
  /** Ends every live subscription with UNAVAILABLE, as a node restart or a leader change would. */
  dropSubscriptions(): number;
}

export interface KurrentDbDouble {
  /** A connection string for the client: `kurrentdb://host:port?tls=false`. */
  readonly url: string;
  readonly port: number;
  readonly mode: DoubleMode;
  readonly behaviour: ServerBehaviour;
  readonly log: DoubleLog;
  /** Calls served, by RPC, so tests can see which path the client took. */
  readonly calls: Readonly<Record<string, number>>;
  /** Reads served, by who answered them: the leader (asked for) or a follower. */
  readonly reads: Readonly<Record<'leader' | 'follower', number>>;
  /** Events written to subscribers so far: how far the server got, whether or not they were read. */
  readonly subscriptionEventsSent: number;
  readonly faults: KurrentDbDoubleFaults;
  /** Ends every live subscription with UNAVAILABLE (same as faults.dropSubscriptions). */
  dropSubscriptions(): number;
  /** Appends an event to a system stream, as the server's own stats and metadata writes do. */
  appendSystemEvent(): void;
  stop(): Promise<void>;
}

const STREAMS_SERVICE = 'event_store.client.streams.streams';
const DEFAULT_COMMIT_TIMEOUT_MS = 2000;

export async function startKurrentDbDouble(options: KurrentDbDoubleOptions = {}): Promise<KurrentDbDouble> {
  const mode = options.mode ?? modeFromEnvironment();
  const behaviour = behaviourOf(mode);
  const log = new DoubleLog(options.clock);
  const calls: Record<string, number> = {};
  const reads = { leader: 0, follower: 0 };
  const sent = { events: 0 };
  const count = (rpc: string) => (calls[rpc] = (calls[rpc] ?? 0) + 1);
  const subscriptions = new Set<LiveSubscription>();
  const host = options.host ?? '127.0.0.1';
  const appendFaults: AppendFaults = { commitTimeoutMs: DEFAULT_COMMIT_TIMEOUT_MS, refusals: [], denied: new Set(), breakAfterNextWrite: false, notLeader: { count: 0, host, port: 0 } };
  const context = { log, behaviour, faults: appendFaults };
  let systemEvents = 0;
  let notLeaderReads = 0;
  const streamReadsDenied = new Set<string>();
  const appendSystemEvent = () => {
    systemEvents += 1;
    log.appendSystem('$stats-127.0.0.1:2113', '$statsCollected', Buffer.from(JSON.stringify({ 'proc-startTime': new Date().toISOString(), n: systemEvents })));
  };
  // A fresh node's log does not start with user events.
  log.appendSystem('$$$stats-127.0.0.1:2113', '$metadata', Buffer.from('{"$maxAge":86400}'));
  appendSystemEvent();

  const dropSubscriptions = () => {
    const dropped = [...subscriptions];
    for (const subscription of dropped) subscription.drop();
    return dropped.length;
  };
  const faults: KurrentDbDoubleFaults = {
    slowIndexing(indexMs, commitTimeoutMs) {
      log.indexDelayMs = indexMs;
      appendFaults.commitTimeoutMs = commitTimeoutMs;
      return async () => {
        log.indexDelayMs = 0;
        appendFaults.commitTimeoutMs = DEFAULT_COMMIT_TIMEOUT_MS;
        await log.settled();
      };
    },
    breakAfterNextWrite: () => void (appendFaults.breakAfterNextWrite = true),
    refuseAppends: (reason, times) => void appendFaults.refusals.push(...Array.from({ length: times }, () => reason)),
    notLeader: (times) => void (appendFaults.notLeader.count += times),
    notLeaderReads: (times) => void (notLeaderReads += times),
    denyAccess(prefix) {
      appendFaults.denied.add(prefix);
      return () => appendFaults.denied.delete(prefix);
    },
    denyStreamReads(prefix) {
      streamReadsDenied.add(prefix);
      return () => streamReadsDenied.delete(prefix);
    },
    freezeFollower: () => log.freezeFollower(),
    deleteStream: (stream) => void log.deleteStream(stream, { kind: 'any' }, true),
    truncateBefore: (stream, revision) => log.truncateBefore(stream, BigInt(revision)),
    dropSubscriptions,
  };

  // The server takes no gRPC message larger than its largest record (ClusterVNodeStartup, §6.2).
  const server = new grpc.Server({ 'grpc.max_receive_message_length': EFFECTIVE_MAX_LOG_RECORD_SIZE });
  server.addService(serverFeaturesGrpc.ServerFeaturesService, {
    getSupportedMethods: (_call: grpcTypes.ServerUnaryCall<unknown, unknown>, callback: grpcTypes.sendUnaryData<unknown>) => {
      count('ServerFeatures.GetSupportedMethods');
      const methods = new serverFeaturesPb.SupportedMethods();
      methods.setEventStoreServerVersion(behaviour.version);
      const method = (name: string, features: string[] = []) => {
        const supported = new serverFeaturesPb.SupportedMethod();
        supported.setServiceName(STREAMS_SERVICE);
        supported.setMethodName(name);
        supported.setFeaturesList(features);
        return supported;
      };
      const list = [method('read', ['position', 'events']), method('append'), method('delete'), method('tombstone')];
      if (options.advertiseBatchAppend !== false) list.push(method('batchappend'));
      methods.setMethodsList(list);
      callback(null, methods);
    },
  });
  server.addService(streamsGrpc.StreamsService, {
    read: (call: grpcTypes.ServerWritableStream<ReadReq, ReadResp>) => {
      const readOptions = call.request.getOptions();
      if (!readOptions) return failCall(call, RpcError.invalidArgument('ReadReq without options'));
      if (readOptions.hasSubscription()) {
        count(readOptions.hasAll() ? 'Streams.Read (subscribe $all)' : 'Streams.Read (subscribe stream)');
        if (!readOptions.hasAll()) return failCall(call, RpcError.unimplemented('The test double subscribes to $all only'));
        if (appendFaults.denied.size > 0) return failCall(call, RpcError.accessDenied()); // reading $all needs more rights than any one stream
        const all = readOptions.getAll()!;
        let start: Parameters<typeof runSubscription>[0]['start'] = all.hasEnd() ? 'end' : 'start';
        if (all.hasPosition()) {
          const position = requestedPosition(all.getPosition()!, log);
          if (typeof position === 'string') return failCall(call, RpcError.invalidArgument(position));
          start = position;
        }
        const structuredIds = readOptions.getUuidOption()?.hasStructured() ?? false;
        return runSubscription({ call, options: readOptions, start, filter: readFilter(readOptions), structuredIds, log, behaviour, registry: subscriptions, sent });
      }
      count(readOptions.hasAll() ? 'Streams.Read ($all)' : 'Streams.Read (stream)');
      // The official client's reads ask for the leader whenever its node preference is the leader (§3).
      const view = requiresLeader(call.metadata) ? 'leader' : 'follower';
      if (view === 'leader' && notLeaderReads > 0) {
        notLeaderReads -= 1;
        return failCall(call, RpcError.notLeader(host, port));
      }
      reads[view] += 1;
      if (readOptions.hasAll()) {
        if (appendFaults.denied.size > 0) return failCall(call, RpcError.accessDenied());
        return readAll(call, readOptions, log, view);
      }
      const stream = streamName(readOptions.getStream()!.getStreamIdentifier());
      if (isDenied(appendFaults, stream) || [...streamReadsDenied].some((prefix) => stream.startsWith(prefix))) return failCall(call, RpcError.accessDenied());
      return readStream(call, readOptions, log, view);
    },
    append: (call: grpcTypes.ServerReadableStream<AppendReq, AppendResp>, callback: grpcTypes.sendUnaryData<AppendResp>) => {
      count('Streams.Append');
      serveAppend(context, call, callback);
    },
    batchAppend: (call: grpcTypes.ServerDuplexStream<BatchAppendReq, BatchAppendResp>) => {
      count('Streams.BatchAppend');
      serveBatchAppend(context, call);
    },
    delete: (call: grpcTypes.ServerUnaryCall<DeleteReq, DeleteResp>, callback: grpcTypes.sendUnaryData<DeleteResp | TombstoneResp>) => {
      count('Streams.Delete');
      serveDelete(log, false, call, callback, (stream) => isDenied(appendFaults, stream));
    },
    tombstone: (call: grpcTypes.ServerUnaryCall<TombstoneReq, TombstoneResp>, callback: grpcTypes.sendUnaryData<DeleteResp | TombstoneResp>) => {
      count('Streams.Tombstone');
      serveDelete(log, true, call, callback, (stream) => isDenied(appendFaults, stream));
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  appendFaults.notLeader.port = port;
  return {
    url: `kurrentdb://${host}:${port}?tls=false`,
    port,
    mode,
    behaviour,
    log,
    calls,
    reads,
    get subscriptionEventsSent() {
      return sent.events;
    },
    faults,
    appendSystemEvent,
    dropSubscriptions,
    stop: async () => {
      dropSubscriptions();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
    },
  };
}
